import Testing
@testable import E2EE

/// PQXDH by default (PROTOCOL.md §2b): KEM prekeys in the account, both sides
/// of the setup, and no silent downgrade to X3DH.
@Suite("PQXDH")
struct PQXDHTests {
    // MARK: Policy

    /// A bundle without a KEM prekey (a peer that cannot do PQXDH, or a server
    /// that stripped the KEM part: its signature is separate) is refused.
    @Test func classicalBundleIsRefusedUnlessAllowed() throws {
        var bob = Account()
        let alice = IdentityKey.PrivateKey()
        let classical = bob.publishClassicalBundle()
        #expect(throws: SessionSetupError.postQuantumRequired) { try Session.initiate(identity: alice, bundle: classical) }
        let pq = bob.publishBundle()
        let stripped = PreKeyBundle(identityKey: pq.identityKey, signedPreKeyID: pq.signedPreKeyID,
                                    signedPreKey: pq.signedPreKey, signedPreKeySignature: pq.signedPreKeySignature,
                                    oneTimePreKey: pq.oneTimePreKey)
        #expect(stripped.verifySignatures())
        #expect(throws: SessionSetupError.postQuantumRequired) { try Session.initiate(identity: alice, bundle: stripped) }
        let allowed = try Session.initiate(identity: alice, bundle: classical, allowClassical: true)
        #expect(!allowed.isPostQuantum)
        // A bundle with a KEM part is never used for X3DH, allowed or not.
        let s = try Session.initiate(identity: alice, bundle: pq, allowClassical: true)
        #expect(s.isPostQuantum && s.kemPreKeyID == pq.kemPreKey?.id)
    }

    /// A classical PreKeyMessage is refused by a recipient that did not opt in,
    /// before any work and with the account unchanged.
    @Test func classicalFirstMessageIsRefusedUnlessAllowed() throws {
        var bob = Account()
        bob.generateOneTimePreKeys(count: 2)
        var alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bob.publishClassicalBundle(),
                                         allowClassical: true)
        let first = try alice.encrypt([1])
        #expect(first[1] == MessageType.preKey.rawValue)
        let before = bob.serialized()
        #expect(throws: SessionSetupError.postQuantumRequired) { try bob.acceptSession(from: first) }
        var set = SessionSet()
        #expect(throws: ReceiveError.setup(.postQuantumRequired)) { try set.decrypt(first, account: &bob) }
        #expect(bob.serialized() == before && set.current == nil)
        let (session, plaintext) = try bob.acceptSession(from: first, allowClassical: true)
        #expect(plaintext == [1] && !session.isPostQuantum && bob.oneTimePreKeys.count == 1)
    }

    /// The same through the manager: its policy covers both directions, and a
    /// refused message leaves the store as it was.
    @Test func managerPolicyBothWays() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        let old = try Device("old", allowClassical: true)
        #expect(alice.manager.allowsClassicalSetup == false && old.manager.allowsClassicalSetup)
        // Default: PQXDH.
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        let first = try alice.send("pq", to: bob)
        #expect(first[1] == MessageType.pqPreKey.rawValue)
        #expect(try bob.manager.receive(first, from: alice.address) == Array("pq".utf8))
        #expect(try bob.store.loadSessions(for: alice.address)?.current?.isPostQuantum == true)
        // A peer that publishes only classical bundles is refused...
        #expect(throws: MessagingError.setup(.postQuantumRequired)) {
            try alice.manager.startSession(with: old.address, bundle: old.manager.publishBundle(classical: true))
        }
        #expect(try alice.store.loadSessions(for: old.address) == nil)
        // ...and so is its classical first message.
        try old.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle(classical: true))
        let classical = try old.send("x3dh", to: bob)
        #expect(classical[1] == MessageType.preKey.rawValue)
        let accountBefore = try #require(try bob.store.loadAccount()).serialized()
        #expect(throws: MessagingError.setup(.postQuantumRequired)) { try bob.manager.receive(classical, from: old.address) }
        #expect(try bob.store.loadAccount()?.serialized() == accountBefore)
        #expect(try bob.store.loadSessions(for: old.address) == nil)
        #expect(try bob.manager.trustedIdentity(for: old.address) == nil)
        // A manager that opted in takes a PQ bundle with PQXDH all the same.
        try old.manager.startSession(with: alice.address, bundle: alice.manager.publishBundle())
        #expect(try old.store.loadSessions(for: alice.address)?.current?.isPostQuantum == true)
    }

    // MARK: The recipient's KEM prekeys

    /// A one-time KEM prekey is deleted only once a first message naming it
    /// authenticates; the last-resort one is kept; an unknown id is refused.
    @Test func kemPreKeyConsumption() throws {
        var bob = Account()
        bob.generateOneTimeKEMPreKeys(count: 2)
        let oneTime = bob.publishBundle()
        #expect(oneTime.kemPreKey?.id == bob.oneTimeKEMPreKeys[0].id && bob.unpublishedKEMPreKeyCount == 1)
        var alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: oneTime)
        let first = try alice.encrypt([7])
        var forged = first
        forged[forged.count - 1] ^= 1
        let before = bob.serialized()
        #expect(throws: SessionSetupError.firstMessageRejected(.authenticationFailure)) { try bob.acceptSession(from: forged) }
        #expect(bob.serialized() == before)
        _ = try bob.acceptSession(from: first)
        #expect(bob.oneTimeKEMPreKeys.count == 1 && bob.consumedKEMPreKeyIDs == [oneTime.kemPreKey!.id])
        #expect(bob.publishedKEMCount == 0)
        // The second one-time key, then the last-resort one when none is left.
        #expect(bob.publishBundle().kemPreKey?.id == bob.oneTimeKEMPreKeys[0].id)
        let lastResort = bob.publishBundle()
        #expect(lastResort.kemPreKey?.id == bob.currentLastResortKEMPreKey?.id)
        for i in 0..<3 {
            var a = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: lastResort)
            #expect(try bob.acceptSession(from: a.encrypt([UInt8(i)])).plaintext == [UInt8(i)])
        }
        #expect(bob.lastResortKEMPreKeys.count == 1)
        // A first message whose KEM id the account does not hold (a one-time
        // KEM prekey used already) is refused before any Diffie-Hellman.
        var account2 = bob
        account2.acceptedBaseKeys = [:]
        #expect(throws: SessionSetupError.unknownKEMPreKey(oneTime.kemPreKey!.id)) {
            try account2.acceptSession(from: first)
        }
    }

    /// Until the first reply the initiator repeats the same PQPreKeyMessage
    /// fields; one routed to the recipient's session must match them all
    /// (KEM id and ciphertext too), and a classical one never matches a PQ
    /// session: the setup fields are not malleable.
    @Test func repeatedFirstMessagesMustMatchTheSetup() throws {
        var p = try Pair()
        let second = try p.alice.encrypt([2])
        let third = try p.alice.encrypt([3])
        guard case .preKey(let m2) = try WireMessage(serialized: second),
              case .preKey(let m3) = try WireMessage(serialized: third) else { Issue.record("not prekeys"); return }
        #expect(m2.kem == m3.kem && m2.baseKey == m3.baseKey)
        var ct = third; ct[78 + 5] ^= 1               // a ciphertext byte
        var id = third; id[77] ^= 1                   // KEM_id
        // The classical form of the same message: type 0x02, KEM part removed.
        var classical = Array(third.prefix(74)) + third[1646...]
        classical[1] = MessageType.preKey.rawValue
        for bad in [ct, id, classical] {
            let before = p.bob.serialized()
            #expect(throws: DecryptError.setupMismatch) { try p.bob.decrypt(bad) }
            #expect(p.bob.serialized() == before)
        }
        #expect(try p.bob.decrypt(second) == [2])
        #expect(try p.bob.decrypt(third) == [3])
        // After a reply the initiator sends RatchetMessages and forgets the ciphertext.
        #expect(try p.alice.decrypt(p.bob.encrypt([4])) == [4])
        #expect(try p.alice.encrypt([5])[1] == MessageType.ratchet.rawValue && p.alice.pq?.ciphertext == nil)
    }

    /// Sessions survive their records: the initiator keeps the ciphertext it
    /// still has to repeat, the recipient its digest.
    @Test func sessionRecordsKeepThePQSetup() throws {
        var p = try Pair()
        var alice = try Session(serialized: p.alice.serialized())
        var bob = try Session(serialized: p.bob.serialized())
        #expect(alice.isPostQuantum && bob.isPostQuantum && alice.kemPreKeyID == bob.kemPreKeyID)
        let again = try alice.encrypt([1])
        #expect(again[1] == MessageType.pqPreKey.rawValue)
        #expect(try bob.decrypt(again) == [1])
        #expect(try p.bob.decrypt(again) == [1])
        let c = try Pair(classical: true)
        #expect(try !Session(serialized: c.alice.serialized()).isPostQuantum)
    }

    // MARK: Maintenance and records

    /// The last-resort KEM private key is expanded once and kept: the second
    /// first message against it expands nothing. A key served from memory is
    /// the account's own (seed checked), and a rotated-away key is forgotten.
    @Test func theLastResortKEMKeyIsExpandedOnce() throws {
        let cache = KEMKeyCache(capacity: 4)
        try KEMKeyCache.$testInstance.withValue(cache) {
            var bob = Account(createdAt: 1000)
            let bundle = bob.publishBundle()
            let lr = try #require(bob.currentLastResortKEMPreKey)
            #expect(bundle.kemPreKey?.id == lr.id)
            for round in 0..<3 {
                var a = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bundle)
                let work = KEMWork()
                let (_, pt) = try KEMWork.$current.withValue(work) { try bob.acceptSession(from: a.encrypt([UInt8(round)])) }
                #expect(pt == [UInt8(round)])
                #expect(work.expansions == 0, "round \(round): publishing expanded it already")
            }
            #expect(cache.count == 1)
            // Another account's key with the same binding but another seed is never served.
            let impostor = KEMPreKey(id: lr.id, seed: SecureBytes(randomCount: MLKEM.seedByteCount), binding: lr.binding,
                                     isLastResort: true, createdAt: 0)
            KEMKeyCache.$testInstance.withValue(KEMKeyCache(capacity: 4)) {
                _ = lr.privateKey()
                let work = KEMWork()
                let k = KEMWork.$current.withValue(work) { impostor.privateKey() }
                #expect(work.expansions == 1 && k.publicKey.binding != lr.binding)
            }
            // Kept through a rotation, forgotten once pruned.
            let policy = PreKeyPolicy(signedPreKeyLifetime: 100, signedPreKeyGracePeriod: 50)
            _ = bob.maintainPreKeys(now: 1100, policy: policy)
            let kept = KEMWork()
            _ = KEMWork.$current.withValue(kept) { lr.privateKey() }
            #expect(kept.expansions == 0)
            _ = bob.maintainPreKeys(now: 1150, policy: policy)
            #expect(!bob.lastResortKEMPreKeys.contains { $0.id == lr.id })
            let again = KEMWork()
            _ = KEMWork.$current.withValue(again) { lr.privateKey() }
            #expect(again.expansions == 1)
        }
    }

    /// The one-time KEM pool refills like the X25519 one; the last-resort KEM
    /// prekey rotates with the signed prekey and goes with it after the grace
    /// period; the upload carries signed public keys.
    @Test func maintenanceRefillsAndRotates() throws {
        var bob = Account(createdAt: 1000)
        let policy = PreKeyPolicy(minimumOneTimePreKeys: 2, targetOneTimePreKeys: 3, signedPreKeyLifetime: 100,
                                  signedPreKeyGracePeriod: 50, minimumOneTimeKEMPreKeys: 2, targetOneTimeKEMPreKeys: 4)
        let first = bob.maintainPreKeys(now: 1000, policy: policy)
        #expect(first.newKEMPreKeys.count == 4 && first.newLastResortKEMPreKey == nil)
        for k in first.newKEMPreKeys {
            #expect(bob.identity.publicKey.isValidSignature(k.signature, for: k.publicKey.encoded))
        }
        #expect(Set(first.newKEMPreKeys.map(\.id)).count == 4)
        // Publish three: one unpublished left, below the minimum: refilled to 4.
        for _ in 0..<3 { _ = bob.publishBundle() }
        let refill = bob.maintainPreKeys(now: 1010, policy: policy)
        #expect(refill.newKEMPreKeys.count == 3 && bob.unpublishedKEMPreKeyCount == 4)
        // Rotation: a new signed prekey brings a new last-resort KEM prekey.
        let lr1 = try #require(bob.currentLastResortKEMPreKey)
        let rotated = bob.maintainPreKeys(now: 1100, policy: policy)
        let lr2 = try #require(rotated.newLastResortKEMPreKey)
        #expect(rotated.newSignedPreKey != nil && lr2.id != lr1.id && bob.lastResortKEMPreKeys.map(\.id) == [lr1.id, lr2.id])
        #expect(bob.identity.publicKey.isValidSignature(lr2.signature, for: lr2.publicKey.encoded))
        // Still kept for messages in flight, then gone with the old signed prekey.
        #expect(bob.maintainPreKeys(now: 1140, policy: policy).removedKEMPreKeyIDs.isEmpty)
        let pruned = bob.maintainPreKeys(now: 1150, policy: policy)
        #expect(pruned.removedKEMPreKeyIDs == [lr1.id] && pruned.removedSignedPreKeyIDs.count == 1)
        #expect(bob.lastResortKEMPreKeys.map(\.id) == [lr2.id])
        // Ids are never reused.
        let all = bob.oneTimeKEMPreKeys.map(\.id) + bob.lastResortKEMPreKeys.map(\.id)
        #expect(Set(all).count == all.count && !all.contains(lr1.id))
    }

    /// The account record keeps the KEM prekeys as seeds (small, sealed like
    /// the rest); a record from before PQXDH loads as an account without KEM
    /// prekeys, which its next bundle gives a last-resort one.
    @Test func accountRecords() throws {
        var bob = Account()
        bob.generateOneTimePreKeys(count: 2)
        bob.generateOneTimeKEMPreKeys(count: 100)
        _ = bob.publishBundle()
        let bytes = bob.serialized()
        #expect(bytes.count < 1024 + 100 * (4 + 4 + MLKEM.seedByteCount + 32))
        let loaded = try Account(serialized: bytes)
        #expect(loaded.serialized() == bytes)
        #expect(loaded.oneTimeKEMPreKeys.map(\.id) == bob.oneTimeKEMPreKeys.map(\.id) && loaded.publishedKEMCount == 1)
        #expect(loaded.oneTimeKEMPreKeys[5].privateKey().publicKey == bob.oneTimeKEMPreKeys[5].privateKey().publicKey)
        // The record before PQXDH ends where the KEM section starts: a fresh
        // account's section is tag, next id, published, 1 last-resort key (id,
        // created at, seed), no one-time key, no consumed id.
        var old = Account()
        old.generateOneTimePreKeys(count: 1)
        let oldBytes = old.serialized()
        let cut = oldBytes.count - (1 + 1 + 1 + 1 + 1 + 1 + MLKEM.seedByteCount + 32 + 1 + 1)
        #expect(oldBytes[cut] == Account.kemSectionTag)
        var upgraded = try Account(serialized: Array(oldBytes[..<cut]))
        #expect(upgraded.lastResortKEMPreKeys.isEmpty && upgraded.oneTimeKEMPreKeys.isEmpty)
        let bundle = upgraded.publishBundle()
        #expect(bundle.isPostQuantum && upgraded.lastResortKEMPreKeys.count == 1 && bundle.verifySignatures())
        // Corrupt KEM sections are errors, never a silently empty pool.
        var dup = bob
        dup.oneTimeKEMPreKeys.append(dup.oneTimeKEMPreKeys[0])
        #expect(throws: RecordError.malformed("duplicate KEM prekey id")) { try Account(serialized: dup.serialized()) }
        #expect(throws: RecordError.self) { try Account(serialized: Array(bytes.dropLast(1))) }
    }
}

extension PQXDHTests {
    /// An id is never handed out while it is held, even by an account whose
    /// record's next id is behind its keys (found by the account_record
    /// harness: the account then made a duplicate id and its record stopped loading).
    @Test func idsAreNeverHandedOutTwice() throws {
        var bob = Account()
        bob.generateOneTimePreKeys(count: 3)
        bob.generateOneTimeKEMPreKeys(count: 3)
        bob.nextPreKeyID = 2
        bob.nextKEMPreKeyID = 1
        bob.lastResortKEMPreKeys = []
        _ = bob.publishBundle(); _ = bob.publishBundle(); _ = bob.publishBundle()
        _ = bob.publishBundle()                    // makes a last-resort KEM prekey
        bob.generateOneTimePreKeys(count: 2)
        bob.generateOneTimeKEMPreKeys(count: 2)
        let kem = (bob.lastResortKEMPreKeys + bob.oneTimeKEMPreKeys).map(\.id)
        let otk = bob.oneTimePreKeys.map(\.id)
        #expect(Set(kem).count == kem.count && kem.count == 6)
        #expect(Set(otk).count == otk.count && otk.count == 5)
        #expect(try Account(serialized: bob.serialized()).serialized() == bob.serialized())
    }
}
