import Foundation
import Testing
@testable import E2EE
@testable import E2EEStore

/// A fresh directory under the temporary directory, removed afterwards.
private func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("SQLiteStoreTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

/// Raw SQL against the file through a second connection, as an attacker or a
/// failing disk would change it.
private func rawSQL(_ path: String, _ sql: String, _ arguments: [SQLValue] = []) throws {
    var c = try SQLiteConnection(path: path)
    try c.run(sql, arguments, cache: false, during: "test")
}

private func rawBlob(_ path: String, _ sql: String, _ arguments: [SQLValue] = []) throws -> [UInt8]? {
    var c = try SQLiteConnection(path: path)
    return try c.blob(sql, arguments, during: "test")
}

/// A store's worth of real records: Bob's account, his session with Alice,
/// Alice's identity and two decrypted messages.
private struct Fixture {
    let pair: Pair
    let alice = ProtocolAddress(userID: "alice", deviceID: 1)
    let sessions: SessionSet

    init() throws {
        pair = try Pair()
        sessions = SessionSet(current: pair.bob)
    }

    var changes: StoreChanges {
        var c = StoreChanges()
        c.account = pair.bobAccount
        c.sessions[alice] = sessions
        c.identities[alice] = pair.aliceIdentity.publicKey
        c.inbound = [(alice, Array("first".utf8), 1_700_000_000, nil), (alice, [], 1_700_000_001, "held: spam ✓")]
        return c
    }
}

@Suite("SQLiteStore")
struct SQLiteStoreTests {
    let key = StorageKey()

    @Test func roundTripAndReopen() throws {
        let f = try Fixture()
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            var store: SQLiteStore? = try SQLiteStore(path: path, key: key)
            #expect(try store!.loadAccount() == nil)
            #expect(try store!.loadSessions(for: f.alice) == nil)
            #expect(try store!.inboundMessages(after: 0, limit: 10).isEmpty)
            try store!.commit(f.changes)

            for _ in 0..<2 {
                let s = try #require(store)
                #expect(try s.loadAccount()?.serialized() == f.pair.bobAccount.serialized())
                #expect(try s.loadSessions(for: f.alice)?.serialized() == f.sessions.serialized())
                #expect(try s.loadIdentity(for: f.alice) == f.pair.aliceIdentity.publicKey)
                #expect(try s.loadIdentity(for: ProtocolAddress(userID: "alice", deviceID: 2)) == nil)
                #expect(try s.deviceIDs(of: "alice") == [1])
                #expect(try s.deviceIDs(of: "bob") == [])
                #expect(try s.inboundMessages(after: 0, limit: 10) == [
                    InboundMessage(sequence: 1, sender: f.alice, plaintext: Array("first".utf8), receivedAt: 1_700_000_000),
                    InboundMessage(sequence: 2, sender: f.alice, plaintext: [], receivedAt: 1_700_000_001,
                                   heldReason: "held: spam ✓"),
                ])
                #expect(try s.inboundMessages(after: 1, limit: 10).map(\.sequence) == [2])
                #expect(try s.inboundMessages(after: 0, limit: 1).map(\.sequence) == [1])
                // Reopen from the file.
                store = nil
                store = try SQLiteStore(path: path, key: key, synchronous: .full)
            }

            // A loaded session still talks to its peer.
            var p = f.pair
            var bob = try #require(try store!.loadSessions(for: f.alice))
            let m = Array("after reopen".utf8)
            #expect(try p.alice.decrypt(bob.encrypt(m)) == m)

            // The database and, while it is open, its log and shared memory are private.
            for file in [path, path + "-wal", path + "-shm"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(file)")
            }
        }
    }

    /// Inbound records: version 2 carries the content policy's hold; version 1
    /// (0.7.0 and before) still opens, as not held; a bad flag or a truncated
    /// reason is refused.
    @Test func inboundRecordVersions() throws {
        let alice = ProtocolAddress(userID: "alice", deviceID: 3)
        for reason in [nil, "", "spam ✓"] as [String?] {
            let r = InboundRecord(sender: alice, receivedAt: 9, plaintext: [1, 2], heldReason: reason)
            let back = try InboundRecord(serialized: r.serialized())
            #expect(back.heldReason == reason && back.plaintext == [1, 2] && back.sender == alice && back.receivedAt == 9)
        }
        // Version 1: no held field at all.
        let v1: [UInt8] = [1, 0, 0, 0, 5] + Array("alice".utf8) + [0, 0, 0, 3] + [0, 0, 0, 0, 0, 0, 0, 9] + [0, 0, 0, 2, 1, 2]
        let old = try InboundRecord(serialized: v1)
        #expect(old.heldReason == nil && old.plaintext == [1, 2] && old.sender == alice)
        #expect(throws: RecordError.trailingBytes(count: 1)) { try InboundRecord(serialized: v1 + [0]) }
        var v2 = v1
        v2[0] = 2
        #expect(try InboundRecord(serialized: v2 + [0]).heldReason == nil)
        #expect(throws: RecordError.truncated) { try InboundRecord(serialized: v2) }
        #expect(throws: RecordError.malformed("held flag")) { try InboundRecord(serialized: v2 + [2]) }
        #expect(throws: RecordError.truncated) { try InboundRecord(serialized: v2 + [1, 0, 0, 0, 4, 65]) }
        #expect(throws: RecordError.malformed("held reason")) { try InboundRecord(serialized: v2 + [1, 0, 0, 0, 1, 0xff]) }
        v2[0] = 3
        #expect(throws: RecordError.unsupportedVersion(3)) { try InboundRecord(serialized: v2 + [0]) }
    }

    @Test func upsertsAndDevices() throws {
        let f = try Fixture()
        let store = try SQLiteStore(path: ":memory:", key: key)
        var c = StoreChanges()
        for device: UInt32 in [7, 2, 5] { c.sessions[ProtocolAddress(userID: "carol", deviceID: device)] = SessionSet() }
        c.sessions[ProtocolAddress(userID: "carolyn", deviceID: 1)] = SessionSet()
        try store.commit(c)
        #expect(try store.deviceIDs(of: "carol") == [2, 5, 7])
        let address = ProtocolAddress(userID: "carol", deviceID: 5)
        #expect(try store.loadSessions(for: address)?.current == nil)
        var update = StoreChanges()
        update.sessions[address] = f.sessions
        try store.commit(update)
        #expect(try store.loadSessions(for: address)?.serialized() == f.sessions.serialized())
        #expect(try store.deviceIDs(of: "carol") == [2, 5, 7])
    }

    @Test func wrongKeyIsAnError() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            try SQLiteStore(path: path, key: key).commit(Fixture().changes)
            #expect(throws: StorageError.sealedRecordRejected(kind: "keycheck")) {
                try SQLiteStore(path: path, key: StorageKey())
            }
            // The right key still opens it.
            #expect(try SQLiteStore(path: path, key: key).loadAccount() != nil)
        }
    }

    @Test func tamperedAndMovedRecordsAreRejected() throws {
        let f = try Fixture()
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            let bob = ProtocolAddress(userID: "bob", deviceID: 3)
            var changes = f.changes
            changes.sessions[bob] = SessionSet(current: f.pair.alice)
            changes.identities[bob] = f.pair.bobAccount.identity.publicKey
            try SQLiteStore(path: path, key: key).commit(changes)

            let select = "SELECT record FROM sessions WHERE user = ? AND device = ?"
            let aliceBlob = try #require(try rawBlob(path, select, [.text("alice"), .integer(1)]))
            let bobBlob = try #require(try rawBlob(path, select, [.text("bob"), .integer(3)]))
            let update = "UPDATE sessions SET record = ? WHERE user = ? AND device = ?"

            // One flipped byte in the middle of a session record.
            var flipped = aliceBlob
            flipped[flipped.count / 2] ^= 0x01
            try rawSQL(path, update, [.blob(flipped), .text("alice"), .integer(1)])
            var store = try SQLiteStore(path: path, key: key)
            #expect(throws: StorageError.sealedRecordRejected(kind: "sessions")) { try store.loadSessions(for: f.alice) }
            #expect(try store.loadSessions(for: bob) != nil)
            store.close()

            // Two intact records swapped between rows: the id in the associated data binds each to its row.
            try rawSQL(path, update, [.blob(bobBlob), .text("alice"), .integer(1)])
            try rawSQL(path, update, [.blob(aliceBlob), .text("bob"), .integer(3)])
            store = try SQLiteStore(path: path, key: key)
            #expect(throws: StorageError.sealedRecordRejected(kind: "sessions")) { try store.loadSessions(for: f.alice) }
            #expect(throws: StorageError.sealedRecordRejected(kind: "sessions")) { try store.loadSessions(for: bob) }
            // Swapped back, both open again.
            try rawSQL(path, update, [.blob(aliceBlob), .text("alice"), .integer(1)])
            try rawSQL(path, update, [.blob(bobBlob), .text("bob"), .integer(3)])
            #expect(try store.loadSessions(for: f.alice)?.serialized() == f.sessions.serialized())

            // A record of another kind moved into the row fails too (kind is in the associated data).
            let identityBlob = try #require(try rawBlob(path, "SELECT record FROM identities WHERE user = 'alice'"))
            try rawSQL(path, update, [.blob(identityBlob), .text("alice"), .integer(1)])
            #expect(throws: StorageError.sealedRecordRejected(kind: "sessions")) { try store.loadSessions(for: f.alice) }

            // Inbound rows renumbered: the sequence is in the associated data.
            try rawSQL(path, "UPDATE inbound SET seq = seq + 10")
            #expect(throws: StorageError.sealedRecordRejected(kind: "inbound")) {
                try store.inboundMessages(after: 0, limit: 10)
            }

            // The account blob truncated below the seal overhead.
            try rawSQL(path, "UPDATE meta SET value = x'00' WHERE name = 'account'")
            #expect(throws: StorageError.sealedRecordRejected(kind: "account")) { try store.loadAccount() }
        }
    }

    @Test func recordThatOpensButDoesNotParseIsCorrupt() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            let address = ProtocolAddress(userID: "dave", deviceID: 9)
            let store = try SQLiteStore(path: path, key: key)
            let junk = key.seal(Array("not a record".utf8), authenticating: Array("sessions".utf8) + [0] + address.recordID)
            try rawSQL(path, "INSERT INTO sessions(user, device, record) VALUES(?, ?, ?)",
                       [.text("dave"), .integer(9), .blob(junk)])
            #expect(throws: StorageError.corruptRecord(kind: "sessions", .badMagic)) { try store.loadSessions(for: address) }
        }
    }

    @Test func failedCommitChangesNothing() throws {
        let f = try Fixture()
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            let store = try SQLiteStore(path: path, key: key)
            var first = StoreChanges()
            first.inbound = [(f.alice, [1], 1, nil)]
            try store.commit(first)

            // Inbound rows are written last, after the account, sessions and identities.
            try rawSQL(path, """
                CREATE TRIGGER fail BEFORE INSERT ON inbound BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
            let error = #expect(throws: StorageError.self) { try store.commit(f.changes) }
            guard case .backend(let message) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(message.contains("injected failure") && message.contains("during commit inbound"))
            #expect(try store.loadAccount() == nil)
            #expect(try store.loadSessions(for: f.alice) == nil)
            #expect(try store.loadIdentity(for: f.alice) == nil)
            #expect(try store.deviceIDs(of: "alice") == [])
            #expect(try store.inboundMessages(after: 0, limit: 10).map(\.sequence) == [1])

            // With the fault gone the same commit applies in full, numbering after the survivor.
            try rawSQL(path, "DROP TRIGGER fail")
            try store.commit(f.changes)
            #expect(try store.loadAccount() != nil)
            #expect(try store.inboundMessages(after: 0, limit: 10).map(\.sequence) == [1, 2, 3])
        }
    }

    @Test func inboundSequenceOutlivesAcknowledgementAndReopen() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            let sender = ProtocolAddress(userID: "erin", deviceID: 1)
            func append(_ store: SQLiteStore, _ n: Int) throws {
                var c = StoreChanges()
                c.inbound = (0..<n).map { (sender, [UInt8($0)], UInt64($0), nil) }
                try store.commit(c)
            }
            var store = try SQLiteStore(path: path, key: key)
            try append(store, 3)
            try store.acknowledgeInbound(through: 2)
            #expect(try store.inboundMessages(after: 0, limit: 10).map(\.sequence) == [3])

            store = try SQLiteStore(path: path, key: key)
            try append(store, 1)
            #expect(try store.inboundMessages(after: 0, limit: 10).map(\.sequence) == [3, 4])
            // Acknowledge everything (and more): the table is empty, the numbering is not reset.
            try store.acknowledgeInbound(through: .max)
            #expect(try store.inboundMessages(after: 0, limit: 10).isEmpty)
            try store.acknowledgeInbound(through: 1)

            store = try SQLiteStore(path: path, key: key)
            try append(store, 2)
            #expect(try store.inboundMessages(after: 0, limit: 10).map(\.sequence) == [5, 6])
            #expect(try store.inboundMessages(after: .max, limit: 10).isEmpty)
            #expect(try store.inboundMessages(after: 0, limit: 0).isEmpty)
        }
    }

    @Test func newerSchemaIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            _ = try SQLiteStore(path: path, key: key)
            try rawSQL(path, "PRAGMA user_version = 2")
            #expect(throws: StorageError.corruptRecord(kind: "schema", .unsupportedVersion(2))) {
                try SQLiteStore(path: path, key: key)
            }
        }
    }

    @Test func missingKeyCheckIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("store.sqlite").path
            _ = try SQLiteStore(path: path, key: key)
            try rawSQL(path, "DELETE FROM meta WHERE name = 'keycheck'")
            #expect(throws: StorageError.corruptRecord(kind: "keycheck", .truncated)) {
                try SQLiteStore(path: path, key: StorageKey())
            }
        }
    }

    @Test func closedStoreThrows() throws {
        let store = try SQLiteStore(path: ":memory:", key: key)
        store.close()
        #expect(throws: StorageError.self) { try store.loadAccount() }
        #expect(throws: StorageError.self) { try store.commit(Fixture().changes) }
        store.close()
    }

    @Test func concurrentCommitsToDifferentAddresses() async throws {
        let sessions = try Fixture().sessions
        try await withTemporaryDatabase { path in
            let store = try SQLiteStore(path: path, key: key)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        let address = ProtocolAddress(userID: "peer\(task)", deviceID: UInt32(task))
                        for i in 0..<20 {
                            var c = StoreChanges()
                            c.sessions[address] = sessions
                            c.inbound = [(address, [UInt8(task), UInt8(i)], UInt64(i), nil)]
                            try store.commit(c)
                        }
                    }
                }
                try await group.waitForAll()
            }
            for task in 0..<8 {
                let address = ProtocolAddress(userID: "peer\(task)", deviceID: UInt32(task))
                #expect(try store.loadSessions(for: address)?.serialized() == sessions.serialized())
                #expect(try store.deviceIDs(of: address.userID) == [UInt32(task)])
            }
            let inbound = try store.inboundMessages(after: 0, limit: 1000)
            #expect(inbound.map(\.sequence) == Array(1...160))
            for task in 0..<8 {
                // Each task's messages in its own commit order.
                let mine = inbound.filter { $0.sender.userID == "peer\(task)" }.map(\.plaintext)
                #expect(mine == (0..<20).map { [UInt8(task), UInt8($0)] })
            }
        }
    }
}

/// ``withTemporaryDirectory`` for async bodies; yields the database path.
private func withTemporaryDatabase(_ body: (String) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("SQLiteStoreTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try await body(dir.appendingPathComponent("store.sqlite").path)
}

extension SQLiteStoreTests {
    /// Many tasks through one manager over one SQLite file: every operation is
    /// an exclusive section (the store's gate and `BEGIN IMMEDIATE`), none
    /// deadlocks, none loses another's update. Run under ThreadSanitizer too.
    @Test func managerOverSQLiteFromManyTasks() async throws {
        try await withTemporaryDatabase { path in
            let store = try SQLiteStore(path: path, key: key)
            try SessionManager.createAccount(store: store)
            let bob = try SessionManager(store: store, localAddress: ProtocolAddress(userID: "bob", deviceID: 1))
            var peers = [(ProtocolAddress, Session)]()
            for i in 0..<8 {
                let s = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bob.publishBundle())
                peers.append((ProtocolAddress(userID: "peer\(i)", deviceID: 1), s))
            }
            let plaintexts = try await withThrowingTaskGroup(of: Int.self) { group in
                for (address, session) in peers {
                    group.addTask {
                        var s = session
                        for n in 0..<10 {
                            guard try bob.receive(s.encrypt([UInt8(n)]), from: address) == .message([UInt8(n)]) else { return -1 }
                            _ = try s.decrypt(bob.encrypt([9], to: address))
                        }
                        _ = try bob.publishBundle()
                        return 10
                    }
                }
                var total = 0
                for try await n in group { total += n }
                return total
            }
            #expect(plaintexts == 80)
            #expect(try store.inboundMessages(after: 0, limit: 1000).count == 80)
            let account = try #require(try store.loadAccount())
            // 8 used by the peers' first messages; 8 more handed out, none twice.
            #expect(account.oneTimePreKeys.count == 100 - 8 && account.unpublishedOneTimePreKeyCount == 100 - 16)
        }
    }
}
