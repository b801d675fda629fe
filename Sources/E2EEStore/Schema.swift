import E2EE

/// The tables, versioned with `PRAGMA user_version`. Every `record`/`value`
/// blob is sealed (see ``SealedKind``); names, device ids and sequence numbers
/// are in the clear so that rows can be found.
enum Schema {
    static let version: Int64 = 1

    static let tables = [
        "CREATE TABLE meta(name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL)",
        """
        CREATE TABLE sessions(user TEXT NOT NULL, device INTEGER NOT NULL, record BLOB NOT NULL,
                              PRIMARY KEY(user, device))
        """,
        """
        CREATE TABLE identities(user TEXT NOT NULL, device INTEGER NOT NULL, record BLOB NOT NULL,
                                PRIMARY KEY(user, device))
        """,
        "CREATE TABLE inbound(seq INTEGER PRIMARY KEY, record BLOB NOT NULL)",
        "CREATE TABLE groups(id BLOB PRIMARY KEY NOT NULL, record BLOB NOT NULL)",
        "PRAGMA user_version = 1",
    ]

    /// Sets the connection's pragmas, then in one transaction creates the
    /// tables and the key-check record (new file) or checks the version and
    /// the key (existing file).
    static func prepare(_ c: inout SQLiteConnection, key: StorageKey, synchronous: SQLiteStore.Synchronous,
                        inMemory: Bool) throws(StorageError) {
        try c.setBusyTimeout(milliseconds: 5_000)
        var mode = ""
        try c.run("PRAGMA journal_mode = WAL", cache: false, during: "set journal mode") { mode = $0.text(0) }
        guard mode == "wal" || inMemory else {
            throw .backend("sqlite: journal mode is \(mode), not wal, during set journal mode")
        }
        let sync = switch synchronous {
        case .normal: "PRAGMA synchronous = NORMAL"
        case .full: "PRAGMA synchronous = FULL"
        }
        try c.run(sync, cache: false, during: "set synchronous")
        try c.run("PRAGMA foreign_keys = ON", cache: false, during: "set foreign keys")
        // Zero the space that replaced and deleted records leave behind, so that
        // old chain keys do not linger in free pages (forward secrecy).
        try c.run("PRAGMA secure_delete = ON", cache: false, during: "set secure delete")

        try c.transaction(during: "open") { (c) throws(StorageError) in
            let found = try c.integer("PRAGMA user_version", cache: false, during: "read schema version") ?? 0
            guard found >= 0, found <= version else {
                throw .corruptRecord(kind: "schema", .unsupportedVersion(UInt16(clamping: found)))
            }
            if found == 0 {
                for sql in tables { try c.run(sql, cache: false, during: "create schema") }
                try c.run(SQL.upsertMeta, [.text(SealedKind.keyCheck.rawValue), .blob(key.seal(keyCheckPlaintext, kind: .keyCheck))],
                          during: "write key check")
                return
            }
            // An existing store without its key check is refused rather than
            // adopting whatever key is offered now.
            guard let sealed = try c.blob(SQL.selectMeta, [.text(SealedKind.keyCheck.rawValue)],
                                          table: "keycheck", during: "read key check") else {
                throw .corruptRecord(kind: "keycheck", .truncated)
            }
            guard try key.open(sealed, kind: .keyCheck) == keyCheckPlaintext else {
                throw .corruptRecord(kind: "keycheck", .malformed("key check"))
            }
        }
    }
}
