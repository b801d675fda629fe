internal import CE2EE

/// BLAKE2b with key and 16-byte personalisation (zero salt), as PROTOCOL.md
/// writes `BLAKE2b(key, in, outlen, personal)`. Computed by libb2.
public enum BLAKE2b {
    /// The largest digest BLAKE2b produces, in bytes.
    public static let maxOutputByteCount = 64
    /// The longest key BLAKE2b takes, in bytes.
    public static let maxKeyByteCount = 64
    /// The exact length of the personalisation string, in bytes.
    public static let personalByteCount = 16

    /// `BLAKE2b(key, input, outputByteCount, personal)` with a zero salt.
    ///
    /// - Parameters:
    ///   - input: the message.
    ///   - key: 0...64 bytes; empty for unkeyed hashing.
    ///   - personal: ASCII, at most 16 bytes, zero-padded.
    ///   - outputByteCount: 1...64.
    public static func hash(_ input: [UInt8], key: SecureBytes? = nil, personal: String,
                            outputByteCount: Int) throws(CryptoError) -> [UInt8] {
        guard (1...maxOutputByteCount).contains(outputByteCount) else {
            throw .invalidParameter("BLAKE2b output length \(outputByteCount) is outside 1...64")
        }
        guard personal.utf8.count <= personalByteCount, personal.utf8.allSatisfy({ $0 != 0 }) else {
            throw .invalidParameter("BLAKE2b personalisation is longer than 16 bytes or holds NUL")
        }
        let keyCount = key?.count ?? 0
        guard keyCount <= maxKeyByteCount else {
            throw .invalidLength(expected: maxKeyByteCount, got: keyCount)
        }
        var out = [UInt8](repeating: 0, count: outputByteCount)
        let rc = input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                personal.withCString { p in
                    if let key {
                        return key.withUnsafeBytes { k in
                            e2ee_blake2b_personal(o.baseAddress, outputByteCount, inp.baseAddress, inp.count,
                                                  k.baseAddress, k.count, p)
                        }
                    }
                    return e2ee_blake2b_personal(o.baseAddress, outputByteCount, inp.baseAddress, inp.count,
                                                 nil, 0, p)
                }
            }
        }
        try check(rc, .invalidParameter("BLAKE2b rejected its parameters"))
        return out
    }
}
