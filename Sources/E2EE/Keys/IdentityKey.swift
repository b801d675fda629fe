internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Identity keys: Ed25519 signing keys that also take part in X3DH through
/// libsodium's birational map to X25519 (PROTOCOL.md §1).
public enum IdentityKey {
    public static let publicKeyByteCount = 32
    public static let seedByteCount = 32
    public static let signatureByteCount = 64

    /// An identity public key. Construction rejects non-canonical encodings,
    /// small-order points and points outside the prime-order subgroup.
    public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
        let bytes: [UInt8]

        public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
            let raw = rawRepresentation.withUnsafeBytes { Array($0) }
            guard raw.count == publicKeyByteCount else {
                throw .invalidLength(expected: publicKeyByteCount, got: raw.count)
            }
            guard raw.withUnsafeBufferPointer({ e2ee_ed25519_public_validate($0.baseAddress) }) == 0 else {
                throw .invalidPublicKey
            }
            bytes = raw
        }

        init(trusted bytes: [UInt8]) {
            self.bytes = bytes
        }

        public var rawRepresentation: [UInt8] { bytes }

        /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            guard signature.count == signatureByteCount else { return false }
            return signature.withUnsafeBufferPointer { s in
                message.withUnsafeBufferPointer { m in
                    bytes.withUnsafeBufferPointer { k in
                        e2ee_ed25519_verify(s.baseAddress, m.baseAddress, m.count, k.baseAddress) == 0
                    }
                }
            }
        }

        /// The same key as an X25519 public key, for X3DH.
        public func keyAgreementKey() throws(CryptoError) -> X25519.PublicKey {
            var x = [UInt8](repeating: 0, count: X25519.keyByteCount)
            let rc = x.withUnsafeMutableBufferPointer { o in
                bytes.withUnsafeBufferPointer { e2ee_ed25519_pk_to_x25519(o.baseAddress, $0.baseAddress) }
            }
            try check(rc, .invalidPublicKey)
            return try X25519.PublicKey(rawRepresentation: x)
        }

        public var description: String {
            "IdentityKey.PublicKey(\(bytes.prefix(4).map { String($0, radix: 16) }.joined())…)"
        }
    }

    /// An identity private key, wiped when released. Holds libsodium's 64-byte
    /// secret key and its X25519 form, derived once.
    public struct PrivateKey: Sendable, CustomStringConvertible {
        let secret: SecureBytes          // libsodium form: seed || public
        let agreementKey: X25519.PrivateKey
        public let publicKey: PublicKey

        /// A fresh random identity.
        public init() {
            self.init(validSeed: SecureBytes(randomCount: seedByteCount))
        }

        /// The identity determined by a 32-byte seed (RFC 8032's secret key).
        public init<Bytes: ContiguousBytes>(seed: Bytes) throws(CryptoError) {
            let n = seed.withUnsafeBytes { $0.count }
            guard n == seedByteCount else { throw .invalidLength(expected: seedByteCount, got: n) }
            self.init(validSeed: SecureBytes(seed))
        }

        init(validSeed seed: SecureBytes) {
            var pk = [UInt8](repeating: 0, count: publicKeyByteCount)
            let sk = try! SecureBytes(count: 64) { (sk) throws(CryptoError) in
                let rc = seed.withUnsafeBytes { s in
                    pk.withUnsafeMutableBufferPointer { p in
                        e2ee_ed25519_keypair(p.baseAddress, sk.baseAddress!, s.baseAddress!)
                    }
                }
                try check(rc, .initializationFailure)
            }
            let x = try! SecureBytes(count: X25519.keyByteCount) { (x) throws(CryptoError) in
                let rc = sk.withUnsafeBytes { s in
                    e2ee_ed25519_sk_to_x25519(x.baseAddress!, s.baseAddress!)
                }
                try check(rc, .initializationFailure)
            }
            secret = sk
            agreementKey = X25519.PrivateKey(secret: x)
            publicKey = PublicKey(trusted: pk)
        }

        /// The 32-byte seed, for sealed storage of the identity only.
        var seed: SecureBytes {
            secret.withUnsafeBytes { SecureBytes(UnsafeRawBufferPointer(rebasing: $0[0..<seedByteCount])) }
        }

        /// An Ed25519 signature of `message` (deterministic, RFC 8032).
        public func signature(for message: [UInt8]) -> [UInt8] {
            var sig = [UInt8](repeating: 0, count: signatureByteCount)
            let rc = secret.withUnsafeBytes { s in
                message.withUnsafeBufferPointer { m in
                    sig.withUnsafeMutableBufferPointer { o in
                        e2ee_ed25519_sign(o.baseAddress, m.baseAddress, m.count, s.baseAddress!)
                    }
                }
            }
            precondition(rc == 0, "Ed25519 signing cannot fail on valid keys")
            return sig
        }

        /// `DH(IK, peer)` through the birational map.
        public func sharedSecret(with peer: X25519.PublicKey) throws(CryptoError) -> SharedSecret {
            try agreementKey.sharedSecret(with: peer)
        }

        public var description: String { "IdentityKey.PrivateKey(public: \(publicKey))" }
    }
}
