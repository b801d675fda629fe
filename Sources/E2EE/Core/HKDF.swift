internal import CE2EE

/// HKDF-SHA-512 (RFC 5869) over libsodium's HMAC-SHA-512; X3DH derives its
/// shared key with it.
public enum HKDF {
    /// The longest output HKDF-SHA-512 can expand to: 255 blocks of 64 bytes.
    public static let maxOutputByteCount = 255 * 64

    /// Extract-then-expand. An empty salt means 64 zero bytes (RFC 5869 §2.2).
    /// The output is secret and is returned as ``SecureBytes``.
    public static func deriveKey(inputKeyMaterial ikm: SecureBytes, salt: [UInt8], info: [UInt8],
                                 outputByteCount: Int) throws(CryptoError) -> SecureBytes {
        guard (1...maxOutputByteCount).contains(outputByteCount) else {
            throw .invalidParameter("HKDF-SHA-512 output length \(outputByteCount) is outside 1...\(maxOutputByteCount)")
        }
        return try SecureBytes(count: outputByteCount) { (out) throws(CryptoError) in
            let rc = ikm.withUnsafeBytes { k in
                salt.withUnsafeBufferPointer { s in
                    info.withUnsafeBufferPointer { i in
                        e2ee_hkdf_sha512(out.baseAddress!, out.count,
                                         s.baseAddress, s.count,
                                         k.baseAddress, k.count,
                                         i.baseAddress, i.count)
                    }
                }
            }
            try check(rc, .invalidParameter("HKDF-SHA-512 rejected its parameters"))
        }
    }
}
