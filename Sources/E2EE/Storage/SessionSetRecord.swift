/// The session-set record (PROTOCOL.md §6): the current session and the archived
/// ones, each as its own session record.
extension SessionSet {
    /// The sessions as a versioned record (PROTOCOL.md §6). It holds root and chain keys: seal it and wipe it.
    public func serialized() -> [UInt8] {
        var w = RecordWriter(kind: .sessionSet)
        w.u8(current == nil ? 0 : 1)
        // Session records hold keys: each goes into the set's record, then is wiped.
        func append(_ session: Session) {
            var record = session.serialized()
            w.blob(record)
            SecureBytes.wipe(&record)
        }
        if let c = current { append(c) }
        w.varint(UInt64(archived.count))
        for s in archived { append(s) }
        return w.bytes
    }

    /// Loads a session set from a record written by ``serialized()``.
    public init(serialized bytes: [UInt8]) throws(RecordError) {
        var r = try RecordReader(bytes, kind: .sessionSet)
        let hasCurrent = try r.u8()
        guard hasCurrent <= 1 else { throw .malformed("session set flags") }
        func session() throws(RecordError) -> Session {
            var record = try r.blob(max: Limits.Record.sessionBytes)
            defer { SecureBytes.wipe(&record) }
            return try Session(serialized: record)
        }
        current = hasCurrent == 1 ? try session() : nil
        let n = try r.count(max: Limits.maxArchivedSessions)
        archived = []
        for _ in 0..<n { archived.append(try session()) }
        try r.expectEnd()
    }
}
