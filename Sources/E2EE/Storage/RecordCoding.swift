/// Why a stored record was refused. A record that does not parse is an error,
/// never a silently empty session (PROTOCOL.md §6).
public enum RecordError: Error, Equatable, Sendable {
    /// The record does not start with the `E2ES` magic.
    case badMagic
    /// The record's version is newer than this build reads.
    case unsupportedVersion(UInt16)
    /// The record is of another kind (for example a session where an account was expected).
    case wrongKind(expected: UInt8, got: UInt8)
    /// The record ended early.
    case truncated
    /// Bytes were left over after the record.
    case trailingBytes(count: Int)
    /// A field holds a value no writer produces (named).
    case malformed(String)
}

/// Record kinds: the first field after the version.
enum RecordKind: UInt8 {
    case session = 1
    case account = 2
    case sessionSet = 3
    case group = 4
}

/// `"E2ES" || u16 format_version || u8 kind || fields`, fields in a compact
/// form: fixed-size keys raw, counters and ids as LEB128 varints.
struct RecordWriter {
    static let magic: [UInt8] = Array("E2ES".utf8)
    static let formatVersion: UInt16 = 1

    /// The record so far. It holds secrets, so it never grows in place: when
    /// it needs room it moves to a buffer twice as large and the old one is
    /// wiped (an array growing by itself would free its old buffer as it is).
    private(set) var bytes: [UInt8] = []

    init(kind: RecordKind, capacity: Int = 256) {
        bytes.reserveCapacity(Swift.max(capacity, 16))
        bytes += Self.magic
        bytes.appendU16(Self.formatVersion)
        bytes.append(kind.rawValue)
    }

    /// Makes room for `n` more bytes without the array reallocating by itself.
    private mutating func reserve(_ n: Int) {
        guard bytes.count + n > bytes.capacity else { return }
        var larger = [UInt8]()
        larger.reserveCapacity(Swift.max(bytes.capacity * 2, bytes.count + n))
        larger += bytes
        SecureBytes.wipe(&bytes)
        bytes = larger
    }

    mutating func u8(_ v: UInt8) {
        reserve(1)
        bytes.append(v)
    }

    mutating func varint(_ v: UInt64) {
        reserve(10)
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func raw(_ b: [UInt8]) {
        reserve(b.count)
        bytes += b
    }

    mutating func secret(_ s: SecureBytes) {
        reserve(s.count)
        s.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A length-prefixed byte string.
    mutating func blob(_ b: [UInt8]) {
        varint(UInt64(b.count))
        raw(b)
    }
}

struct RecordReader {
    private var r: ByteReader

    init(_ bytes: [UInt8], kind: RecordKind) throws(RecordError) {
        r = ByteReader(bytes)
        guard (try? r.bytes(4)) == RecordWriter.magic else { throw .badMagic }
        let version = try map { (r: inout ByteReader) throws(WireError) in try r.u16() }
        guard version == RecordWriter.formatVersion else { throw .unsupportedVersion(version) }
        let k = try u8()
        guard k == kind.rawValue else { throw .wrongKind(expected: kind.rawValue, got: k) }
    }

    private mutating func map<T>(_ body: (inout ByteReader) throws(WireError) -> T) throws(RecordError) -> T {
        do { return try body(&r) } catch {
            if case .trailingBytes(let n) = error { throw .trailingBytes(count: n) }
            throw .truncated
        }
    }

    mutating func u8() throws(RecordError) -> UInt8 {
        try map { (r: inout ByteReader) throws(WireError) in try r.u8() }
    }

    mutating func bytes(_ n: Int) throws(RecordError) -> [UInt8] {
        try map { (r: inout ByteReader) throws(WireError) in try r.bytes(n) }
    }

    /// LEB128, rejecting overlong encodings and values above `max`.
    mutating func varint(max: UInt64 = UInt64(UInt32.max)) throws(RecordError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 63 || b <= 1 else { throw .malformed("varint overflow") }
            v |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 {
                guard b != 0 || shift == 0 else { throw .malformed("overlong varint") }
                break
            }
            shift += 7
        }
        guard v <= max else { throw .malformed("value \(v) above \(max)") }
        return v
    }

    mutating func u32() throws(RecordError) -> UInt32 { UInt32(try varint()) }

    mutating func count(max: Int) throws(RecordError) -> Int { Int(try varint(max: UInt64(max))) }

    /// Secret bytes, copied from the record straight into wiped storage.
    mutating func secret(_ n: Int) throws(RecordError) -> SecureBytes {
        let range = try map { (r: inout ByteReader) throws(WireError) in try r.skip(n) }
        return r.bytes.withUnsafeBytes { SecureBytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    mutating func blob(max: Int) throws(RecordError) -> [UInt8] {
        try bytes(try count(max: max))
    }

    /// Stored X25519 keys must be canonical like keys on the wire: a record
    /// holding another encoding would make its owner send bytes every peer refuses.
    mutating func x25519Public(_ field: String) throws(RecordError) -> X25519.PublicKey {
        let raw = try bytes(32)
        do { return try X25519.PublicKey(wire: raw, field: field) } catch { throw .malformed(field) }
    }

    /// Identity keys in a record were validated when they first arrived; the
    /// full subgroup check costs ~60 µs and would dominate a session load, so a
    /// record only has to hold 32 bytes here. Records are sealed at rest.
    mutating func identityPublic(_ field: String) throws(RecordError) -> IdentityKey.PublicKey {
        IdentityKey.PublicKey(trusted: try bytes(32))
    }

    /// The next byte, not consumed (nil at the end).
    func peekU8() -> UInt8? { r.remaining > 0 ? r.bytes[r.offset] : nil }

    /// Bytes left, for sizing reservations by what the input can actually hold.
    var remainingHint: Int { r.remaining }

    func expectEnd() throws(RecordError) {
        if r.remaining != 0 { throw .trailingBytes(count: r.remaining) }
    }
}
