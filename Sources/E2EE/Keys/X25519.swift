internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// X25519 key agreement keys (libsodium `crypto_scalarmult`). Roles built on
/// these (signed prekeys, one-time prekeys, ratchet keys) wrap them.
public enum X25519 {
    /// Bytes of an X25519 key, public or private.
    public static let keyByteCount = 32

    /// A peer's X25519 public key, validated on construction: all-zero and
    /// low-order points are rejected, so a DH with it cannot be forced to a
    /// known value.
    public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
        let bytes: [UInt8]

        /// Validates and wraps 32 raw bytes; throws ``CryptoError`` for a wrong length, an all-zero or a low-order key.
        public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
            let raw = rawRepresentation.withUnsafeBytes { Array($0) }
            guard raw.count == keyByteCount else {
                throw .invalidLength(expected: keyByteCount, got: raw.count)
            }
            guard raw.withUnsafeBufferPointer({ e2ee_x25519_public_validate($0.baseAddress) }) == 0 else {
                throw .invalidPublicKey
            }
            bytes = raw
        }

        /// A key computed locally from a private key: valid by construction.
        init(trusted bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// The 32-byte encoding.
        public var rawRepresentation: [UInt8] { bytes }

        /// The first bytes of the key, in hex.
        public var description: String {
            "X25519.PublicKey(\(bytes.prefix(4).map { String($0, radix: 16) }.joined())…)"
        }
    }

    /// An X25519 private key, wiped when released.
    public struct PrivateKey: Sendable, CustomStringConvertible {
        let secret: SecureBytes
        /// The matching public key.
        public let publicKey: PublicKey

        /// A fresh random key.
        public init() {
            self.init(secret: SecureBytes(randomCount: keyByteCount))
        }

        /// A key from its 32 raw bytes (clamping is applied by X25519 itself).
        public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
            self.init(secret: try SecureBytes(checkedKey: rawRepresentation))
        }

        /// From a stored pair, without the scalar multiplication (records are
        /// authenticated at rest, and a mismatched pair only fails to decrypt).
        init(secret: SecureBytes, publicKey: PublicKey) {
            self.secret = secret
            self.publicKey = publicKey
        }

        init(secret: SecureBytes) {
            self.secret = secret
            var pk = [UInt8](repeating: 0, count: keyByteCount)
            let rc = secret.withUnsafeBytes { sk in
                pk.withUnsafeMutableBufferPointer {
                    e2ee_x25519_public($0.baseAddress, sk.baseAddress!)
                }
            }
            precondition(rc == 0, "libsodium failed to initialise")
            publicKey = PublicKey(trusted: pk)
        }

        /// `DH(self, peer)`. Throws ``CryptoError/weakSharedSecret`` if the
        /// result is all zero.
        public func sharedSecret(with peer: PublicKey) throws(CryptoError) -> SharedSecret {
            try SharedSecret(privateKey: secret, peer: peer)
        }

        /// The public key only: the private key never prints.
        public var description: String { "X25519.PrivateKey(public: \(publicKey))" }
    }
}

/// The 32-byte output of a Diffie-Hellman, kept only until it is fed to a KDF.
public struct SharedSecret: Sendable, Equatable, CustomStringConvertible {
    let bytes: SecureBytes

    init(privateKey sk: SecureBytes, peer: X25519.PublicKey) throws(CryptoError) {
        bytes = try SecureBytes(count: X25519.keyByteCount) { (out) throws(CryptoError) in
            let rc = sk.withUnsafeBytes { s in
                peer.bytes.withUnsafeBufferPointer { p in
                    e2ee_x25519(out.baseAddress!, s.baseAddress!, p.baseAddress)
                }
            }
            try check(rc, .weakSharedSecret)
        }
    }

    /// A secret from raw bytes, for KDF vectors and the X3DH concatenation.
    init(unsafeBytes: SecureBytes) {
        bytes = unsafeBytes
    }

    /// A redacted description: a shared secret never prints its bytes.
    public var description: String { "SharedSecret(<redacted>)" }
}
