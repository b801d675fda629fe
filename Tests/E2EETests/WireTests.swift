import Testing
import ToolSupport
@testable import E2EE

@Suite("Wire format parsing")
struct WireTests {
    /// A PQ bundle, a PQPreKeyMessage and a RatchetMessage.
    func sample() throws -> (bundle: PreKeyBundle, preKey: [UInt8], ratchet: [UInt8]) {
        var p = try Pair()
        let preKey = try p.alice.encrypt(Array("second".utf8))
        let ratchet = try p.bob.encrypt(Array("reply".utf8))
        var account = Account()
        account.generateOneTimePreKeys(count: 1)
        return (account.publishBundle(), preKey, ratchet)
    }

    /// A classical bundle and PreKeyMessage.
    func classicalSample() throws -> (bundle: PreKeyBundle, preKey: [UInt8]) {
        var p = try Pair(classical: true)
        let preKey = try p.alice.encrypt(Array("second".utf8))
        var account = Account()
        account.generateOneTimePreKeys(count: 1)
        return (account.publishClassicalBundle(), preKey)
    }

    @Test func bundleRoundTripAndLayout() throws {
        let (bundle, _, _) = try sample()
        let bytes = bundle.serialized
        // §1: the KEM part is u32 KEM_id || KEM_pub (1568) || KEM_sig (64).
        #expect(bytes.count == 2 + 32 + 4 + 32 + 64 + 4 + 32 + 4 + 1568 + 64)
        #expect(bytes[0] == 0x01 && bytes[1] == 0x03)
        #expect(try PreKeyBundle(serialized: bytes) == bundle)
        #expect(bundle.verifySignatures() && bundle.isPostQuantum)
        let kem = try #require(bundle.kemPreKey)
        #expect(Array(bytes[170..<174]) == [0, 0, 0, 1] && Array(bytes[174..<1742]) == kem.publicKey.rawRepresentation)
        #expect(Array(bytes[1742...]) == kem.signature)
        let classical = try classicalSample().bundle
        #expect(classical.serialized.count == 2 + 32 + 4 + 32 + 64 + 4 + 32 && classical.serialized[1] == 0x01)
        #expect(!classical.isPostQuantum && classical.verifySignatures())
        let noOTK = PreKeyBundle(identityKey: bundle.identityKey, signedPreKeyID: bundle.signedPreKeyID,
                                 signedPreKey: bundle.signedPreKey, signedPreKeySignature: bundle.signedPreKeySignature)
        #expect(noOTK.serialized.count == 134 && noOTK.serialized[1] == 0)
        #expect(try PreKeyBundle(serialized: noOTK.serialized) == noOTK)
    }

    @Test func bundleRejections() throws {
        let pq = try sample().bundle.serialized
        for n in stride(from: 0, to: pq.count, by: 7) {
            #expect(throws: WireError.self) { try PreKeyBundle(serialized: Array(pq.prefix(n))) }
        }
        #expect(throws: WireError.trailingBytes(count: 1)) { try PreKeyBundle(serialized: pq + [0]) }
        // An ML-KEM public key must pass FIPS 203's modulus check: 0xFFF > q.
        var badKEM = pq; for i in 174..<1742 { badKEM[i] = 0xff }
        #expect(throws: WireError.invalidKey(field: "KEM")) { try PreKeyBundle(serialized: badKEM) }
        // A KEM signature is checked with the others; a bundle whose KEM
        // signature fails starts nothing.
        var badSig = pq; badSig[pq.count - 1] ^= 1
        let parsed = try PreKeyBundle(serialized: badSig)
        #expect(!parsed.verifySignatures())
        #expect(throws: SessionSetupError.invalidSignature) {
            try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: parsed)
        }
        // Dropping the KEM part (flags bit 1 cleared, bytes cut) leaves a valid
        // classical bundle: that downgrade is why classical setup needs an opt-in.
        var stripped = Array(pq.prefix(170)); stripped[1] = 0x01
        let downgraded = try PreKeyBundle(serialized: stripped)
        #expect(downgraded.verifySignatures())
        #expect(throws: SessionSetupError.postQuantumRequired) {
            try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: downgraded)
        }

        let bytes = try classicalSample().bundle.serialized
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
        // PQPreKeyMessage: the classical prefix, u32 KEM_id, CT (1568), then Encode(H) || AEAD_v1.
        #expect(preKey[1] == 0x05 && pk.isPostQuantum)
        #expect(preKey.count == 74 + 4 + 1568 + 40 + 4 + 6 + 16)
        let kem = try #require(pk.kem)
        #expect(Array(preKey[74..<78]) == [0, 0, 0, 1] && kem.id == KEMPreKeyID(rawValue: 1))
        #expect(Array(preKey[78..<1646]) == kem.ciphertext)
        #expect(pk.header.ratchetKey.rawRepresentation == Array(preKey[1646..<1678]))
        let classical = try classicalSample().preKey
        guard case .preKey(let cpk) = try WireMessage(serialized: classical) else { Issue.record("not a prekey"); return }
        #expect(classical[1] == 0x02 && cpk.kem == nil && classical.count == 74 + 40 + 4 + 6 + 16)
        #expect(ratchet.count == 2 + 40 + 4 + 5 + 16)
        #expect(pk.header.counter == 1 && pk.header.previousCounter == 0)
        #expect(rm.header.counter == 0)
        #expect(WireMessage.preKey(pk).serialized == preKey)
        #expect(rm.serialized == ratchet)
    }

    @Test func messageRejections() throws {
        let (_, pqPreKey, ratchet) = try sample()
        // A PQPreKeyMessage cut anywhere, or as a classical type (and back), fails to parse or to authenticate.
        for n in stride(from: 0, to: 74 + 4 + 1568 + 40 + 20, by: 5) {
            #expect(throws: WireError.self) { try WireMessage(serialized: Array(pqPreKey.prefix(n))) }
        }
        let preKey = try classicalSample().preKey
        #expect(throws: WireError.truncated(needed: 1, available: 0)) { try WireMessage(serialized: []) }
        #expect(throws: WireError.unknownVersion(0x02)) { try WireMessage(serialized: [0x02, 0x01]) }
        // Every known type is parsed, by that type's own parser: a GroupUpdate needs its group id.
        #expect(throws: WireError.truncated(needed: 16, available: 0)) { try WireMessage(serialized: [0x01, 0x06]) }
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
        // The group kinds parse exactly as their own parsers do.
        let groups = try makeGroup(2)
        var sender = groups[0]
        let groupMessages = [try sender.encrypt([1, 2, 3]), sender.distribution.serialized, sender.snapshot.serialized]
        for bytes in groupMessages + [0x03, 0x04, 0x06].map({ [0x01, $0] + ratchet.dropFirst(2) }) {
            let whole = Result { () throws(WireError) in try WireMessage(serialized: bytes) }
            let own = Result { () throws(WireError) -> WireMessage in
                switch bytes[1] {
                case 0x03: return .senderKey(try SenderKeyMessage(serialized: bytes))
                case 0x04: return .senderKeyDistribution(try SenderKeyDistribution(serialized: bytes))
                default: return .groupUpdate(try GroupUpdate(serialized: bytes))
                }
            }
            #expect(whole == own, "type \(bytes[1])")
            if case .success(let m) = whole { #expect(m.serialized == bytes && m.type.rawValue == bytes[1]) }
        }
        #expect(groupMessages.allSatisfy { (try? WireMessage(serialized: $0)) != nil })
        // A pairwise session refuses them as messages of a type it does not take.
        var bob = try Pair().bob
        #expect(throws: DecryptError.malformed(.unexpectedType(0x03))) { try bob.decrypt(groupMessages[0]) }
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
        for i in 0..<32 { ratchet[1646 + i] = pPlus9[i] }   // DHs of a PQPreKeyMessage
        #expect(throws: DecryptError.malformed(.invalidKey(field: "DHs"))) { try bob.decrypt(ratchet) }
        // The primitive layer still follows RFC 7748 (its vector 2 has bit 255 set).
        var nine = [UInt8](repeating: 0, count: 32); nine[0] = 9; nine[31] = 0x80
        #expect(throws: Never.self) { try X25519.PublicKey(rawRepresentation: nine) }
    }

    /// Random and mutated inputs through every parser: each either parses and
    /// writes back exactly the input (records: load again to the same bytes),
    /// or throws the error its first bytes call for, never a trap.
    @Test func randomInputsNeverTrap() throws {
        var rng = SplitMix64(state: 7)
        let (bundle, preKey, ratchet) = try sample()
        let groups = try makeGroup(2)
        var sender = groups[0]
        let classical = try classicalSample()
        let seeds = [bundle.serialized, preKey, ratchet, try sender.encrypt([1, 2, 3]), sender.distribution.serialized,
                     sender.snapshot.serialized, try Pair().bob.serialized(), classical.bundle.serialized,
                     classical.preKey, try Pair().alice.serialized(), Account().serialized()]
        var parsed = 0, refused = 0
        /// The error the header calls for, if the header alone decides it.
        func headerError(_ input: [UInt8], types: Set<UInt8>) -> WireError? {
            guard let version = input.first else { return .truncated(needed: 1, available: 0) }
            guard version == WireMessage.version else { return .unknownVersion(version) }
            guard input.count >= 2 else { return .truncated(needed: 1, available: 0) }
            guard types.contains(input[1]) else {
                return MessageType(rawValue: input[1]) == nil ? .unknownType(input[1]) : .unexpectedType(input[1])
            }
            return nil
        }
        func check<T>(_ input: [UInt8], types: Set<UInt8>, _ parse: ([UInt8]) throws(WireError) -> T,
                      _ write: (T) -> [UInt8], _ name: String) {
            do {
                let value = try parse(input)
                #expect(write(value) == input, "\(name) wrote back other bytes")
                #expect(headerError(input, types: types) == nil, "\(name) parsed a header it must refuse")
                parsed += 1
            } catch {
                if let expected = headerError(input, types: types) {
                    #expect(error == expected, "\(name): \(error), wanted \(expected)")
                } else if case .truncated(let needed, let available) = error {
                    #expect(needed > available && available < input.count, "\(name): \(error) for \(input.count) bytes")
                }
                refused += 1
            }
        }
        for i in 0..<20_000 {
            var input: [UInt8]
            if i % 2 == 0 {
                input = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if i % 4 == 0, !input.isEmpty { input[0] = WireMessage.version }   // past the version check
            } else {
                input = seeds[i % seeds.count]
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    input[Int(rng.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                if i % 3 == 0 { input = Array(input.prefix(Int(rng.next() % UInt64(input.count + 1)))) }
            }
            check(input, types: Set((1...6).map { UInt8($0) }),
                  { (b) throws(WireError) in try WireMessage(serialized: b) }, \.serialized, "WireMessage")
            check(input, types: [MessageType.senderKey.rawValue],
                  { (b) throws(WireError) in try SenderKeyMessage(serialized: b) }, \.serialized, "SenderKeyMessage")
            check(input, types: [MessageType.senderKeyDistribution.rawValue],
                  { (b) throws(WireError) in try SenderKeyDistribution(serialized: b) }, \.serialized, "SenderKeyDistribution")
            check(input, types: [MessageType.groupUpdate.rawValue],
                  { (b) throws(WireError) in try GroupUpdate(serialized: b) }, \.serialized, "GroupUpdate")
            // A bundle starts 0x01 || flags: its own header rules.
            do {
                let b = try PreKeyBundle(serialized: input)
                #expect(b.serialized == input, "PreKeyBundle wrote back other bytes")
            } catch {
                if input.isEmpty { #expect(error == .truncated(needed: 1, available: 0)) }
                else if input[0] != 0x01 { #expect(error == .unknownVersion(input[0])) }
                else if input.count >= 2, input[1] & ~0x03 != 0 { #expect(error == .invalidFlags(input[1])) }
            }
            // Records load to a state that writes itself back the same way.
            if let s = try? Session(serialized: input) {
                #expect(try Session(serialized: s.serialized()).serialized() == s.serialized())
            }
            if let a = try? Account(serialized: input) {
                #expect(try Account(serialized: a.serialized()).serialized() == a.serialized())
            }
        }
        // Both outcomes were exercised.
        #expect(parsed > 100 && refused > 10_000)
    }
}
