import CRelaySQLite

/// One SQLite connection and its prepared statements. Not thread-safe and not
/// `Sendable`: ``SQLiteWriter`` owns it and touches it from its thread only.
///
/// Errors carry SQLite's message and what was being done, never a bound value:
/// bound values are keys, token hashes and message bodies.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    /// Statements prepared once per SQL text and reused: the mailbox runs the
    /// same few statements thousands of times a second.
    private var cache: [String: SQLiteStatement] = [:]
    /// Statements handed out since the last ``resetStatements()``: one left
    /// mid-result would hold its read open across ROLLBACK TO or COMMIT.
    private var inUse: [SQLiteStatement] = []

    init(path: String) throws(RelayStoreError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            // The handle, when there is one, holds the message and must still be closed.
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw RelayStoreError("sqlite open: \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        close()
    }

    /// Finalises every statement and closes the file; later calls fail with "closed".
    func close() {
        for statement in cache.values { statement.finalize() }
        cache = [:]
        inUse = []
        if let handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    /// Runs SQL without parameters or results (schema, pragmas, transaction control).
    func exec(_ sql: String) throws(RelayStoreError) {
        let db = try open()
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw RelayStoreError("sqlite exec: \(text)")
        }
    }

    /// The cached statement for `sql`, reset and with its bindings cleared.
    func prepared(_ sql: String) throws(RelayStoreError) -> SQLiteStatement {
        let db = try open()
        if let statement = cache[sql] {
            statement.reset()
            inUse.append(statement)
            return statement
        }
        var raw: OpaquePointer?
        guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil) == SQLITE_OK, let raw else {
            throw error("prepare")
        }
        let statement = SQLiteStatement(raw, connection: self)
        cache[sql] = statement
        inUse.append(statement)
        return statement
    }

    /// Resets every statement handed out since the last call.
    func resetStatements() {
        for statement in inUse { statement.reset() }
        inUse.removeAll(keepingCapacity: true)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int {
        handle.map { Int(sqlite3_changes($0)) } ?? 0
    }

    /// Whether a transaction is open (false after SQLite rolled one back by itself).
    var inTransaction: Bool {
        handle.map { sqlite3_get_autocommit($0) == 0 } ?? false
    }

    /// The last error on this connection, named by what was being done.
    func error(_ operation: String) -> RelayStoreError {
        guard let handle else { return RelayStoreError("sqlite \(operation): closed") }
        return RelayStoreError("sqlite \(operation): \(String(cString: sqlite3_errmsg(handle)))")
    }

    private func open() throws(RelayStoreError) -> OpaquePointer {
        guard let handle else { throw RelayStoreError("sqlite: closed") }
        return handle
    }
}

/// A prepared statement, owned by its connection's cache. Parameters and
/// columns are numbered as in SQLite: parameters from 1, columns from 0.
final class SQLiteStatement {
    private var raw: OpaquePointer?
    private unowned let connection: SQLiteConnection

    fileprivate init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    fileprivate func finalize() {
        sqlite3_finalize(raw)
        raw = nil
    }

    fileprivate func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    /// SQLite's SQLITE_TRANSIENT: it copies the value before the call returns,
    /// so no Swift buffer has to outlive the binding.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ value: [UInt8]) throws(RelayStoreError) {
        // An empty array may have no base address; SQLite reads a nil blob as NULL, so bind a zero-length one.
        let rc = value.withUnsafeBytes { buffer in
            buffer.baseAddress == nil
                ? sqlite3_bind_zeroblob(raw, index, 0)
                : sqlite3_bind_blob(raw, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
        try check(rc, "bind")
    }

    func bind(_ index: Int32, _ value: Int64) throws(RelayStoreError) {
        try check(sqlite3_bind_int64(raw, index, value), "bind")
    }

    func bind(_ index: Int32, _ value: String) throws(RelayStoreError) {
        try check(sqlite3_bind_text(raw, index, value, -1, Self.transient), "bind")
    }

    /// Binds `values` to parameters 1, 2, …
    func bind(_ values: SQLiteValue...) throws(RelayStoreError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .int(let v): try bind(index, v)
            case .text(let v): try bind(index, v)
            case .blob(let v): try bind(index, v)
            }
        }
    }

    /// Advances: true when a row is ready, false when the statement is done.
    func step() throws(RelayStoreError) -> Bool {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error("step")
        }
    }

    /// Steps to the end, for statements without results.
    func run() throws(RelayStoreError) {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(raw, column)
    }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(raw, column) else { return "" }
        return String(cString: pointer)
    }

    func blob(_ column: Int32) -> [UInt8] {
        // The pointer is valid until the next step; the count is asked after it, as SQLite requires.
        guard let pointer = sqlite3_column_blob(raw, column) else { return [] }
        let count = Int(sqlite3_column_bytes(raw, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(raw, column) == SQLITE_NULL
    }

    private func check(_ rc: Int32, _ operation: String) throws(RelayStoreError) {
        if rc != SQLITE_OK { throw connection.error(operation) }
    }
}

/// A parameter value, for ``SQLiteStatement/bind(_:)-(SQLiteValue...)``.
enum SQLiteValue {
    case int(Int64)
    case text(String)
    case blob([UInt8])
}
