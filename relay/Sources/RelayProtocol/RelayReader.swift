/// Big-endian reading over an input that is never trusted, the relay's own
/// (the library's `ByteReader` is internal to E2EE): every read checks the
/// remaining length first and fails with ``RelayWireError/truncated(needed:available:)``.
struct RelayReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(RelayWireError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(RelayWireError) -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(RelayWireError) -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func u64() throws(RelayWireError) -> UInt64 {
        try need(8)
        let high = try u32()
        return UInt64(high) << 32 | UInt64(try u32())
    }

    mutating func bytes(_ n: Int) throws(RelayWireError) -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    /// Everything left.
    mutating func rest() throws(RelayWireError) -> [UInt8] {
        try bytes(remaining)
    }

    func expectEnd() throws(RelayWireError) {
        if remaining != 0 { throw .trailingBytes(count: remaining) }
    }

    private func need(_ n: Int) throws(RelayWireError) {
        if n < 0 || remaining < n { throw .truncated(needed: n, available: Swift.max(remaining, 0)) }
    }
}

extension Array where Element == UInt8 {
    mutating func appendU16(_ v: UInt16) {
        append(UInt8(v >> 8)); append(UInt8(truncatingIfNeeded: v))
    }

    mutating func appendU32(_ v: UInt32) {
        append(UInt8(v >> 24)); append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8)); append(UInt8(truncatingIfNeeded: v))
    }

    mutating func appendU64(_ v: UInt64) {
        appendU32(UInt32(v >> 32)); appendU32(UInt32(truncatingIfNeeded: v))
    }
}
