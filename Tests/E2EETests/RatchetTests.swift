import Testing
import ToolSupport
@testable import E2EE

@Suite("Double Ratchet: order, limits, tampering")
struct RatchetTests {
    @Test func thousandMessagesInRandomOrderAcrossTwentyRatchetTurns() throws {
        var p = try Pair()
        var held: [(wire: [UInt8], plaintext: [UInt8], turn: Int)] = []
        for turn in 0..<20 {
            for i in 0..<50 {
                let m = Array("turn \(turn) message \(i)".utf8)
                held.append((try p.alice.encrypt(m), m, turn))
            }
            // A ping and a pong move both parties to new ratchet keys.
            let ping = Array("ping \(turn)".utf8)
            #expect(try p.bob.decrypt(p.alice.encrypt(ping)) == ping)
            let pong = Array("pong \(turn)".utf8)
            #expect(try p.alice.decrypt(p.bob.encrypt(pong)) == pong)
        }
        #expect(p.bob.ratchet.skipped.count == 1000)
        var rng = SplitMix64(state: 2026)
        held.shuffle(using: &rng)
        for h in held {
            #expect(try p.bob.decrypt(h.wire) == h.plaintext)
        }
        #expect(p.bob.ratchet.skipped.isEmpty)
        // Every message again, and nothing changes. Turn t used Alice's t-th
        // ratchet key; Bob's current chain is turn 19's and he remembers the
        // Limits.maxPreviousRatchetKeys before it, so those replays are named
        // duplicates. Older chains are forgotten entirely: their replays can
        // only fail authentication (a DH ratchet step that leads nowhere).
        let before = p.bob.serialized()
        let remembered = (19 - Limits.maxPreviousRatchetKeys)...19
        for h in held {
            do {
                _ = try p.bob.decrypt(h.wire)
                Issue.record("a duplicate of turn \(h.turn) decrypted")
            } catch {
                if remembered.contains(h.turn) {
                    guard case .duplicate = error else { Issue.record("turn \(h.turn): \(error)"); continue }
                } else {
                    #expect(error == .authenticationFailure, "turn \(h.turn)")
                }
            }
        }
        #expect(p.bob.serialized() == before)
        // The session still works both ways.
        #expect(try p.bob.decrypt(p.alice.encrypt([1])) == [1])
        #expect(try p.alice.decrypt(p.bob.encrypt([2])) == [2])
    }

    @Test func duplicatesOnRecentChainsAreReportedAsDuplicates() throws {
        var p = try Pair()
        let a = try p.alice.encrypt([1])
        let b = try p.alice.encrypt([2])
        #expect(try p.bob.decrypt(b) == [2])
        #expect(try p.bob.decrypt(a) == [1])
        #expect(throws: DecryptError.duplicate(index: 1)) { try p.bob.decrypt(a) }
        #expect(throws: DecryptError.duplicate(index: 2)) { try p.bob.decrypt(b) }
        // After a ratchet turn the old chain is gone but still recognised.
        #expect(try p.alice.decrypt(p.bob.encrypt([3])) == [3])
        #expect(try p.bob.decrypt(p.alice.encrypt([4])) == [4])
        #expect(throws: DecryptError.duplicate(index: 2)) { try p.bob.decrypt(b) }
    }

    @Test func skipLimitIsEnforcedWithoutStateChange() throws {
        var p = try Pair()
        var wires = [[UInt8]]()
        for i in 0..<1002 { wires.append(try p.alice.encrypt([UInt8(i % 256)])) }
        // Bob has received counter 0 (the pair's first message) on this chain, so
        // wires[i] has counter i + 1 and needs i skipped keys.
        let before = p.bob.serialized()
        #expect(throws: DecryptError.tooFarAhead(got: 1001, max: 1000)) { try p.bob.decrypt(wires[1001]) }
        #expect(p.bob.serialized() == before)
        #expect(try p.bob.decrypt(wires[1000]) == [UInt8(1000 % 256)])
        #expect(p.bob.ratchet.skipped.count == 1000)
    }

    @Test func storedSkippedKeysAreBoundedOldestFirst() throws {
        var p = try Pair()
        // Three chains of 1000 skipped keys each: the store keeps the newest 2000.
        var firstOfChain = [[UInt8]]()
        for _ in 0..<3 {
            var wires = [[UInt8]]()
            for i in 0..<1001 { wires.append(try p.alice.encrypt([UInt8(i % 256)])) }
            firstOfChain.append(wires[0])
            #expect(try p.bob.decrypt(wires[1000]) == [UInt8(1000 % 256)])
            #expect(try p.alice.decrypt(p.bob.encrypt([7])) == [7])
        }
        #expect(p.bob.ratchet.skipped.count == Limits.maxStoredSkippedKeys)
        #expect(throws: DecryptError.self) { try p.bob.decrypt(firstOfChain[0]) }
        #expect(try p.bob.decrypt(firstOfChain[2]) == [0])
    }

    /// A ratchet message with its header counters replaced (the tag then fails,
    /// but the limits must reject it before any work).
    func withCounters(_ wire: [UInt8], pn: UInt32, n: UInt32) -> [UInt8] {
        var out = wire
        let at = 2 + 32
        for (i, v) in [pn, n].enumerated() {
            out[at + 4 * i] = UInt8(v >> 24); out[at + 4 * i + 1] = UInt8(truncatingIfNeeded: v >> 16)
            out[at + 4 * i + 2] = UInt8(truncatingIfNeeded: v >> 8); out[at + 4 * i + 3] = UInt8(truncatingIfNeeded: v)
        }
        return out
    }

    @Test func hugeCountersCostNothingAndChangeNothing() throws {
        var p = try Pair()
        #expect(try p.alice.decrypt(p.bob.encrypt([1])) == [1])
        let wire = try p.alice.encrypt([2])            // a RatchetMessage on a new chain for Bob
        let before = p.bob.serialized()
        #expect(throws: DecryptError.tooFarAhead(got: UInt32.max, max: 1000)) {
            try p.bob.decrypt(withCounters(wire, pn: 0, n: UInt32.max))
        }
        #expect(throws: DecryptError.tooFarAhead(got: UInt32.max - 1, max: 1000)) {
            try p.bob.decrypt(withCounters(wire, pn: UInt32.max, n: 0))
        }
        // Same chain as the last received message: N far ahead.
        let next = try p.alice.encrypt([3])
        #expect(try p.bob.decrypt(wire) == [2])
        let mid = p.bob.serialized()
        #expect(throws: DecryptError.tooFarAhead(got: UInt32.max - 1, max: 1000)) {
            try p.bob.decrypt(withCounters(next, pn: 0, n: UInt32.max))
        }
        #expect(p.bob.serialized() == mid)
        #expect(before != mid)
        #expect(try p.bob.decrypt(next) == [3])
    }

    @Test func everyByteOfARatchetMessageIsAuthenticated() throws {
        var p = try Pair()
        #expect(try p.alice.decrypt(p.bob.encrypt([1])) == [1])
        let wire = try p.alice.encrypt(Array("tamper with me".utf8))
        let before = p.bob.serialized()
        for i in wire.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var bad = wire
                bad[i] ^= mask
                #expect(throws: DecryptError.self, "byte \(i) mask \(mask)") { try p.bob.decrypt(bad) }
                #expect(p.bob.serialized() == before, "state changed after byte \(i)")
            }
        }
        for n in [0, 1, 2, 41, 42, 61, wire.count - 1] {
            #expect(throws: DecryptError.self) { try p.bob.decrypt(Array(wire.prefix(n))) }
        }
        #expect(throws: DecryptError.self) { try p.bob.decrypt(wire + [0]) }
        #expect(p.bob.serialized() == before)
        #expect(try p.bob.decrypt(wire) == Array("tamper with me".utf8))
    }

    @Test func everyByteOfAPreKeyMessageIsAuthenticated() throws {
        var account = Account()
        account.generateOneTimePreKeys(count: 1)
        var alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: account.publishBundle())
        let first = try alice.encrypt(Array("first".utf8))
        let second = try alice.encrypt(Array("second".utf8))
        let accountBefore = account.serialized()
        // As a session-creating message: the account must not change.
        for i in first.indices {
            var bad = first
            bad[i] ^= 0x04
            #expect(throws: SessionSetupError.self, "byte \(i)") { try account.acceptSession(from: bad) }
            #expect(account.serialized() == accountBefore, "account changed after byte \(i)")
        }
        var (bob, pt) = try account.acceptSession(from: first)
        #expect(pt == Array("first".utf8))
        // Inside the session it created: the session must not change.
        let before = bob.serialized()
        for i in second.indices {
            var bad = second
            bad[i] ^= 0x04
            #expect(throws: DecryptError.self, "byte \(i)") { try bob.decrypt(bad) }
            #expect(bob.serialized() == before, "session changed after byte \(i)")
        }
        #expect(try bob.decrypt(second) == Array("second".utf8))
    }

    @Test func recordsRoundTripAndKeepWorking() throws {
        var p = try Pair()
        var held = [[UInt8]]()
        for i in 0..<30 { held.append(try p.alice.encrypt([UInt8(i)])) }
        #expect(try p.bob.decrypt(held[29]) == [29])
        for s in [p.alice, p.bob] {
            let bytes = s.serialized()
            let loaded = try Session(serialized: bytes)
            #expect(loaded.serialized() == bytes)
        }
        var bob2 = try Session(serialized: p.bob.serialized())
        var alice2 = try Session(serialized: p.alice.serialized())
        for i in 0..<29 { #expect(try bob2.decrypt(held[i]) == [UInt8(i)]) }
        #expect(try alice2.decrypt(bob2.encrypt([5])) == [5])
        #expect(try bob2.decrypt(alice2.encrypt([6])) == [6])
    }

    /// The DH ratchet step's sending half waits for the first send (as in
    /// Olm): a receiver holds no sending chain until then, the deferred step
    /// survives its record, and the first send completes it with one key pair
    /// and one X25519. The peer reads the result as it always did.
    @Test func theSendingHalfOfARatchetStepWaitsForTheFirstSend() throws {
        var p = try Pair()
        _ = try p.bob.decrypt(try p.alice.encrypt([1]))
        let aliceKey = p.alice.ratchet.sendingRatchetKey.publicKey
        #expect(p.bob.ratchet.pendingSendingStep == aliceKey && p.bob.ratchet.sendingChain == nil)
        // Receiving more on the same chain leaves the step deferred.
        _ = try p.bob.decrypt(try p.alice.encrypt([2]))
        #expect(p.bob.ratchet.pendingSendingStep == aliceKey)
        var bob = try Session(serialized: p.bob.serialized())
        #expect(bob.ratchet.pendingSendingStep == aliceKey)
        let oldKey = bob.ratchet.sendingRatchetKey.publicKey
        let work = RatchetWork()
        let reply = try RatchetWork.$current.withValue(work) { try bob.encrypt([3]) }
        #expect(work.diffieHellmans == 1)
        #expect(bob.ratchet.pendingSendingStep == nil && bob.ratchet.sendingChain != nil)
        #expect(bob.ratchet.sendingRatchetKey.publicKey != oldKey)
        #expect(bob.ratchet.previousCounter == 0 && bob.ratchet.sendCounter == 1)
        #expect(try p.alice.decrypt(reply) == [3])
        // The second send uses the chain the first one made: no DH.
        let work2 = RatchetWork()
        let again = try RatchetWork.$current.withValue(work2) { try bob.encrypt([4]) }
        #expect(work2.diffieHellmans == 0 && bob.ratchet.sendingRatchetKey.publicKey != oldKey)
        #expect(try p.alice.decrypt(again) == [4])
        // A too-large plaintext fails before the step: nothing changes.
        _ = try bob.decrypt(try p.alice.encrypt([5]))
        let pending = bob.serialized()
        #expect(throws: EncryptError.self) { try bob.encrypt([UInt8](repeating: 0, count: Limits.defaultMaxPlaintext + 1)) }
        #expect(bob.serialized() == pending)
    }

    /// A PQXDH recipient adds the KEM prekey id and a 32-byte digest of the
    /// ciphertext; the initiator also keeps the 1568-byte ciphertext, only
    /// while it still sends PQPreKeyMessages.
    @Test func freshSessionRecordsAreSmall() throws {
        var p = try Pair()
        #expect(p.alice.serialized().count <= 320 + 36 + MLKEM.ciphertextByteCount)
        #expect(p.bob.serialized().count <= 360)
        #expect(try p.alice.decrypt(p.bob.encrypt([1])) == [1])
        #expect(p.alice.serialized().count <= 360)
        let c = try Pair(classical: true)
        #expect(c.alice.serialized().count <= 320 && c.bob.serialized().count <= 320)
    }

    @Test func corruptRecordsAreErrors() throws {
        let p = try Pair()
        let bytes = p.bob.serialized()
        for n in 0..<bytes.count {
            #expect(throws: RecordError.self, "prefix \(n)") { try Session(serialized: Array(bytes.prefix(n))) }
        }
        #expect(throws: RecordError.trailingBytes(count: 1)) { try Session(serialized: bytes + [0]) }
        var magic = bytes; magic[0] ^= 1
        #expect(throws: RecordError.badMagic) { try Session(serialized: magic) }
        var version = bytes; version[5] = 9
        #expect(throws: RecordError.unsupportedVersion(9)) { try Session(serialized: version) }
        #expect(throws: RecordError.wrongKind(expected: 1, got: 2)) {
            try Session(serialized: p.bobAccount.serialized())
        }
        // A recipient never keeps a KEM ciphertext; an initiator awaiting a
        // reply must; a ciphertext needs a PQ setup.
        var flags = bytes; flags[7] = 0xff
        #expect(throws: RecordError.malformed("recipient awaiting a reply")) { try Session(serialized: flags) }
        var kept = bytes; kept[7] |= 0x80
        #expect(throws: RecordError.malformed("KEM ciphertext kept")) { try Session(serialized: kept) }
        let alice = p.alice.serialized()
        var noCT = alice; noCT[7] &= ~0x80
        #expect(throws: RecordError.malformed("KEM ciphertext missing")) { try Session(serialized: noCT) }
        var ctOnly = alice; ctOnly[7] &= ~0x40
        #expect(throws: RecordError.malformed("KEM ciphertext without PQXDH")) { try Session(serialized: ctOnly) }
        // The kept ciphertext must match the digest that routing compares.
        let ct = try #require(p.alice.pq?.ciphertext)
        let at = try #require(alice.firstRange(of: ct)).lowerBound
        var otherCT = alice; otherCT[at + 100] ^= 1
        #expect(throws: RecordError.malformed("KEM ciphertext digest")) { try Session(serialized: otherCT) }
        #expect(try Session(serialized: alice).serialized() == alice)
        let c = try Pair(classical: true).bob.serialized()
        var classicalFlags = c; classicalFlags[7] |= 0x40
        #expect(throws: RecordError.self) { try Session(serialized: classicalFlags) }
    }
}
