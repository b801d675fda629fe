internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Double Ratchet root key (PROTOCOL.md §3, `KDF_RK`).
public struct RootKey: Sendable, Equatable, CustomStringConvertible {
    /// The key's length in bytes.
    public static let byteCount = 32
    var bytes: SecureBytes

    init(bytes: SecureBytes) {
        self.bytes = bytes
    }

    /// A root key from 32 raw bytes; throws ``CryptoError`` for another length.
    public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
        bytes = try SecureBytes(checkedKey: rawRepresentation)
    }

    /// A redacted description: a root key never prints its bytes.
    public var description: String { "RootKey(<redacted>)" }

    /// One DH ratchet step: `(rk', ck) = KDF_RK(rk, dh)`. Returns the next
    /// root key and the new chain key; `self` is left untouched so that a
    /// failed decryption can drop the result.
    public func advanced(with dh: SharedSecret) -> (rootKey: RootKey, chainKey: ChainKey) {
        var ck = SecureBytes?.none
        let rk = try! SecureBytes(count: 32) { (rkOut) throws(CryptoError) in
            ck = try SecureBytes(count: 32) { (ckOut) throws(CryptoError) in
                let rc = bytes.withUnsafeBytes { rk in
                    dh.bytes.withUnsafeBytes { d in
                        e2ee_kdf_rk(rkOut.baseAddress!, ckOut.baseAddress!, rk.baseAddress!,
                                    d.baseAddress!, d.count)
                    }
                }
                try check(rc, .invalidParameter("KDF_RK"))
            }
        }
        return (RootKey(bytes: rk), ChainKey(bytes: ck!))
    }
}
