import Testing
@testable import E2EE

@Suite("Wire format parsing")
struct WireTests {
    func sample() throws -> (bundle: PreKeyBundle, preKey: [UInt8], ratchet: [UInt8]) {
        var p = try Pair()
        let preKey = try p.alice.encrypt(Array("second".utf8))
        let ratchet = try p.bob.encrypt(Array("reply".utf8))
        var account = Account()
        account.generateOneTimePreKeys(count: 1)
        return (account.publishBundle(), preKey, ratchet)
    }

    @Test func bundleRoundTripAndLayout() throws {
        let (bundle, _, _) = try sample()
        let bytes = bundle.serialized
        #expect(bytes.count == 2 + 32 + 4 + 32 + 64 + 4 + 32)
        #expect(bytes[0] == 0x01 && bytes[1] == 0x01)
        #expect(try PreKeyBundle(serialized: bytes) == bundle)
        #expect(bundle.verifySignatures())
        let noOTK = PreKeyBundle(identityKey: bundle.identityKey, signedPreKeyID: bundle.signedPreKeyID,
                                 signedPreKey: bundle.signedPreKey, signedPreKeySignature: bundle.signedPreKeySignature)
        #expect(noOTK.serialized.count == 134 && noOTK.serialized[1] == 0)
        #expect(try PreKeyBundle(serialized: noOTK.serialized) == noOTK)
    }

    @Test func bundleRejections() throws {
        let bytes = try sample().bundle.serialized
        for n in 0..<bytes.count {
            #expect(throws: WireError.self) { try PreKeyBundle(serialized: Array(bytes.prefix(n))) }
        }
        #expect(throws: WireError.trailingBytes(count: 1)) { try PreKeyBundle(serialized: bytes + [0]) }
        var v = bytes; v[0] = 2
        #expect(throws: WireError.unknownVersion(2)) { try PreKeyBundle(serialized: v) }
        var f = bytes; f[1] = 0x05
        #expect(throws: WireError.invalidFlags(0x05)) { try PreKeyBundle(serialized: f) }
        var ik = bytes; for i in 2..<34 { ik[i] = 0 }
        #expect(throws: WireError.invalidKey(field: "IK")) { try PreKeyBundle(serialized: ik) }
        var spk = bytes; for i in 38..<70 { spk[i] = 0 }
        #expect(throws: WireError.invalidKey(field: "SPK")) { try PreKeyBundle(serialized: spk) }
        var opkID = bytes; for i in 134..<138 { opkID[i] = 0xff }
        #expect(throws: WireError.invalidKey(field: "OPK_id")) { try PreKeyBundle(serialized: opkID) }
        // A KEM part announced but missing is a truncation, not a crash.
        var kem = bytes; kem[1] = 0x03
        #expect(throws: WireError.self) { try PreKeyBundle(serialized: kem) }
    }

    @Test func messageLayouts() throws {
        let (_, preKey, ratchet) = try sample()
        guard case .preKey(let pk) = try WireMessage(serialized: preKey),
              case .ratchet(let rm) = try WireMessage(serialized: ratchet) else {
            Issue.record("wrong kinds"); return
        }
        #expect(preKey.count == 74 + 40 + 4 + 6 + 16)
        #expect(ratchet.count == 2 + 40 + 4 + 5 + 16)
        #expect(pk.header.counter == 1 && pk.header.previousCounter == 0)
        #expect(rm.header.counter == 0)
        #expect(WireMessage.preKey(pk).serialized == preKey)
        #expect(rm.serialized == ratchet)
    }

    @Test func messageRejections() throws {
        let (_, preKey, ratchet) = try sample()
        #expect(throws: WireError.truncated(needed: 1, available: 0)) { try WireMessage(serialized: []) }
        #expect(throws: WireError.unknownVersion(0x02)) { try WireMessage(serialized: [0x02, 0x01]) }
        #expect(throws: WireError.unexpectedType(0x06)) { try WireMessage(serialized: [0x01, 0x06]) }
        #expect(throws: WireError.unknownType(0x07)) { try WireMessage(serialized: [0x01, 0x07]) }
        #expect(throws: WireError.unknownType(0x00)) { try WireMessage(serialized: [0x01, 0x00]) }
        for n in 0..<62 {
            #expect(throws: WireError.self) { try WireMessage(serialized: Array(ratchet.prefix(n))) }
        }
        for n in 0..<(74 + 40 + 20) {
            #expect(throws: WireError.self) { try WireMessage(serialized: Array(preKey.prefix(n))) }
        }
        var dh = ratchet; for i in 2..<34 { dh[i] = 0 }
        #expect(throws: WireError.invalidKey(field: "DHs")) { try WireMessage(serialized: dh) }
        var ek = preKey; for i in 34..<66 { ek[i] = 0 }; ek[34] = 1
        #expect(throws: WireError.invalidKey(field: "EK_A")) { try WireMessage(serialized: ek) }
        var ik = preKey; for i in 2..<34 { ik[i] = 0 }
        #expect(throws: WireError.invalidKey(field: "IK_A")) { try WireMessage(serialized: ik) }
        #expect(throws: WireError.tooLarge(size: 5, max: 4)) { try WireMessage(serialized: ratchet, maxPlaintext: 4) }
        for t: UInt8 in [0x03, 0x04, 0x05] {
            #expect(throws: WireError.unexpectedType(t)) { try WireMessage(serialized: [0x01, t] + ratchet.dropFirst(2)) }
        }
    }

    /// Found by the interaction fuzzer: X25519 ignores bit 255, and EK_A is not
    /// in the AEAD's associated data, so a flipped top bit of EK_A gave a
    /// second valid first message — a replay that a bundle without a one-time
    /// prekey would have turned into a second session. Non-canonical keys are
    /// now rejected by the parser.
    @Test func nonCanonicalKeysAreRejected() throws {
        var account = Account()
        var alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: account.publishBundle())
        let first = try alice.encrypt([1])
        var flipped = first
        flipped[65] ^= 0x80                     // top bit of EK_A
        #expect(throws: WireError.invalidKey(field: "EK_A")) { try WireMessage(serialized: flipped) }
        var (bob, _) = try account.acceptSession(from: first)
        #expect(throws: SessionSetupError.self) { try account.acceptSession(from: flipped) }
        #expect(throws: DecryptError.self) { try bob.decrypt(flipped) }
        // u >= p: p + 9 encodes the base point's u = 9 non-canonically.
        var pPlus9 = [UInt8](repeating: 0xff, count: 32)
        pPlus9[0] = 0xed + 9; pPlus9[31] = 0x7f
        var ratchet = try alice.encrypt([2])
        for i in 0..<32 { ratchet[74 + i] = pPlus9[i] }
        #expect(throws: DecryptError.malformed(.invalidKey(field: "DHs"))) { try bob.decrypt(ratchet) }
        // The primitive layer still follows RFC 7748 (its vector 2 has bit 255 set).
        var nine = [UInt8](repeating: 0, count: 32); nine[0] = 9; nine[31] = 0x80
        #expect(throws: Never.self) { try X25519.PublicKey(rawRepresentation: nine) }
    }

    @Test func randomInputsNeverTrap() throws {
        var rng = SplitMix64(state: 7)
        let (bundle, preKey, ratchet) = try sample()
        let seeds = [bundle.serialized, preKey, ratchet]
        for i in 0..<20_000 {
            var input: [UInt8]
            if i % 2 == 0 {
                input = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                input = seeds[i % 3]
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    input[Int(rng.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            _ = try? WireMessage(serialized: input)
            _ = try? PreKeyBundle(serialized: input)
            _ = try? Session(serialized: input)
            _ = try? Account(serialized: input)
        }
    }
}
