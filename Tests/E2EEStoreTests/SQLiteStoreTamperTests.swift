import Foundation
import Testing
@testable import E2EE
@testable import E2EEStore

/// Every column of every table changed underneath the store (raw SQL through
/// a second connection, as an attacker with the file or a failing disk would):
/// each read gives a typed ``StorageError``, never a trap and never a silently
/// wrong value.
@Suite("SQLiteStore: tampered rows")
struct SQLiteStoreTamperTests {
    let key = StorageKey()
    static let alice = ProtocolAddress(userID: "alice", deviceID: 7)
    static let group = DistributionID.random()

    /// A store holding one of each record, opened fresh after `tamper` ran
    /// against the file; `check` gets the reopened store.
    private func tampered(_ tamper: [String], _ check: (SQLiteStore) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("Tamper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("store.sqlite").path
        do {
            let pair = try Pair()
            let store = try SQLiteStore(path: path, key: key)
            var c = StoreChanges()
            c.account = pair.bobAccount
            c.sessions[Self.alice] = SessionSet(current: pair.bob)
            c.identities[Self.alice] = pair.aliceIdentity.publicKey
            c.groups[Self.group] = try GroupSession(distributionID: Self.group, local: Self.alice, identity: pair.aliceIdentity.publicKey, members: [])
            c.inbound = [(Self.alice, Array("one".utf8), 1, nil), (Self.alice, Array("two".utf8), 2, nil)]
            try store.commit(c)
            try store.acknowledgeInbound(through: 1)
            c = StoreChanges()
            c.inbound = [(Self.alice, Array("three".utf8), 3, nil)]
            try store.commit(c)
            store.close()
        }
        do {
            var raw = try SQLiteConnection(path: path)
            for sql in tamper { try raw.run(sql, cache: false, during: "tamper") }
        }
        let store = try SQLiteStore(path: path, key: key)
        defer { store.close() }
        try check(store)
    }

    private static func corrupt(_ kind: String, _ what: String) -> StorageError {
        .corruptRecord(kind: kind, .malformed(what))
    }

    private static func newMessage() -> StoreChanges {
        var c = StoreChanges()
        c.inbound = [(alice, [1], 4, nil)]
        return c
    }

    // MARK: inbound(seq, record)

    @Test func negativeSequence() throws {
        try tampered(["DELETE FROM inbound WHERE seq < 3", "UPDATE inbound SET seq = -1"]) { (store: SQLiteStore) throws in
            // Not listed (below every cursor), but numbering and acknowledging refuse it.
            #expect(try store.inboundMessages(after: 0, limit: 10).isEmpty)
            #expect(throws: Self.corrupt("inbound", "negative sequence number")) { try store.commit(Self.newMessage()) }
            #expect(throws: Self.corrupt("inbound", "negative sequence number")) { try store.acknowledgeInbound(through: 9) }
        }
    }

    @Test func hugeSequence() throws {
        try tampered(["UPDATE inbound SET seq = 9223372036854775807 WHERE seq = 3"]) { (store: SQLiteStore) throws in
            // The sequence is bound into the sealed record: moved, it does not open.
            #expect(throws: StorageError.sealedRecordRejected(kind: "inbound")) {
                try store.inboundMessages(after: 0, limit: 10)
            }
            #expect(throws: Self.corrupt("inbound", "sequence numbers exhausted")) { try store.commit(Self.newMessage()) }
        }
    }

    @Test(arguments: [("'text'", "not a blob"), ("42", "not a blob"), ("1.5", "not a blob"),
                      ("substr(record, 1, 20)", "cut"), ("x''", "cut")])
    func inboundRecord(value: String, what: String) throws {
        try tampered(["UPDATE inbound SET record = \(value)"]) { (store: SQLiteStore) throws in
            let expected: StorageError = what == "cut"
                ? .sealedRecordRejected(kind: "inbound") : Self.corrupt("inbound", "column 1 is not a blob")
            #expect(throws: expected) { try store.inboundMessages(after: 0, limit: 10) }
        }
    }

    @Test func inboundSequenceOfWrongType() throws {
        // An INTEGER PRIMARY KEY holds only integers; a text key is refused by SQLite
        // itself. The acknowledged-through record is the other source of numbering.
        try tampered(["DELETE FROM inbound", "UPDATE meta SET value = substr(value, 2) WHERE name = 'inboundack'"]) { (store: SQLiteStore) throws in
            #expect(throws: StorageError.sealedRecordRejected(kind: "inboundack")) { try store.commit(Self.newMessage()) }
        }
        try tampered(["DELETE FROM inbound", "UPDATE meta SET value = 12 WHERE name = 'inboundack'"]) { (store: SQLiteStore) throws in
            #expect(throws: Self.corrupt("meta", "column 0 is not a blob")) { try store.commit(Self.newMessage()) }
        }
    }

    // MARK: sessions(user, device, record) and identities(user, device, record)

    @Test(arguments: ["-1", "4294967296", "9223372036854775807", "'seven'", "7.5", "x'07'"])
    func deviceIDOutOfRange(value: String) throws {
        try tampered(["UPDATE sessions SET device = \(value)"]) { (store: SQLiteStore) throws in
            let expected = value.hasPrefix("'") || value.contains(".") || value.hasPrefix("x")
                ? Self.corrupt("sessions", "column 0 is not an integer") : Self.corrupt("sessions", "device id out of range")
            #expect(throws: expected) { try store.deviceIDs(of: "alice") }
            // The row no longer answers to the address it was sealed for.
            #expect(try store.loadSessions(for: Self.alice).map { _ in true } == nil)
        }
    }

    @Test(arguments: ["sessions", "identities"], ["'text'", "42", "substr(record, 1, 30)", "x''", "CAST(record || x'00' AS BLOB)"])
    func addressRecord(table: String, value: String) throws {
        try tampered(["UPDATE \(table) SET record = \(value)"]) { (store: SQLiteStore) throws in
            let kind = table == "sessions" ? "sessions" : "identity"
            let expected: StorageError = value.contains("record") || value == "x''"
                ? .sealedRecordRejected(kind: kind) : Self.corrupt(kind, "column 0 is not a blob")
            #expect(throws: expected) {
                if table == "sessions" { _ = try store.loadSessions(for: Self.alice) } else {
                    _ = try store.loadIdentity(for: Self.alice)
                }
            }
        }
    }

    @Test func nullsWhereTheSchemaForbidsThem() throws {
        // NOT NULL is only the schema's word: a rewritten table can hold NULLs.
        let recreate = [
            "CREATE TABLE s2(user, device, record)",
            "INSERT INTO s2 SELECT user, NULL, NULL FROM sessions",
            "DROP TABLE sessions",
            "ALTER TABLE s2 RENAME TO sessions",
            "CREATE TABLE i2(user, device, record)",
            "INSERT INTO i2 SELECT user, device, NULL FROM identities",
            "DROP TABLE identities",
            "ALTER TABLE i2 RENAME TO identities",
            "CREATE TABLE m2(name, value)",
            "INSERT INTO m2 SELECT name, CASE name WHEN 'account' THEN NULL ELSE value END FROM meta",
            "DROP TABLE meta",
            "ALTER TABLE m2 RENAME TO meta",
        ]
        try tampered(recreate) { (store: SQLiteStore) throws in
            #expect(throws: Self.corrupt("sessions", "column 0 is not an integer")) { try store.deviceIDs(of: "alice") }
            #expect(throws: Self.corrupt("identity", "column 0 is not a blob")) { try store.loadIdentity(for: Self.alice) }
            #expect(throws: Self.corrupt("account", "column 0 is not a blob")) { try store.loadAccount() }
        }
    }

    // MARK: groups(id, record) and meta(name, value)

    @Test(arguments: ["'text'", "substr(record, 5)", "x''"])
    func groupRecord(value: String) throws {
        try tampered(["UPDATE groups SET record = \(value)"]) { (store: SQLiteStore) throws in
            let expected: StorageError = value.hasPrefix("'")
                ? Self.corrupt("group", "column 0 is not a blob") : .sealedRecordRejected(kind: "group")
            #expect(throws: expected) { try store.loadGroup(Self.group) }
        }
    }

    @Test func groupMovedToAnotherID() throws {
        try tampered(["UPDATE groups SET id = x'00112233445566778899aabbccddeeff'"]) { (store: SQLiteStore) throws in
            #expect(try store.loadGroup(Self.group).map { _ in true } == nil)
            let moved = try DistributionID(rawValue: (0..<16).map { UInt8($0 * 0x11) })
            #expect(throws: StorageError.sealedRecordRejected(kind: "group")) { try store.loadGroup(moved) }
        }
    }

    @Test(arguments: ["'text'", "7", "substr(value, 1, 40)"])
    func accountRecord(value: String) throws {
        try tampered(["UPDATE meta SET value = \(value) WHERE name = 'account'"]) { (store: SQLiteStore) throws in
            let expected: StorageError = value.contains("value")
                ? .sealedRecordRejected(kind: "account") : Self.corrupt("account", "column 0 is not a blob")
            #expect(throws: expected) { try store.loadAccount() }
        }
    }

    @Test func keyCheckAndSchemaVersion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("Tamper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("store.sqlite").path
        try SQLiteStore(path: path, key: key).close()
        func reopen(after sql: String) throws -> StorageError? {
            var raw = try SQLiteConnection(path: path)
            try raw.run(sql, cache: false, during: "tamper")
            raw.close()
            do { try SQLiteStore(path: path, key: key).close() } catch { return error }
            return nil
        }
        #expect(try reopen(after: "UPDATE meta SET value = 'x' WHERE name = 'keycheck'")
                == Self.corrupt("keycheck", "column 0 is not a blob"))
        #expect(try reopen(after: "PRAGMA user_version = -1") == .corruptRecord(kind: "schema", .unsupportedVersion(0)))
        #expect(try reopen(after: "PRAGMA user_version = 2147483647")
                == .corruptRecord(kind: "schema", .unsupportedVersion(UInt16.max)))
    }
}
