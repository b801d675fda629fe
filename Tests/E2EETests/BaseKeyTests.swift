import Testing
@testable import E2EE

/// PROTOCOL.md §2: a first message is accepted once per account. The bundle
/// signature covers only the signed prekey, so a server can strip the
/// one-time prekey and replay a first message under any other name.
@Suite("Base keys accepted once per account")
struct BaseKeyTests {
    /// A first message to a bundle without a one-time prekey (stripped by the
    /// server), with the last-resort KEM prekey (the one-time KEM prekey
    /// swapped for it: its signature is the identity's, so the server can).
    private func firstMessage(to bob: Device, from alice: Device) throws -> [UInt8] {
        var bundle = try bob.manager.publishBundle()
        let account = try #require(try bob.store.loadAccount())
        let lastResort = try #require(account.currentLastResortKEMPreKey).signed(by: account.identity)
        bundle = PreKeyBundle(identityKey: bundle.identityKey, signedPreKeyID: bundle.signedPreKeyID,
                              signedPreKey: bundle.signedPreKey, signedPreKeySignature: bundle.signedPreKeySignature,
                              oneTimePreKey: nil, kemPreKey: lastResort)
        try alice.manager.startSession(with: bob.address, bundle: bundle)
        return try alice.send("only once", to: bob)
    }

    @Test func aReplayUnderAnotherAddressIsADuplicate() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        let first = try firstMessage(to: bob, from: alice)
        #expect(try bob.manager.receive(first, from: alice.address) == Array("only once".utf8))
        let inboxBefore = try bob.store.inboundMessages(after: 0, limit: 100).count
        let mallory = ProtocolAddress(userID: "mallory", deviceID: 1)
        #expect(throws: MessagingError.setup(.baseKeyAlreadyAccepted)) { try bob.manager.receive(first, from: mallory) }
        // No session, nothing delivered, nothing pinned.
        #expect(try bob.store.loadSessions(for: mallory) == nil)
        #expect(try bob.manager.trustedIdentity(for: mallory) == nil)
        #expect(try bob.store.inboundMessages(after: 0, limit: 100).count == inboxBefore)
        // At the address it came from, it is a duplicate inside its session.
        #expect(throws: MessagingError.decrypt(.duplicate(index: 0))) { try bob.manager.receive(first, from: alice.address) }
    }

    /// Once the session has fallen out of the 40-session archive, the same
    /// first message at the same address still does not start a new session.
    @Test func aReplayAfterTheSessionWasArchivedAwayIsRefused() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        let first = try firstMessage(to: bob, from: alice)
        try bob.manager.receive(first, from: alice.address)
        for i in 0...Limits.maxArchivedSessions {
            try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
            try bob.manager.receive(alice.send("again \(i)", to: bob), from: alice.address)
        }
        let set = try #require(try bob.store.loadSessions(for: alice.address))
        #expect(set.archived.count == Limits.maxArchivedSessions)
        let firstBaseKey = try #require({ if case .preKey(let m) = try WireMessage(serialized: first) { return m.baseKey }; return nil }())
        #expect(!([set.current!] + set.archived).contains { $0.baseKey == firstBaseKey })
        #expect(throws: MessagingError.setup(.baseKeyAlreadyAccepted)) { try bob.manager.receive(first, from: alice.address) }
    }

    /// The record keeps the base keys (the account is sealed with the rest),
    /// and they go with the signed prekey they used.
    @Test func baseKeysArePersistedAndPrunedWithTheirSignedPreKey() throws {
        var bob = Account(createdAt: 0)
        let alice = IdentityKey.PrivateKey()
        var session = try Session.initiate(identity: alice, bundle: bob.publishBundle())
        let first = try session.encrypt([1])
        _ = try bob.acceptSession(from: first)
        #expect(bob.acceptedBaseKeyCount == 1)
        var loaded = try Account(serialized: bob.serialized())
        #expect(loaded.serialized() == bob.serialized())
        #expect(throws: SessionSetupError.baseKeyAlreadyAccepted) { try loaded.acceptSession(from: first) }
        // A record written before base keys were kept (no section) still loads.
        var empty = Account(createdAt: 0)
        #expect(try Account(serialized: empty.serialized()).acceptedBaseKeyCount == 0)
        empty.generateOneTimePreKeys(count: 1)
        // Rotation, then the grace period: the old signed prekey goes, with its base keys.
        let policy = PreKeyPolicy(signedPreKeyLifetime: 10, signedPreKeyGracePeriod: 10)
        _ = loaded.maintainPreKeys(now: 10, policy: policy)
        #expect(loaded.acceptedBaseKeyCount == 1)
        let upload = loaded.maintainPreKeys(now: 20, policy: policy)
        #expect(upload.removedSignedPreKeyIDs == [SignedPreKeyID(rawValue: 1)])
        #expect(loaded.acceptedBaseKeyCount == 0)
        #expect(throws: SessionSetupError.unknownSignedPreKey(SignedPreKeyID(rawValue: 1))) { try loaded.acceptSession(from: first) }
    }

    /// The loader refuses a base-key section that no writer produces.
    @Test func baseKeyRecordsHaveOneEncoding() throws {
        var bob = Account(createdAt: 0)
        for _ in 0..<2 {
            var s = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bob.publishBundle())
            _ = try bob.acceptSession(from: try s.encrypt([1]))
        }
        let good = bob.serialized()
        #expect(try Account(serialized: good).serialized() == good)
        // The section: count 1, spk id 1, count 2, key, key (the two keys are the last 64 bytes).
        var swapped = good
        swapped.replaceSubrange((good.count - 64)..<good.count, with: Array(good[(good.count - 32)...] + good[(good.count - 64)..<(good.count - 32)]))
        #expect(throws: RecordError.malformed("base keys not sorted")) { try Account(serialized: swapped) }
        var unknownPreKey = good
        unknownPreKey[good.count - 66] = 9
        #expect(throws: RecordError.malformed("base keys of an unknown or unsorted signed prekey")) { try Account(serialized: unknownPreKey) }
        var emptyList = Array(good.prefix(good.count - 65))
        emptyList.append(0)
        #expect(throws: RecordError.malformed("empty base key list")) { try Account(serialized: emptyList) }
    }

    /// Without the manager: the account alone refuses the replay before any work.
    @Test func theAccountRefusesAReplayedFirstMessage() throws {
        var bob = Account()
        var alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bob.publishBundle())
        let first = try alice.encrypt([7])
        let (_, plaintext) = try bob.acceptSession(from: first)
        #expect(plaintext == [7])
        let before = bob.serialized()
        #expect(throws: SessionSetupError.baseKeyAlreadyAccepted) { try bob.acceptSession(from: first) }
        #expect(bob.serialized() == before)
    }
}
