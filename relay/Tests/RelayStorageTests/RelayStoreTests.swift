import E2EE
import Foundation
import RelayProtocol
import Testing
@testable import RelayStorage

@Suite struct DeviceAndTokenTests {
    @Test(arguments: Backend.available) func addExistsAndRemoveWithEverythingOfTheDevice(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let alice1 = address("alice", 1), alice2 = address("alice", 2)
            #expect(try await store.addDevice(alice1, identity: Keys.identity.publicKey, nowMs: 5) == .added)
            #expect(try await store.addDevice(alice1, identity: Keys.identity.publicKey, nowMs: 6) == .exists(sameIdentity: true))
            #expect(try await store.addDevice(alice1, identity: Keys.otherIdentity.publicKey, nowMs: 6) == .exists(sameIdentity: false))
            try await store.add(alice2, identity: Keys.otherIdentity)
            #expect(try await store.identity(of: alice1) == Keys.identity.publicKey)
            #expect(try await store.identity(of: alice2) == Keys.otherIdentity.publicKey)
            #expect(try await store.identity(of: address("alice", 3)) == nil)
            #expect(try await store.deviceIDs(ofUser: "alice") == [1, 2])
            #expect(try await store.deviceIDs(ofUser: "nobody") == [])

            // Give device 2 a token, keys and a message, then remove it.
            try await store.addToken(hash: [1, 2, 3], for: alice2, expiresMs: 1000)
            try await store.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 1, by: Keys.otherIdentity),
                                                     oneTimePreKeys: Keys.oneTime([1, 2]),
                                                     lastResortKEMPreKey: Keys.kem(id: 1, key: 0, by: Keys.otherIdentity),
                                                     oneTimeKEMPreKeys: [Keys.kem(id: 2, key: 1, by: Keys.otherIdentity)]),
                                           for: alice2, nowMs: 1)
            #expect(queuedIDs(try await store.enqueue(toUser: "alice", from: alice1, messages: [2: [9]], nowMs: 1, expiresMs: 1000)) != nil)

            #expect(try await store.removeDevice(alice2))
            #expect(try await store.removeDevice(alice2) == false)
            #expect(try await store.deviceIDs(ofUser: "alice") == [1])
            #expect(try await store.tokenOwner(hash: [1, 2, 3], nowMs: 0) == nil)
            #expect(try await store.queueDepth(for: alice2) == 0)
            #expect(try await store.preKeyCounts(for: alice2) == PreKeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0))

            // Added again, the device starts empty: no key of its previous life is served.
            try await store.add(alice2, identity: Keys.otherIdentity)
            #expect(try await store.claimBundle(for: alice2) == nil)
            #expect(try await store.pending(for: alice2, after: 0, limit: 10, nowMs: 0).isEmpty)
        }
    }

    @Test(arguments: Backend.available) func tokensExpireAndNeedTheirDevice(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let bob = address("bob", 1)
            try await store.add(bob)
            let hash = [UInt8](repeating: 0xAB, count: 32)
            try await store.addToken(hash: hash, for: bob, expiresMs: 100)
            #expect(try await store.tokenOwner(hash: hash, nowMs: 99) == bob)
            #expect(try await store.tokenOwner(hash: hash, nowMs: 100) == nil)
            #expect(try await store.tokenOwner(hash: [UInt8](repeating: 0xAC, count: 32), nowMs: 0) == nil)

            await #expect(throws: RelayStoreError.self) {
                try await store.addToken(hash: [1], for: address("bob", 2), expiresMs: 100)
            }

            // deleteExpired drops the token row: a clock going back does not revive it.
            try await store.addToken(hash: [2], for: bob, expiresMs: 500)
            #expect(try await store.deleteExpired(nowMs: 200) == 0)
            #expect(try await store.tokenOwner(hash: hash, nowMs: 0) == nil)
            #expect(try await store.tokenOwner(hash: [2], nowMs: 0) == bob)
        }
    }
}

@Suite struct KeyDirectoryTests {
    @Test(arguments: Backend.available) func claimsHandOutOneTimeKeysInIDOrderThenTheLastResort(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let bob = address("bob", 1)
            try await store.add(bob)
            #expect(try await store.claimBundle(for: address("bob", 2)) == nil)
            #expect(try await store.claimBundle(for: bob) == nil)   // no signed prekey yet

            try await store.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 7),
                                                     oneTimePreKeys: Keys.oneTime([9, 3, 5]),
                                                     lastResortKEMPreKey: Keys.kem(id: 1, key: 0),
                                                     oneTimeKEMPreKeys: [Keys.kem(id: 4, key: 1), Keys.kem(id: 2, key: 2)]),
                                           for: bob, nowMs: 1)
            #expect(try await store.preKeyCounts(for: bob) == PreKeyCounts(oneTimePreKeys: 3, oneTimeKEMPreKeys: 2))

            var claimed: [(opk: UInt32?, kem: UInt32?)] = []
            for _ in 0..<4 {
                let bundle = try #require(try await store.claimBundle(for: bob))
                #expect(bundle.verifySignatures())
                #expect(bundle.identityKey == Keys.identity.publicKey)
                #expect(bundle.signedPreKeyID.rawValue == 7)
                #expect(bundle.signedPreKey == Keys.x25519(1))
                if let opk = bundle.oneTimePreKey {
                    #expect(opk.publicKey == Keys.x25519(UInt8(opk.id.rawValue + 10)))
                }
                claimed.append((bundle.oneTimePreKey?.id.rawValue, bundle.kemPreKey?.id.rawValue))
            }
            #expect(claimed.map(\.opk) == [3, 5, 9, nil])
            #expect(claimed.map(\.kem) == [2, 4, 1, 1])
            #expect(try await store.preKeyCounts(for: bob) == PreKeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0))

            // A later signed prekey becomes current; the newest last-resort KEM prekey is served.
            try await store.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 8, seed: 2),
                                                     lastResortKEMPreKey: Keys.kem(id: 6, key: 3)),
                                           for: bob, nowMs: 2)
            var bundle = try #require(try await store.claimBundle(for: bob))
            #expect(bundle.signedPreKeyID.rawValue == 8 && bundle.signedPreKey == Keys.x25519(2))
            #expect(bundle.kemPreKey?.id.rawValue == 6)

            // Re-uploading an older id makes it current again (uploaded last wins, not highest id).
            try await store.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 7)), for: bob, nowMs: 3)
            bundle = try #require(try await store.claimBundle(for: bob))
            #expect(bundle.signedPreKeyID.rawValue == 7)

            // Removing the current signed prekey is ignored (the device would be unreachable);
            // removing an old one and KEM ids works.
            try await store.applyKeyUpload(KeyUpload(removedSignedPreKeyIDs: [SignedPreKeyID(rawValue: 7), SignedPreKeyID(rawValue: 8)],
                                                     removedKEMPreKeyIDs: [KEMPreKeyID(rawValue: 6)]),
                                           for: bob, nowMs: 4)
            bundle = try #require(try await store.claimBundle(for: bob))
            #expect(bundle.signedPreKeyID.rawValue == 7)
            #expect(bundle.kemPreKey?.id.rawValue == 1)
            try await store.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 8, seed: 2)), for: bob, nowMs: 5)
            bundle = try #require(try await store.claimBundle(for: bob))
            #expect(bundle.signedPreKeyID.rawValue == 8)   // 7's removal did not take 8 with it

            // A one-time prekey id uploaded again replaces the key held under it.
            try await store.applyKeyUpload(KeyUpload(oneTimePreKeys: Keys.oneTime([20])), for: bob, nowMs: 6)
            try await store.applyKeyUpload(KeyUpload(oneTimePreKeys: [KeyUpload.OneTimePreKey(id: PreKeyID(rawValue: 20), publicKey: Keys.x25519(99))]),
                                           for: bob, nowMs: 7)
            #expect(try await store.preKeyCounts(for: bob).oneTimePreKeys == 1)
            bundle = try #require(try await store.claimBundle(for: bob))
            #expect(bundle.oneTimePreKey?.publicKey == Keys.x25519(99))

            await #expect(throws: RelayStoreError.self) {
                try await store.applyKeyUpload(KeyUpload(oneTimePreKeys: Keys.oneTime([1])), for: address("carol", 1), nowMs: 1)
            }
        }
    }

    /// The proof that no one-time key reaches two fetchers.
    @Test(arguments: Backend.available) func concurrentClaimsHandOutEveryOneTimeKeyExactlyOnce(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let bob = address("bob", 1)
            try await store.add(bob)
            let opkIDs = (1...40).map { UInt32($0 * 3) }
            let kemIDs = (0..<10).map { UInt32(100 + $0) }
            try await store.applyKeyUpload(
                KeyUpload(signedPreKey: Keys.signedPreKey(id: 1), oneTimePreKeys: Keys.oneTime(opkIDs),
                          lastResortKEMPreKey: Keys.kem(id: 7, key: 10),
                          oneTimeKEMPreKeys: kemIDs.enumerated().map { Keys.kem(id: $0.element, key: $0.offset) }),
                for: bob, nowMs: 1)

            let bundles = try await withThrowingTaskGroup(of: PreKeyBundle?.self) { group in
                for _ in 0..<200 { group.addTask { try await store.claimBundle(for: bob) } }
                var all: [PreKeyBundle] = []
                for try await bundle in group { all.append(try #require(bundle)) }
                return all
            }
            #expect(bundles.count == 200)
            let opks = bundles.compactMap { $0.oneTimePreKey?.id.rawValue }
            #expect(opks.count == 40)
            #expect(Set(opks) == Set(opkIDs))
            #expect(bundles.filter { $0.oneTimePreKey == nil }.count == 160)
            let kems = bundles.map { $0.kemPreKey?.id.rawValue }
            let oneTimeKEMs = kems.filter { $0 != 7 }
            #expect(oneTimeKEMs.count == 10)
            #expect(Set(oneTimeKEMs) == Set(kemIDs))
            #expect(kems.filter { $0 == 7 }.count == 190)
            for bundle in bundles {
                let parsed = try PreKeyBundle(serialized: bundle.serialized)
                #expect(parsed == bundle)
                #expect(parsed.verifySignatures())
            }
            #expect(try await store.preKeyCounts(for: bob) == PreKeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0))
        }
    }
}

@Suite struct MailboxTests {
    @Test(arguments: Backend.available) func aWrongDeviceListQueuesNothingAndNamesTheDifference(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let sender = address("alice", 1)
            try await store.add(sender)
            for device: UInt32 in [1, 2, 4] { try await store.add(address("bob", device)) }

            let wrong = try await store.enqueue(toUser: "bob", from: sender, messages: [1: [1], 3: [3], 5: [5]], nowMs: 1, expiresMs: 100)
            #expect(wrong == .mismatch(missing: [2, 4], extra: [3, 5]))
            for device: UInt32 in [1, 2, 4] { #expect(try await store.queueDepth(for: address("bob", device)) == 0) }

            #expect(try await store.enqueue(toUser: "nobody", from: sender, messages: [2: [1], 1: [1]], nowMs: 1, expiresMs: 100)
                    == .mismatch(missing: [], extra: [1, 2]))

            let ids = try #require(queuedIDs(try await store.enqueue(toUser: "bob", from: sender, messages: [1: [1], 2: [2], 4: [4]],
                                                                       nowMs: 1, expiresMs: 100)))
            #expect(ids.keys.sorted() == [1, 2, 4])
            #expect(Set(ids.values).count == 3)
            for device: UInt32 in [1, 2, 4] {
                let envelopes = try await store.pending(for: address("bob", device), after: 0, limit: 10, nowMs: 2)
                #expect(envelopes.map(\.ciphertext) == [[UInt8(device)]])
                #expect(envelopes.map(\.serverID) == [ids[device]])
                #expect(envelopes.first?.sender == sender)
                #expect(envelopes.first?.serverTimeMilliseconds == 1)
            }

            await #expect(throws: RelayStoreError.self) {
                try await store.enqueue(toUser: "bob", from: sender,
                                        messages: [1: [], 2: [], 4: [UInt8](repeating: 0, count: Envelope.maxMessageBytes + 1)],
                                        nowMs: 1, expiresMs: 100)
            }
        }
    }

    @Test(arguments: Backend.available) func theSendersOwnDeviceIsLeftOut(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            for device: UInt32 in [1, 2, 3] { try await store.add(address("alice", device)) }
            let sender = address("alice", 2)
            #expect(try await store.enqueue(toUser: "alice", from: sender, messages: [1: [1], 2: [2], 3: [3]], nowMs: 1, expiresMs: 9)
                    == .mismatch(missing: [], extra: [2]))
            #expect(queuedIDs(try await store.enqueue(toUser: "alice", from: sender, messages: [1: [1], 3: [3]], nowMs: 1, expiresMs: 9)) != nil)
            #expect(try await store.queueDepth(for: sender) == 0)

            // Another user's device 2 is not the sender: it must be named.
            try await store.add(address("bob", 2))
            #expect(try await store.enqueue(toUser: "bob", from: sender, messages: [:], nowMs: 1, expiresMs: 9)
                    == .mismatch(missing: [2], extra: []))
        }
    }

    @Test(arguments: Backend.available) func pendingIsOrderedAfterIDLimitedAndUnexpired(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let bob = address("bob", 1), alice = address("alice", 1)
            try await store.add(bob)
            var ids: [UInt64] = []
            for i in 0..<6 {
                // Messages 0, 2 and 4 expire at 50; the others at 500.
                let result = try await store.enqueue(toUser: "bob", from: alice, messages: [1: [UInt8(i)]],
                                                     nowMs: UInt64(i), expiresMs: i % 2 == 0 ? 50 : 500)
                ids.append(try #require(queuedIDs(result)?[1]))
            }
            #expect(ids == ids.sorted() && Set(ids).count == 6)

            let all = try await store.pending(for: bob, after: 0, limit: 100, nowMs: 10)
            #expect(all.map(\.ciphertext) == (0..<6).map { [UInt8($0)] })
            #expect(try await store.pending(for: bob, after: 0, limit: 2, nowMs: 10).map(\.serverID) == Array(ids[0..<2]))
            #expect(try await store.pending(for: bob, after: ids[2], limit: 2, nowMs: 10).map(\.serverID) == Array(ids[3..<5]))
            #expect(try await store.pending(for: bob, after: 0, limit: 0, nowMs: 10).isEmpty)
            #expect(try await store.pending(for: bob, after: 0, limit: 100, nowMs: 50).map(\.serverID) == [ids[1], ids[3], ids[5]])
            #expect(try await store.pending(for: address("bob", 2), after: 0, limit: 100, nowMs: 0).isEmpty)

            #expect(try await store.deleteExpired(nowMs: 50) == 3)
            #expect(try await store.queueDepth(for: bob) == 3)
            #expect(try await store.pending(for: bob, after: 0, limit: 100, nowMs: 0).map(\.serverID) == [ids[1], ids[3], ids[5]])
        }
    }

    @Test(arguments: Backend.available) func onlyTheRecipientDeviceCanAcknowledge(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let bob1 = address("bob", 1), bob2 = address("bob", 2), alice = address("alice", 1)
            try await store.add(bob1)
            try await store.add(bob2)
            let ids = try #require(queuedIDs(try await store.enqueue(toUser: "bob", from: alice, messages: [1: [1], 2: [2]],
                                                                       nowMs: 1, expiresMs: 100)))
            let id1 = try #require(ids[1])
            #expect(try await store.acknowledge(id1, for: bob2) == false)
            #expect(try await store.acknowledge(id1, for: address("eve", 1)) == false)
            #expect(try await store.queueDepth(for: bob1) == 1)
            #expect(try await store.acknowledge(id1, for: bob1))
            #expect(try await store.acknowledge(id1, for: bob1) == false)
            #expect(try await store.acknowledge(.max, for: bob1) == false)
            #expect(try await store.queueDepth(for: bob1) == 0)
            #expect(try await store.queueDepth(for: bob2) == 1)
        }
    }
}

@Suite struct DurabilityTests {
    @Test(arguments: Backend.available) func serverIDsAreNeverReusedAfterDeletesAndReopening(_ backend: Backend) async throws {
        try await withStore(backend) { first, opener in
            let bob = address("bob", 1), alice = address("alice", 1)
            try await first.add(bob)
            var highest: UInt64 = 0
            for i in 0..<3 {
                let id = try #require(queuedIDs(try await first.enqueue(toUser: "bob", from: alice, messages: [1: [UInt8(i)]],
                                                                          nowMs: 1, expiresMs: 100))?[1])
                #expect(try await first.acknowledge(id, for: bob))
                highest = max(highest, id)
            }
            #expect(try await first.queueDepth(for: bob) == 0)
            await opener.close(first)

            let second = try await opener.open()
            let next = try #require(queuedIDs(try await second.enqueue(toUser: "bob", from: alice, messages: [1: [9]],
                                                                         nowMs: 1, expiresMs: 100))?[1])
            #expect(next > highest)
        }
    }

    @Test(arguments: Backend.available) func aReopenedFileHoldsTheQueueTheKeysAndTheTokens(_ backend: Backend) async throws {
        try await withStore(backend) { first, opener in
            let bob = address("bob", 1), alice = address("alice", 1)
            try await first.add(bob)
            try await first.addToken(hash: [7, 7], for: bob, expiresMs: 1000)
            try await first.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 3), oneTimePreKeys: Keys.oneTime([1, 2]),
                                                     lastResortKEMPreKey: Keys.kem(id: 1, key: 0)),
                                           for: bob, nowMs: 1)
            let ids = try #require(queuedIDs(try await first.enqueue(toUser: "bob", from: alice, messages: [1: [1, 2, 3]],
                                                                       nowMs: 4, expiresMs: 1000)))
            await opener.close(first)
            await #expect(throws: RelayStoreError.self) { try await first.queueDepth(for: bob) }

            let second = try await opener.open()
            let envelopes = try await second.pending(for: bob, after: 0, limit: 10, nowMs: 5)
            #expect(envelopes == [try Envelope(serverID: try #require(ids[1]), serverTimeMilliseconds: 4, sender: alice, ciphertext: [1, 2, 3])])
            #expect(try await second.tokenOwner(hash: [7, 7], nowMs: 5) == bob)
            #expect(try await second.identity(of: bob) == Keys.identity.publicKey)
            #expect(try await second.preKeyCounts(for: bob) == PreKeyCounts(oneTimePreKeys: 2, oneTimeKEMPreKeys: 0))
            let bundle = try #require(try await second.claimBundle(for: bob))
            #expect(bundle.signedPreKeyID.rawValue == 3 && bundle.oneTimePreKey?.id.rawValue == 1 && bundle.kemPreKey?.id.rawValue == 1)
        }
    }

    /// WAL with FULL: a commit is on disk when COMMIT returns (NORMAL may lose
    /// the last commits on power loss).
    @Test func theConnectionRunsWALWithFullSync() async throws {
        try await withStore { store, _ in
            let settings = try await store.writer.perform { db throws(RelayStoreError) in
                let mode = try db.prepared("PRAGMA journal_mode")
                let sync = try db.prepared("PRAGMA synchronous")
                guard try mode.step(), try sync.step() else { throw RelayStoreError("no pragma row") }
                return "\(mode.text(0)) \(sync.int64(0))"
            }
            #expect(settings == "wal 2")
        }
    }

    @Test func aFileFromANewerRelayIsRefused() async throws {
        try await withStore { store, path in
            store.close()
            let connection = try SQLiteConnection(path: path)
            try connection.exec("PRAGMA user_version = \(SQLiteRelayStore.schemaVersion + 1)")
            connection.close()
            #expect(throws: RelayStoreError.self) { try SQLiteRelayStore(path: path) }
        }
    }

    /// Twenty enqueues and one job that writes and then fails are lined up
    /// behind a job holding the writer, so that they share one transaction.
    @Test func aFailingJobIsRolledBackAloneWhileItsBatchCommits() async throws {
        try await withStore { store, path in
            let bob = address("bob", 1), alice = address("alice", 1)
            try await store.add(bob)
            let writer = store.writer
            let blocker = await holdWriter(writer, until: 21)

            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        let result = try? await store.enqueue(toUser: "bob", from: alice, messages: [1: [UInt8(i)]], nowMs: 1, expiresMs: 100)
                        return result.flatMap(queuedIDs) != nil
                    }
                }
                group.addTask {
                    do {
                        try await writer.perform { db throws(RelayStoreError) in
                            let insert = try db.prepared("""
                                INSERT INTO messages(user, device, sender_user, sender_device, received_ms, expires_ms, body)
                                VALUES ('bob', 1, 'alice', 1, 1, 100, x'ff')
                                """)
                            try insert.run()
                            throw RelayStoreError("failing on purpose")
                        }
                        return false
                    } catch {
                        return (error as? RelayStoreError)?.description == "failing on purpose"
                    }
                }
                var all: [Bool] = []
                for await ok in group { all.append(ok) }
                return all
            }
            try await blocker.value
            #expect(outcomes.count == 21 && outcomes.allSatisfy { $0 })
            #expect(writer.largestBatch >= 21)
            let bodies = try await store.pending(for: bob, after: 0, limit: 100, nowMs: 2).map(\.ciphertext)
            #expect(Set(bodies) == Set((0..<20).map { [UInt8($0)] }))
            store.close()

            let reopened = try SQLiteRelayStore(path: path)
            defer { reopened.close() }
            #expect(try await reopened.queueDepth(for: bob) == 20)
        }
    }

    /// A job that breaks the transaction (here by ending it) leaves no job of
    /// its batch known to be durable: every one reports the error, nothing is
    /// queued, and the next batch works.
    @Test func aBrokenTransactionFailsEveryJobOfItsBatch() async throws {
        try await withStore { store, _ in
            let bob = address("bob", 1), alice = address("alice", 1)
            try await store.add(bob)
            let writer = store.writer
            let holder = await holdWriter(writer, until: 6)
            let failures = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<5 {
                    group.addTask {
                        (try? await store.enqueue(toUser: "bob", from: alice, messages: [1: [UInt8(i)]], nowMs: 1, expiresMs: 100)) == nil
                    }
                }
                group.addTask {
                    (try? await writer.perform { db throws(RelayStoreError) in try db.exec("ROLLBACK") }) == nil
                }
                var all: [Bool] = []
                for await failed in group { all.append(failed) }
                return all
            }
            try await holder.value
            #expect(writer.largestBatch >= 6)
            #expect(failures == [Bool](repeating: true, count: 6))
            #expect(try await store.queueDepth(for: bob) == 0)
            #expect(queuedIDs(try await store.enqueue(toUser: "bob", from: alice, messages: [1: [9]], nowMs: 1, expiresMs: 100)) != nil)
            #expect(try await store.queueDepth(for: bob) == 1)
        }
    }
}
