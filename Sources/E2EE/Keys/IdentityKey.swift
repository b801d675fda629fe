internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Identity keys: Ed25519 signing keys that also take part in X3DH through
/// libsodium's birational map to X25519 (PROTOCOL.md §1).
public enum IdentityKey {
    /// Bytes of an Ed25519 public key.
    public static let publicKeyByteCount = 32
    /// Bytes of the Ed25519 seed a private key is made from.
    public static let seedByteCount = 32
    /// Bytes of an Ed25519 signature.
    public static let signatureByteCount = 64

    /// An identity public key. Construction rejects non-canonical encodings,
    /// small-order points and points outside the prime-order subgroup.
    public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
        let bytes: [UInt8]

        /// Validates and wraps 32 raw bytes; throws ``CryptoError`` for a wrong length or a key that fails the checks above.
        public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
            let raw = rawRepresentation.withUnsafeBytes { Array($0) }
            guard raw.count == publicKeyByteCount else {
                throw .invalidLength(expected: publicKeyByteCount, got: raw.count)
            }
            // The full check (a scalar multiplication by the group order)
            // costs more than a DH; a peer's key arrives in every bundle and
            // every PreKeyMessage, so a key that passed it once is remembered.
            if !ValidatedIdentityKeys.contains(raw) {
                guard raw.withUnsafeBufferPointer({ e2ee_ed25519_public_validate($0.baseAddress) }) == 0 else {
                    throw .invalidPublicKey
                }
                ValidatedIdentityKeys.insert(raw)
            }
            bytes = raw
        }

        init(trusted bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// The 32-byte Ed25519 encoding.
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
            // The key was validated when it was made (or when its record was
            // first stored): the map alone, not libsodium's, which checks again.
            let rc = x.withUnsafeMutableBufferPointer { o in
                bytes.withUnsafeBufferPointer { e2ee_ed25519_pk_to_x25519_valid(o.baseAddress, $0.baseAddress) }
            }
            try check(rc, .invalidPublicKey)
            return try X25519.PublicKey(rawRepresentation: x)
        }

        /// The first bytes of the key, in hex.
        public var description: String {
            "IdentityKey.PublicKey(\(bytes.prefix(4).map { String($0, radix: 16) }.joined())…)"
        }
    }

    /// An identity private key, wiped when released. Holds libsodium's 64-byte
    /// secret key and its X25519 form, derived once.
    public struct PrivateKey: Sendable, CustomStringConvertible {
        let secret: SecureBytes          // libsodium form: seed || public
        let agreementKey: X25519.PrivateKey
        /// The matching public key.
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

        /// The public key only: the private key never prints.
        public var description: String { "IdentityKey.PrivateKey(public: \(publicKey))" }
    }
}

/// Encodings that passed the full identity-key check in this process. Validity
/// is a function of the 32 bytes alone, so remembering it changes no outcome:
/// only keys that passed are entered, and a lookup is by exact bytes (a key
/// with a torsion component added differs in its bytes and is checked anew).
/// Bounded: when full it starts over, so a flood of fresh keys costs what it
/// costs without the set, and memory stays under ~300 KiB.
package enum ValidatedIdentityKeys {
    static let capacity = 4096
    private static let keys = Locked(Set<[UInt8]>(minimumCapacity: 64))

    static func contains(_ key: [UInt8]) -> Bool {
        keys.withLock { $0.contains(key) }
    }

    static func insert(_ key: [UInt8]) {
        keys.withLock { set in
            if set.count >= capacity { set.removeAll(keepingCapacity: true) }
            set.insert(key)
        }
    }

    /// Empties the set (tests and the bench: the next parse of any key runs the full check).
    package static func removeAll() {
        keys.withLock { $0.removeAll() }
    }

    static var count: Int { keys.withLock { $0.count } }
}
