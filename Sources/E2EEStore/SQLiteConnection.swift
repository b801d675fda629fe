internal import CSQLite
import E2EE

/// A value bound to a `?` parameter. Values never appear in SQL text.
enum SQLValue {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// The current row of a statement, valid only inside the callback it is passed to.
struct SQLRow {
    fileprivate let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    /// An INTEGER column of a row read from `table`; a NULL, text, real or blob
    /// (a tampered or damaged file) is ``StorageError/corruptRecord(kind:_:)``,
    /// never silently read as 0.
    func checkedInteger(_ column: Int32, table: String) throws(StorageError) -> Int64 {
        guard sqlite3_column_type(statement, column) == SQLITE_INTEGER else {
            throw .corruptRecord(kind: table, .malformed("column \(column) is not an integer"))
        }
        return sqlite3_column_int64(statement, column)
    }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(statement, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, column))),
                      as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        // Bytes before the pointer: sqlite3_column_blob may convert, invalidating an earlier length.
        guard let p = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, column))))
    }

    /// A BLOB column of a row read from `table`; any other storage class is
    /// ``StorageError/corruptRecord(kind:_:)`` rather than its text form.
    func checkedBlob(_ column: Int32, table: String) throws(StorageError) -> [UInt8] {
        guard sqlite3_column_type(statement, column) == SQLITE_BLOB else {
            throw .corruptRecord(kind: table, .malformed("column \(column) is not a blob"))
        }
        return blob(column)
    }
}

/// One `sqlite3*` connection and its prepared statements. Not thread-safe:
/// ``SQLiteStore`` owns it inside a mutex. Non-copyable, so exactly one owner
/// closes it (at ``close()`` or when the owner goes away).
struct SQLiteConnection: ~Copyable {
    private var db: OpaquePointer?
    /// Prepared once per connection, keyed by their SQL text.
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws(StorageError) {
        guard sqlite3_threadsafe() != 0 else {
            throw .backend("sqlite: the system library is built without thread support")
        }
        var handle: OpaquePointer?
        // NOMUTEX: the owner serialises every call, so SQLite's own mutex would be redundant.
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(handle)
            throw .backend("sqlite: \(rc) \(message) during open")
        }
        db = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { Self.shutdown(db, statements) }

    /// Finalises the statements and closes the connection; later calls throw.
    mutating func close() {
        Self.shutdown(db, statements)
        db = nil
        statements = [:]
    }

    private static func shutdown(_ db: OpaquePointer?, _ statements: [String: OpaquePointer]) {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }

    mutating func setBusyTimeout(milliseconds: Int32) throws(StorageError) {
        guard let db else { throw Self.closedError(during: "set busy timeout") }
        sqlite3_busy_timeout(db, milliseconds)
    }

    /// Runs one statement with `arguments` bound in order, calling `row` for
    /// each result row. `cache: false` for statements run once per connection.
    mutating func run(_ sql: String, _ arguments: [SQLValue] = [], cache: Bool = true, during operation: String,
                      row: (SQLRow) throws(StorageError) -> Void = { _ in }) throws(StorageError) {
        guard let db else { throw Self.closedError(during: operation) }
        let statement: OpaquePointer
        if cache, let s = statements[sql] {
            statement = s
        } else {
            var s: OpaquePointer?
            let flags = cache ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
            let rc = sqlite3_prepare_v3(db, sql, -1, flags, &s, nil)
            guard rc == SQLITE_OK, let s else { throw error(rc, during: operation) }
            if cache { statements[sql] = s }
            statement = s
        }
        defer {
            if cache {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            } else {
                sqlite3_finalize(statement)
            }
        }
        for (i, value) in arguments.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .integer(let v):
                rc = sqlite3_bind_int64(statement, index, v)
            case .text(var s) where !s.isEmpty:
                // Explicit 64-bit lengths: a user id may hold NUL, and an oversized value
                // is SQLITE_TOOBIG rather than a trap.
                rc = s.withUTF8 { u in
                    u.withMemoryRebound(to: CChar.self) {
                        sqlite3_bind_text64(statement, index, $0.baseAddress, UInt64(u.count), sqliteTransient,
                                           UInt8(SQLITE_UTF8))
                    }
                }
            case .text:
                rc = sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
            case .blob(let b) where !b.isEmpty:
                rc = b.withUnsafeBytes { sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64(b.count), sqliteTransient) }
            case .blob:
                // A null pointer would bind SQL NULL, not an empty blob.
                rc = sqlite3_bind_zeroblob(statement, index, 0)
            }
            guard rc == SQLITE_OK else { throw error(rc, during: operation) }
        }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, during: operation) }
            try row(SQLRow(statement: statement))
        }
    }

    /// The single blob column of at most one row, or nil.
    /// `table` names the record kind in the error for a column that is not a blob.
    mutating func blob(_ sql: String, _ arguments: [SQLValue], table: String = "row",
                       during operation: String) throws(StorageError) -> [UInt8]? {
        var out: [UInt8]?
        try run(sql, arguments, during: operation) { (row) throws(StorageError) in out = try row.checkedBlob(0, table: table) }
        return out
    }

    /// The single integer column of at most one row, or nil (also for SQL NULL).
    mutating func integer(_ sql: String, _ arguments: [SQLValue] = [], cache: Bool = true,
                          during operation: String) throws(StorageError) -> Int64? {
        var out: Int64?
        try run(sql, arguments, cache: cache, during: operation) { (row) throws(StorageError) in
            out = row.isNull(0) ? nil : try row.checkedInteger(0, table: "row")
        }
        return out
    }

    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT` (taking the write lock
    /// up front, so the busy timeout applies there and not at COMMIT), rolling
    /// back if anything throws, COMMIT included. Inside a transaction already
    /// open (``SQLiteStore/exclusively(_:storageError:)``), a savepoint does the
    /// same for `body`'s part.
    mutating func transaction<T>(during operation: String,
                                 _ body: (inout SQLiteConnection) throws(StorageError) -> T) throws(StorageError) -> T {
        let nested = inTransaction
        try run(nested ? "SAVEPOINT part" : "BEGIN IMMEDIATE", during: operation)
        do throws(StorageError) {
            let result = try body(&self)
            try run(nested ? "RELEASE part" : "COMMIT", during: operation)
            return result
        } catch {
            if let db {
                if nested {
                    sqlite3_exec(db, "ROLLBACK TO part; RELEASE part", nil, nil, nil)
                } else if sqlite3_get_autocommit(db) == 0 {
                    sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
                }
            }
            throw error
        }
    }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { db.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Opens the write transaction of an exclusive section.
    mutating func begin(during operation: String) throws(StorageError) {
        try run("BEGIN IMMEDIATE", during: operation)
    }

    mutating func commitTransaction(during operation: String) throws(StorageError) {
        try run("COMMIT", during: operation)
    }

    /// Rolls back whatever is open (after a failure; errors here change nothing).
    mutating func rollback() {
        if let db, sqlite3_get_autocommit(db) == 0 { sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
    }

    private func error(_ rc: Int32, during operation: String) -> StorageError {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        return .backend("sqlite: \(rc) \(message) during \(operation)")
    }

    private static func closedError(during operation: String) -> StorageError {
        .backend("sqlite: \(SQLITE_MISUSE) store is closed during \(operation)")
    }
}

/// `SQLITE_TRANSIENT`, a macro Swift does not import: SQLite copies the bound bytes.
private var sqliteTransient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
