import E2EE
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A persistent `E2EEStore` (the storage protocol of `E2EE`) in one SQLite file (WAL mode), every record
/// sealed under a `StorageKey` and bound to its row (docs/STORAGE.md).
///
/// One connection behind a mutex: calls from many threads are serialised, and
/// records are serialised, sealed and opened outside the lock. A store opened
/// with the wrong key throws `StorageError.sealedRecordRejected(kind:)` for
/// kind `"keycheck"`, never an empty store.
///
/// Several processes may open one file (an app and its notification
/// extension): ``exclusively(_:storageError:)`` runs a load-modify-commit as
/// one `BEGIN IMMEDIATE` transaction, during which this process's other
/// threads wait too (`SessionManager` runs every operation that way).
public final class SQLiteStore: E2EEStore {
    /// `PRAGMA synchronous` in WAL mode. With `.normal` a commit survives a
    /// crash of the process; a power loss may lose the last commits but never
    /// half-applies one. `.full` also syncs the log at every commit.
    public enum Synchronous: Sendable {
        case normal, full
    }

    private let key: StorageKey
    /// Held for the whole of an exclusive section and briefly by every other
    /// call, so that no other thread's statement lands inside the section's
    /// transaction. Re-entrant: the section's own calls pass.
    private let gate = RecursiveGate()
    /// The one connection, only reachable under its lock (a pthread mutex that
    /// ThreadSanitizer sees; see `Locked`).
    private let connection: Locked<SQLiteConnection>

    /// Opens or creates the store at `path` (created with mode 0600).
    public init(path: String, key: StorageKey, synchronous: Synchronous = .normal) throws(StorageError) {
        let inMemory = path.isEmpty || path == ":memory:"
        if !inMemory { try createPrivateFile(path) }
        var c = try SQLiteConnection(path: path)
        try Schema.prepare(&c, key: key, synchronous: synchronous, inMemory: inMemory)
        self.key = key
        connection = Locked(c)
    }

    /// Closes the connection now (it also closes when the store is released);
    /// later calls throw `StorageError.backend(_:)`.
    public func close() {
        connection.withLock { $0.close() }
    }

    // MARK: Loads

    /// The account, or nil if none was committed yet.
    public func loadAccount() throws(StorageError) -> Account? {
        guard let sealed = try read({ (c) throws(StorageError) in
            try c.blob(SQL.selectMeta, [.text(SealedKind.account.rawValue)], table: "account", during: "load account")
        }) else { return nil }
        var bytes = try key.open(sealed, kind: .account)
        defer { SecureBytes.wipe(&bytes) }
        do { return try Account(serialized: bytes) } catch { throw .corruptRecord(kind: "account", error) }
    }

    /// The sessions with `address`, or nil if there are none.
    public func loadSessions(for address: ProtocolAddress) throws(StorageError) -> SessionSet? {
        guard let sealed = try read({ (c) throws(StorageError) in
            try c.blob(SQL.selectSessions, address.sqlArguments, table: "sessions", during: "load sessions")
        }) else { return nil }
        var bytes = try key.open(sealed, kind: .sessions, id: address.recordID)
        defer { SecureBytes.wipe(&bytes) }
        do { return try SessionSet(serialized: bytes) } catch { throw .corruptRecord(kind: "sessions", error) }
    }

    /// Devices of `userID` with a stored session set, ascending.
    public func deviceIDs(of userID: String) throws(StorageError) -> [UInt32] {
        try read { (c) throws(StorageError) in
            var out = [UInt32]()
            try c.run(SQL.selectDevices, [.text(userID)], during: "list devices") { (row) throws(StorageError) in
                // A device id outside u32 is a tampered row, not a device to truncate to.
                guard let device = UInt32(exactly: try row.checkedInteger(0, table: "sessions")) else {
                    throw .corruptRecord(kind: "sessions", .malformed("device id out of range"))
                }
                out.append(device)
            }
            return out
        }
    }

    /// The identity key trusted for `address`, or nil.
    public func loadIdentity(for address: ProtocolAddress) throws(StorageError) -> IdentityKey.PublicKey? {
        guard let sealed = try read({ (c) throws(StorageError) in
            try c.blob(SQL.selectIdentity, address.sqlArguments, table: "identity", during: "load identity")
        }) else { return nil }
        let bytes = try key.open(sealed, kind: .identity, id: address.recordID)
        do { return try IdentityKey.PublicKey(rawRepresentation: bytes) } catch {
            throw .corruptRecord(kind: "identity", .malformed("identity key"))
        }
    }

    /// A sender-key group state, or nil.
    public func loadGroup(_ id: DistributionID) throws(StorageError) -> GroupSession? {
        guard let sealed = try read({ (c) throws(StorageError) in
            try c.blob(SQL.selectGroup, [.blob(id.rawValue)], table: "group", during: "load group")
        }) else { return nil }
        var bytes = try key.open(sealed, kind: .group, id: id.rawValue)
        defer { SecureBytes.wipe(&bytes) }
        do { return try GroupSession(serialized: bytes) } catch { throw .corruptRecord(kind: "group", error) }
    }

    /// Inbound messages with sequence greater than `after`, oldest first, at most `limit`.
    public func inboundMessages(after: UInt64, limit: Int) throws(StorageError) -> [InboundMessage] {
        guard limit > 0, after < UInt64(Int64.max) else { return [] }
        let rows = try read { (c) throws(StorageError) in
            var rows = [(sequence: UInt64, sealed: [UInt8])]()
            try c.run(SQL.selectInbound, [.integer(Int64(after)), .integer(Int64(limit))], during: "load inbound") {
                (row) throws(StorageError) in
                rows.append((try sequenceNumber(row.checkedInteger(0, table: "inbound")), try row.checkedBlob(1, table: "inbound")))
            }
            return rows
        }
        var out = [InboundMessage]()
        out.reserveCapacity(rows.count)
        for (sequence, sealed) in rows {
            var bytes = try key.open(sealed, kind: .inbound, id: bigEndianBytes(sequence))
            defer { SecureBytes.wipe(&bytes) }
            let record: InboundRecord
            do { record = try InboundRecord(serialized: bytes) } catch { throw .corruptRecord(kind: "inbound", error) }
            out.append(InboundMessage(sequence: sequence, sender: record.sender, plaintext: record.plaintext,
                                      receivedAt: record.receivedAt, heldReason: record.heldReason))
        }
        return out
    }

    // MARK: Writes

    /// Deletes inbound messages up to and including `through`; sequence numbers are never reused.
    public func acknowledgeInbound(through: UInt64) throws(StorageError) {
        let through = Int64(clamping: through)
        try write { (c) throws(StorageError) in
            try c.transaction(during: "acknowledge inbound") { (c) throws(StorageError) in
                // Remember the highest sequence deleted, so that numbering
                // continues past it once the table is empty.
                guard let last = try c.integer(SQL.maxInboundThrough, [.integer(through)],
                                               during: "acknowledge inbound") else { return }
                let sealed = key.seal(bigEndianBytes(try sequenceNumber(last)), kind: .inboundAcknowledged)
                try c.run(SQL.upsertMeta, [.text(SealedKind.inboundAcknowledged.rawValue), .blob(sealed)],
                          during: "acknowledge inbound")
                try c.run(SQL.deleteInbound, [.integer(through)], during: "acknowledge inbound")
            }
        }
    }

    /// Applies every change in one SQLite transaction: after a crash all or none of it is visible; on any error it is rolled back.
    public func commit(_ changes: StoreChanges) throws(StorageError) {
        guard !changes.isEmpty else { return }
        // Serialise and seal outside the lock; inbound records are sealed inside
        // it because their associated data holds the sequence assigned there.
        let account = changes.account.map { a in
            var bytes = a.serialized()
            defer { SecureBytes.wipe(&bytes) }
            return key.seal(bytes, kind: .account)
        }
        let sessions = changes.sessions.sorted { $0.key < $1.key }.map { address, set in
            var bytes = set.serialized()
            defer { SecureBytes.wipe(&bytes) }
            return (address, key.seal(bytes, kind: .sessions, id: address.recordID))
        }
        let identities = changes.identities.sorted { $0.key < $1.key }.map { address, identity in
            (address, key.seal(identity.rawRepresentation, kind: .identity, id: address.recordID))
        }
        let groups = changes.groups.sorted { $0.key.rawValue.lexicographicallyPrecedes($1.key.rawValue) }.map { id, group in
            var bytes = group.serialized()
            defer { SecureBytes.wipe(&bytes) }
            return (id, key.seal(bytes, kind: .group, id: id.rawValue))
        }
        var inbound = changes.inbound.map {
            InboundRecord(sender: $0.sender, receivedAt: $0.receivedAt, plaintext: $0.plaintext,
                          heldReason: $0.heldReason).serialized()
        }
        defer { for i in inbound.indices { SecureBytes.wipe(&inbound[i]) } }
        try write { (c) throws(StorageError) in
            try c.transaction(during: "commit") { (c) throws(StorageError) in
                if let account {
                    try c.run(SQL.upsertMeta, [.text(SealedKind.account.rawValue), .blob(account)], during: "commit account")
                }
                for (address, sealed) in sessions {
                    try c.run(SQL.upsertSessions, address.sqlArguments + [.blob(sealed)], during: "commit sessions")
                }
                for (address, sealed) in identities {
                    try c.run(SQL.upsertIdentity, address.sqlArguments + [.blob(sealed)], during: "commit identity")
                }
                for (id, sealed) in groups {
                    try c.run(SQL.upsertGroup, [.blob(id.rawValue), .blob(sealed)], during: "commit group")
                }
                guard !inbound.isEmpty else { return }
                var sequence = try nextInboundSequence(&c)
                for record in inbound {
                    let sealed = key.seal(record, kind: .inbound, id: bigEndianBytes(sequence))
                    try c.run(SQL.insertInbound, [.integer(Int64(sequence)), .blob(sealed)], during: "commit inbound")
                    sequence += 1
                }
            }
        }
    }

    /// One more than the highest sequence ever assigned: the table's maximum,
    /// or once everything is acknowledged, the last acknowledged one.
    private func nextInboundSequence(_ c: inout SQLiteConnection) throws(StorageError) -> UInt64 {
        let last: UInt64
        if let max = try c.integer(SQL.maxInbound, during: "commit inbound") {
            last = try sequenceNumber(max)
        } else if let sealed = try c.blob(SQL.selectMeta, [.text(SealedKind.inboundAcknowledged.rawValue)],
                                          table: "meta", during: "commit inbound") {
            let bytes = try key.open(sealed, kind: .inboundAcknowledged)
            do { last = try InboundRecord.sequence(bytes) } catch { throw .corruptRecord(kind: "inboundack", error) }
            // Authenticated, so only a store of ours wrote it; still never wrap.
            guard last < UInt64(Int64.max) else { throw .corruptRecord(kind: "inboundack", .malformed("sequence out of range")) }
        } else {
            return 1
        }
        // Room for this commit's rows in SQLite's signed 64-bit keys.
        guard last < UInt64(Int64.max) - UInt64(Int32.max) else {
            throw .corruptRecord(kind: "inbound", .malformed("sequence numbers exhausted"))
        }
        return last + 1
    }

    // MARK: Exclusive sections

    /// Runs `body` inside one `BEGIN IMMEDIATE` transaction (waiting up to 5 s for another process's), so that no other process commits between its loads and its commit; this process's other threads wait too.
    public func exclusively<R, E: Error>(_ body: () throws(E) -> R, storageError: (StorageError) -> E) throws(E) -> R {
        try gate.withLock { () throws(E) -> R in
            guard gate.depth == 0 else { return try body() }
            do throws(StorageError) {
                try connection.withLock { (c) throws(StorageError) in try c.begin(during: "begin exclusive") }
            } catch {
                throw storageError(error)
            }
            gate.depth = 1
            defer { gate.depth = 0 }
            let result: R
            do throws(E) {
                result = try body()
            } catch {
                connection.withLock { $0.rollback() }
                throw error
            }
            do throws(StorageError) {
                try connection.withLock { (c) throws(StorageError) in try c.commitTransaction(during: "commit exclusive") }
            } catch {
                connection.withLock { $0.rollback() }
                throw storageError(error)
            }
            return result
        }
    }

    // MARK: Locking

    private func read<T: Sendable>(_ body: (inout SQLiteConnection) throws(StorageError) -> T) throws(StorageError) -> T {
        try gate.withLock { () throws(StorageError) -> T in
            try connection.withLock { (c) throws(StorageError) -> T in try body(&c) }
        }
    }

    private func write(_ body: (inout SQLiteConnection) throws(StorageError) -> Void) throws(StorageError) {
        try gate.withLock { () throws(StorageError) in
            try connection.withLock { (c) throws(StorageError) in try body(&c) }
        }
    }
}

/// A re-entrant mutex (pthread, recursive) with a counter that only its
/// holder touches: the depth of the exclusive section on the holding thread.
private final class RecursiveGate: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Read and written only while holding the gate.
    var depth = 0

    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Every statement the store runs, prepared once per connection.
enum SQL {
    static let selectMeta = "SELECT value FROM meta WHERE name = ?"
    static let upsertMeta = """
        INSERT INTO meta(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value
        """
    static let selectSessions = "SELECT record FROM sessions WHERE user = ? AND device = ?"
    static let upsertSessions = """
        INSERT INTO sessions(user, device, record) VALUES(?, ?, ?)
        ON CONFLICT(user, device) DO UPDATE SET record = excluded.record
        """
    static let selectDevices = "SELECT device FROM sessions WHERE user = ? ORDER BY device"
    static let selectIdentity = "SELECT record FROM identities WHERE user = ? AND device = ?"
    static let upsertIdentity = """
        INSERT INTO identities(user, device, record) VALUES(?, ?, ?)
        ON CONFLICT(user, device) DO UPDATE SET record = excluded.record
        """
    static let selectGroup = "SELECT record FROM groups WHERE id = ?"
    static let upsertGroup = """
        INSERT INTO groups(id, record) VALUES(?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record
        """
    static let selectInbound = "SELECT seq, record FROM inbound WHERE seq > ? ORDER BY seq LIMIT ?"
    static let insertInbound = "INSERT INTO inbound(seq, record) VALUES(?, ?)"
    static let maxInbound = "SELECT max(seq) FROM inbound"
    static let maxInboundThrough = "SELECT max(seq) FROM inbound WHERE seq <= ?"
    static let deleteInbound = "DELETE FROM inbound WHERE seq <= ?"
}

/// A sequence number read from the inbound table; a negative one is a tampered
/// row, reported, never a trap.
private func sequenceNumber(_ value: Int64) throws(StorageError) -> UInt64 {
    guard let sequence = UInt64(exactly: value) else {
        throw .corruptRecord(kind: "inbound", .malformed("negative sequence number"))
    }
    return sequence
}

/// SQLite creates the WAL and shared-memory files with the database's mode,
/// so creating the database 0600 first keeps all three private. An existing
/// file keeps its mode.
private func createPrivateFile(_ path: String) throws(StorageError) {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .backend("sqlite: cannot create \(path): errno \(errno) during open") }
    _ = close(fd)
}

extension ProtocolAddress {
    /// The `(user, device)` key of a row.
    var sqlArguments: [SQLValue] { [.text(userID), .integer(Int64(deviceID))] }
}
