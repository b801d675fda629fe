import Testing
@testable import E2EE

/// Two parties with a session each way, for tests.
struct Pair {
    var bobAccount: Account
    var alice: Session
    var bob: Session
    let aliceIdentity: IdentityKey.PrivateKey

    /// Alice initiates with Bob's bundle, sends one message, Bob accepts it:
    /// PQXDH (with the last-resort KEM prekey), or X3DH when `classical`.
    init(withOneTimePreKey: Bool = true, classical: Bool = false) throws {
        aliceIdentity = IdentityKey.PrivateKey()
        bobAccount = Account()
        if withOneTimePreKey { bobAccount.generateOneTimePreKeys(count: 3) }
        let bundle = classical ? bobAccount.publishClassicalBundle() : bobAccount.publishBundle()
        alice = try Session.initiate(identity: aliceIdentity, bundle: bundle.serialized, allowClassical: classical)
        let first = try alice.encrypt(Array("first".utf8))
        let accepted = try bobAccount.acceptSession(from: first, allowClassical: classical)
        bob = accepted.session
        #expect(accepted.plaintext == Array("first".utf8))
    }
}

@Suite("Sessions")
struct SessionTests {
    @Test func conversation() throws {
        var p = try Pair()
        #expect(p.alice.awaitingReply)
        for turn in 0..<5 {
            for i in 0..<3 {
                let m = Array("b\(turn).\(i)".utf8)
                #expect(try p.alice.decrypt(p.bob.encrypt(m)) == m)
            }
            #expect(!p.alice.awaitingReply)
            for i in 0..<2 {
                let m = Array("a\(turn).\(i)".utf8)
                let wire = try p.alice.encrypt(m)
                #expect(wire[1] == MessageType.ratchet.rawValue)
                #expect(try p.bob.decrypt(wire) == m)
            }
        }
    }

    @Test func preKeyMessagesUntilReplyAndRouting() throws {
        var p = try Pair()
        let second = try p.alice.encrypt([2])
        #expect(second[1] == MessageType.pqPreKey.rawValue)
        guard case .preKey(let pk) = try WireMessage(serialized: second) else {
            Issue.record("not a PreKeyMessage"); return
        }
        #expect(p.bob.matches(pk))
        #expect(try p.bob.decrypt(second) == [2])
        // A replay of the first message is a duplicate inside the session.
        #expect(throws: DecryptError.duplicate(index: 1)) { try p.bob.decrypt(second) }
    }

    @Test func oneTimePreKeyConsumedOnlyOnSuccess() throws {
        var account = Account()
        account.generateOneTimePreKeys(count: 2)
        let bundle = account.publishBundle()
        let alice = IdentityKey.PrivateKey()
        var s = try Session.initiate(identity: alice, bundle: bundle)
        let wire = try s.encrypt([1, 2, 3])
        var tampered = wire
        tampered[tampered.count - 1] ^= 1
        let before = account.oneTimePreKeys.map(\.id)
        #expect(throws: SessionSetupError.firstMessageRejected(.authenticationFailure)) {
            try account.acceptSession(from: tampered)
        }
        #expect(account.oneTimePreKeys.map(\.id) == before)
        _ = try account.acceptSession(from: wire)
        #expect(account.oneTimePreKeys.map(\.id) == Array(before.dropFirst()))
        // The same first message again: its base key was accepted (checked
        // before its one-time prekey, which is gone too).
        #expect(throws: SessionSetupError.baseKeyAlreadyAccepted) { try account.acceptSession(from: wire) }
        // A later first message of the same session names the used one-time prekey: refused for both reasons.
        let later = try s.encrypt([4])
        #expect(throws: SessionSetupError.baseKeyAlreadyAccepted) { try account.acceptSession(from: later) }
        account.acceptedBaseKeys = [:]
        #expect(throws: SessionSetupError.unknownOneTimePreKey(bundle.oneTimePreKey!.id)) {
            try account.acceptSession(from: later)
        }
    }

    /// Without a one-time prekey (none left, or stripped by the server: the
    /// bundle signature covers only the signed prekey) the session works, and
    /// its first message cannot start a second session on the same account.
    @Test func noOneTimePreKey() throws {
        var p = try Pair(withOneTimePreKey: false)
        #expect(p.alice.oneTimePreKeyID == nil)
        #expect(try p.alice.decrypt(p.bob.encrypt([9])) == [9])
        var replayed = try Session.initiate(identity: p.aliceIdentity, bundle: p.bobAccount.publishBundle())
        let first = try replayed.encrypt([1])
        let before = p.bobAccount.serialized()
        _ = try p.bobAccount.acceptSession(from: first)
        #expect(throws: SessionSetupError.baseKeyAlreadyAccepted) { try p.bobAccount.acceptSession(from: first) }
        #expect(p.bobAccount.serialized() != before)
    }

    @Test func badBundleSignatureIsRejected() throws {
        var account = Account()
        let good = account.publishBundle()
        var bytes = good.serialized
        bytes[2 + 32 + 4 + 32] ^= 1  // first signature byte
        #expect(throws: SessionSetupError.invalidSignature) {
            try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bytes)
        }
    }
}
