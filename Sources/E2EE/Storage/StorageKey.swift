internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The caller-held 32-byte key that seals records at rest (PROTOCOL.md §6):
/// `XChaCha20-Poly1305-IETF(key, random 24-byte nonce, record, ad = kind || id)`.
public struct StorageKey: Sendable, Equatable, CustomStringConvertible {
    /// The key's length in bytes.
    public static let byteCount = 32
    /// The length of the salt for ``init(passphrase:salt:opsLimit:memLimit:)-(SecureBytes,_,_,_)``.
    public static let saltByteCount = 16
    /// What sealing adds to a record: the 24-byte nonce and the 16-byte tag.
    public static let sealOverhead = Int(E2EE_SEAL_OVERHEADBYTES)
    let bytes: SecureBytes

    /// A fresh random key (to be kept in a key file or a platform keystore).
    public init() {
        bytes = SecureBytes(randomCount: Self.byteCount)
    }

    /// A key from 32 raw bytes (a key file, a platform keystore); throws ``CryptoError`` for another length.
    public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
        bytes = try SecureBytes(checkedKey: rawRepresentation)
    }

    /// Derives a key from a passphrase with Argon2id (libsodium `crypto_pwhash`,
    /// MODERATE limits by default: ~0.5 s and 256 MiB). Tests may lower the limits.
    public init(passphrase: [UInt8], salt: [UInt8], opsLimit: UInt64 = 0, memLimit: Int = 0) throws(CryptoError) {
        let derived = passphrase.withUnsafeBytes { p in
            Result { () throws(CryptoError) in try Self.derive(p, salt: salt, opsLimit: opsLimit, memLimit: memLimit) }
        }
        bytes = try derived.get()
    }

    /// As ``init(passphrase:salt:opsLimit:memLimit:)`` from a passphrase kept
    /// in wiped storage (read from a file or a prompt).
    public init(passphrase: SecureBytes, salt: [UInt8], opsLimit: UInt64 = 0, memLimit: Int = 0) throws(CryptoError) {
        bytes = try passphrase.withUnsafeBytes { (p) throws(CryptoError) in
            try Self.derive(p, salt: salt, opsLimit: opsLimit, memLimit: memLimit)
        }
    }

    private static func derive(_ passphrase: UnsafeRawBufferPointer, salt: [UInt8], opsLimit: UInt64,
                               memLimit: Int) throws(CryptoError) -> SecureBytes {
        guard salt.count == Self.saltByteCount else { throw .invalidLength(expected: Self.saltByteCount, got: salt.count) }
        return try SecureBytes(count: Self.byteCount) { (k) throws(CryptoError) in
            let rc = salt.withUnsafeBufferPointer { s in
                e2ee_pwhash_storage_key(k.baseAddress!, passphrase.baseAddress, passphrase.count,
                                        s.baseAddress, opsLimit, memLimit)
            }
            try check(rc, .invalidParameter("Argon2id failed (out of memory?)"))
        }
    }

    /// A redacted description: the key never prints.
    public var description: String { "StorageKey(<redacted>)" }

    /// The bytes, for writing a key file; the caller must protect them.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.storage.withUnsafeMutablePointerToElements { p in
            try body(UnsafeRawBufferPointer(start: p, count: Self.byteCount))
        }
    }

    /// `nonce || ciphertext || tag` of `record`, bound to `ad`.
    public func seal(_ record: [UInt8], authenticating ad: [UInt8]) -> [UInt8] {
        let n = record.count + Self.sealOverhead
        var rc: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
            rc = record.withUnsafeBufferPointer { r in
                ad.withUnsafeBufferPointer { a in
                    bytes.withUnsafeBytes { k in
                        e2ee_record_seal(buf.baseAddress, n, r.baseAddress, r.count, a.baseAddress, a.count,
                                         k.baseAddress!)
                    }
                }
            }
            initialized = n
        }
        precondition(rc == 0, "sealing a record cannot fail for records under 256 GiB")
        return out
    }

    /// Opens a sealed record; nil if it was altered, truncated, moved (other `ad`) or sealed under another key.
    public func open(_ sealed: [UInt8], authenticating ad: [UInt8]) -> [UInt8]? {
        guard sealed.count >= Self.sealOverhead else { return nil }
        let n = sealed.count - Self.sealOverhead
        var rc: Int32 = 0
        let out = [UInt8](writing: n) { buf in
            rc = sealed.withUnsafeBufferPointer { s in
                ad.withUnsafeBufferPointer { a in
                    bytes.withUnsafeBytes { k in
                        e2ee_record_open(buf.baseAddress, n, s.baseAddress, s.count, a.baseAddress, a.count,
                                         k.baseAddress!)
                    }
                }
            }
        }
        return rc == 0 ? out : nil
    }
}
