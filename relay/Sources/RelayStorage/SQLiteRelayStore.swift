import E2EE
import RelayProtocol

/// ``RelayStore`` in one SQLite file (WAL, `synchronous = FULL`).
///
/// Every call runs as a job of ``SQLiteWriter``, which commits the calls that
/// arrive together in one transaction, each in its own savepoint: a call that
/// returned is on disk, and a call that failed left nothing behind.
///
/// Times and expiries are stored as SQLite integers (signed 64-bit): a value
/// above `Int64.max` is clamped, which keeps "far future" far.
public final class SQLiteRelayStore: RelayStore {
    /// The schema this code writes; `PRAGMA user_version` holds the file's.
    static let schemaVersion: Int64 = 1

    let writer: SQLiteWriter

    /// Opens (or creates) the database at `path` and starts its writer thread.
    public init(path: String) throws(RelayStoreError) {
        let connection = try SQLiteConnection(path: path)
        // journal_mode answers with a row, so it is stepped rather than exec'd without a look.
        let mode = try connection.prepared("PRAGMA journal_mode = WAL")
        guard try mode.step(), mode.text(0).lowercased() == "wal" else {
            throw RelayStoreError("sqlite: the database refused WAL mode")
        }
        connection.resetStatements()
        // FULL: in WAL mode NORMAL may lose the last commits on power loss, and
        // a queued message must not be lost once the sender was told it was.
        try connection.exec("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000")
        try Self.migrate(connection)
        writer = SQLiteWriter(connection: connection)
        writer.start()
    }

    deinit {
        writer.close()
    }

    /// Finishes the calls already made, then closes the file. Later calls fail.
    public func close() {
        writer.close()
    }

    static func migrate(_ db: SQLiteConnection) throws(RelayStoreError) {
        let version = try db.prepared("PRAGMA user_version")
        let current = try version.step() ? version.int64(0) : 0
        db.resetStatements()
        guard current <= schemaVersion else {
            throw RelayStoreError("sqlite: schema version \(current) is newer than this relay's \(schemaVersion)")
        }
        if current == schemaVersion { return }
        // Version 0 is an empty file (or one from before user_version): create everything.
        try db.exec("""
            BEGIN IMMEDIATE;
            CREATE TABLE IF NOT EXISTS devices(
                user TEXT NOT NULL, device INTEGER NOT NULL, identity BLOB NOT NULL, created_ms INTEGER NOT NULL,
                PRIMARY KEY (user, device)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS tokens(
                hash BLOB PRIMARY KEY, user TEXT NOT NULL, device INTEGER NOT NULL, expires_ms INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS tokens_by_device ON tokens(user, device);
            CREATE INDEX IF NOT EXISTS tokens_by_expiry ON tokens(expires_ms);
            CREATE TABLE IF NOT EXISTS signed_prekeys(
                user TEXT NOT NULL, device INTEGER NOT NULL, id INTEGER NOT NULL,
                public BLOB NOT NULL, signature BLOB NOT NULL, uploaded_ms INTEGER NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY (user, device, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS one_time_prekeys(
                user TEXT NOT NULL, device INTEGER NOT NULL, id INTEGER NOT NULL, public BLOB NOT NULL,
                PRIMARY KEY (user, device, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS kem_prekeys(
                user TEXT NOT NULL, device INTEGER NOT NULL, id INTEGER NOT NULL,
                public BLOB NOT NULL, signature BLOB NOT NULL, last_resort INTEGER NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY (user, device, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS messages(
                server_id INTEGER PRIMARY KEY AUTOINCREMENT,
                user TEXT NOT NULL, device INTEGER NOT NULL, sender_user TEXT NOT NULL, sender_device INTEGER NOT NULL,
                received_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS messages_by_device ON messages(user, device, server_id);
            CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_ms);
            PRAGMA user_version = \(schemaVersion);
            COMMIT;
            """)
    }

    // MARK: Devices

    public func addDevice(_ address: RelayAddress, identity: IdentityKey.PublicKey, nowMs: UInt64) async throws(RelayStoreError) -> AddDeviceResult {
        let user = address.userID, device = Int64(address.deviceID), key = identity.rawRepresentation
        return try await writer.perform { db throws(RelayStoreError) in
            let existing = try db.prepared("SELECT identity FROM devices WHERE user = ?1 AND device = ?2")
            try existing.bind(.text(user), .int(device))
            if try existing.step() {
                return .exists(sameIdentity: existing.blob(0) == key)
            }
            let insert = try db.prepared("INSERT INTO devices(user, device, identity, created_ms) VALUES (?1, ?2, ?3, ?4)")
            try insert.bind(.text(user), .int(device), .blob(key), .int(Int64(clamping: nowMs)))
            try insert.run()
            return .added
        }
    }

    public func identity(of address: RelayAddress) async throws(RelayStoreError) -> IdentityKey.PublicKey? {
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let select = try db.prepared("SELECT identity FROM devices WHERE user = ?1 AND device = ?2")
            try select.bind(.text(user), .int(device))
            guard try select.step() else { return nil }
            return try Self.identityKey(select.blob(0), of: address)
        }
    }

    public func deviceIDs(ofUser userID: String) async throws(RelayStoreError) -> [UInt32] {
        try await writer.perform { db throws(RelayStoreError) in try Self.deviceIDs(userID, db) }
    }

    public func removeDevice(_ address: RelayAddress) async throws(RelayStoreError) -> Bool {
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let remove = try db.prepared("DELETE FROM devices WHERE user = ?1 AND device = ?2")
            try remove.bind(.text(user), .int(device))
            try remove.run()
            guard db.changes > 0 else { return false }
            // Explicit rather than foreign keys: the mailbox's inserts then pay no
            // lookup, and this is the only place a device goes.
            for table in ["tokens", "signed_prekeys", "one_time_prekeys", "kem_prekeys", "messages"] {
                let cascade = try db.prepared("DELETE FROM \(table) WHERE user = ?1 AND device = ?2")
                try cascade.bind(.text(user), .int(device))
                try cascade.run()
            }
            return true
        }
    }

    // MARK: Tokens

    public func addToken(hash: [UInt8], for address: RelayAddress, expiresMs: UInt64) async throws(RelayStoreError) {
        let user = address.userID, device = Int64(address.deviceID)
        try await writer.perform { db throws(RelayStoreError) in
            // Without foreign keys, a token must not outlive (or precede) its device.
            guard try Self.deviceExists(user, device, db) else { throw RelayStoreError("token for unknown device \(address)") }
            let insert = try db.prepared("INSERT OR REPLACE INTO tokens(hash, user, device, expires_ms) VALUES (?1, ?2, ?3, ?4)")
            try insert.bind(.blob(hash), .text(user), .int(device), .int(Int64(clamping: expiresMs)))
            try insert.run()
        }
    }

    public func tokenOwner(hash: [UInt8], nowMs: UInt64) async throws(RelayStoreError) -> RelayAddress? {
        try await writer.perform { db throws(RelayStoreError) in
            let select = try db.prepared("SELECT user, device FROM tokens WHERE hash = ?1 AND expires_ms > ?2")
            try select.bind(.blob(hash), .int(Int64(clamping: nowMs)))
            guard try select.step() else { return nil }
            return try Self.address(select.text(0), select.int64(1))
        }
    }

    // MARK: Mailbox

    public func enqueue(toUser userID: String, from sender: RelayAddress, messages: [UInt32: [UInt8]],
                        nowMs: UInt64, expiresMs: UInt64) async throws(RelayStoreError) -> EnqueueResult {
        if let large = messages.values.first(where: { $0.count > Envelope.maxMessageBytes }) {
            // Stored, it could never be delivered: Envelope refuses it.
            throw RelayStoreError("message of \(large.count) bytes, above \(Envelope.maxMessageBytes)")
        }
        let received = Int64(clamping: nowMs), expires = Int64(clamping: expiresMs)
        return try await writer.perform { db throws(RelayStoreError) in
            // Checked in the same transaction as the inserts, so a device added
            // or removed meanwhile cannot slip between the check and the queue.
            var expected = Set(try Self.deviceIDs(userID, db))
            if sender.userID == userID { expected.remove(sender.deviceID) }
            let named = Set(messages.keys)
            guard named == expected else {
                return .mismatch(missing: expected.subtracting(named).sorted(), extra: named.subtracting(expected).sorted())
            }
            var ids: [UInt32: UInt64] = [:]
            for device in named.sorted() {
                let insert = try db.prepared("""
                    INSERT INTO messages(user, device, sender_user, sender_device, received_ms, expires_ms, body)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING server_id
                    """)
                try insert.bind(.text(userID), .int(Int64(device)), .text(sender.userID), .int(Int64(sender.deviceID)),
                                .int(received), .int(expires), .blob(messages[device] ?? []))
                guard try insert.step() else { throw RelayStoreError("sqlite: insert returned no server id") }
                ids[device] = UInt64(insert.int64(0))
            }
            return .queued(ids)
        }
    }

    public func pending(for address: RelayAddress, after serverID: UInt64, limit: Int,
                        nowMs: UInt64) async throws(RelayStoreError) -> [Envelope] {
        guard limit > 0 else { return [] }
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let select = try db.prepared("""
                SELECT server_id, received_ms, sender_user, sender_device, body FROM messages
                WHERE user = ?1 AND device = ?2 AND server_id > ?3 AND expires_ms > ?4
                ORDER BY server_id LIMIT ?5
                """)
            try select.bind(.text(user), .int(device), .int(Int64(clamping: serverID)), .int(Int64(clamping: nowMs)),
                            .int(Int64(limit)))
            var envelopes: [Envelope] = []
            while try select.step() {
                let sender = try Self.address(select.text(2), select.int64(3))
                do {
                    envelopes.append(try Envelope(serverID: UInt64(select.int64(0)),
                                                  serverTimeMilliseconds: UInt64(clamping: select.int64(1)),
                                                  sender: sender, ciphertext: select.blob(4)))
                } catch {
                    throw RelayStoreError("stored message \(select.int64(0)) is not an envelope: \(error)")
                }
            }
            return envelopes
        }
    }

    public func acknowledge(_ serverID: UInt64, for address: RelayAddress) async throws(RelayStoreError) -> Bool {
        guard let id = Int64(exactly: serverID) else { return false }   // never issued
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let delete = try db.prepared("DELETE FROM messages WHERE server_id = ?1 AND user = ?2 AND device = ?3")
            try delete.bind(.int(id), .text(user), .int(device))
            try delete.run()
            return db.changes > 0
        }
    }

    public func deleteExpired(nowMs: UInt64) async throws(RelayStoreError) -> Int {
        let now = Int64(clamping: nowMs)
        return try await writer.perform { db throws(RelayStoreError) in
            let tokens = try db.prepared("DELETE FROM tokens WHERE expires_ms <= ?1")
            try tokens.bind(.int(now))
            try tokens.run()
            let messages = try db.prepared("DELETE FROM messages WHERE expires_ms <= ?1")
            try messages.bind(.int(now))
            try messages.run()
            return db.changes
        }
    }

    public func queueDepth(for address: RelayAddress) async throws(RelayStoreError) -> Int {
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let count = try db.prepared("SELECT count(*) FROM messages WHERE user = ?1 AND device = ?2")
            try count.bind(.text(user), .int(device))
            return try count.step() ? Int(count.int64(0)) : 0
        }
    }

    // MARK: Shared steps (run on the writer thread)

    static func deviceIDs(_ user: String, _ db: SQLiteConnection) throws(RelayStoreError) -> [UInt32] {
        let select = try db.prepared("SELECT device FROM devices WHERE user = ?1 ORDER BY device")
        try select.bind(.text(user))
        var ids: [UInt32] = []
        while try select.step() {
            guard let id = UInt32(exactly: select.int64(0)) else { throw RelayStoreError("stored device id out of range") }
            ids.append(id)
        }
        return ids
    }

    static func deviceExists(_ user: String, _ device: Int64, _ db: SQLiteConnection) throws(RelayStoreError) -> Bool {
        let select = try db.prepared("SELECT 1 FROM devices WHERE user = ?1 AND device = ?2")
        try select.bind(.text(user), .int(device))
        return try select.step()
    }

    /// A stored address, checked again: the file is input like any other.
    static func address(_ user: String, _ device: Int64) throws(RelayStoreError) -> RelayAddress {
        guard let id = UInt32(exactly: device) else { throw RelayStoreError("stored device id out of range") }
        do {
            return try RelayAddress(userID: user, deviceID: id)
        } catch {
            throw RelayStoreError("stored address is invalid: \(error)")
        }
    }

    static func identityKey(_ raw: [UInt8], of address: RelayAddress) throws(RelayStoreError) -> IdentityKey.PublicKey {
        do {
            return try IdentityKey.PublicKey(rawRepresentation: raw)
        } catch {
            throw RelayStoreError("stored identity key of \(address) is invalid: \(error)")
        }
    }
}
