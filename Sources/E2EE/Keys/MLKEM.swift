internal import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ML-KEM-1024 (FIPS 203), the key encapsulation mechanism of PQXDH
/// (PROTOCOL.md §2b). The algorithm is swift-crypto's (BoringSSL); this type
/// only fixes sizes, validates keys on construction and keeps secrets in
/// ``SecureBytes``.
///
/// swift-crypto copies the seed and the expanded private key into buffers it
/// frees without wiping, and returns the shared secret through one such
/// buffer (docs/THREAT-MODEL.md lists this under "limits").
public enum MLKEM {
    /// Bytes of an ML-KEM-1024 encapsulation (public) key.
    public static let publicKeyByteCount = 1568
    /// Bytes of an ML-KEM-1024 ciphertext.
    public static let ciphertextByteCount = 1568
    /// `d || z`, from which FIPS 203's `KeyGen_internal` derives the key pair.
    public static let seedByteCount = 64
    /// Bytes of the shared secret an encapsulation yields.
    public static let sharedSecretByteCount = 32

    /// An encapsulation key, checked on construction (FIPS 203's modulus check).
    public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
        let bytes: [UInt8]
        private let key: MLKEM1024.PublicKey

        /// Validates and wraps a 1,568-byte encapsulation key; throws ``CryptoError`` for a wrong length or a key that fails FIPS 203's modulus check.
        public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
            let raw = rawRepresentation.withUnsafeBytes { Array($0) }
            guard raw.count == MLKEM.publicKeyByteCount else {
                throw .invalidLength(expected: MLKEM.publicKeyByteCount, got: raw.count)
            }
            do { key = try MLKEM1024.PublicKey(rawRepresentation: raw) } catch { throw .invalidPublicKey }
            bytes = raw
        }

        fileprivate init(key: MLKEM1024.PublicKey) {
            self.key = key
            bytes = Array(key.rawRepresentation)
        }

        /// The 1,568-byte encoding.
        public var rawRepresentation: [UInt8] { bytes }

        /// `(shared secret, ciphertext)` for the owner of this key.
        func encapsulate() throws(CryptoError) -> (sharedSecret: SecureBytes, ciphertext: [UInt8]) {
            let result: KEM.EncapsulationResult
            do { result = try key.encapsulate() } catch { throw .invalidParameter("ML-KEM encapsulation failed") }
            let secret = result.sharedSecret.withUnsafeBytes { SecureBytes($0) }
            return (secret, Array(result.encapsulated))
        }

        /// Whether two keys have the same encoding.
        public static func == (a: Self, b: Self) -> Bool { a.bytes == b.bytes }
        /// Hashes the encoding.
        public func hash(into h: inout Hasher) { h.combine(bytes) }

        /// The first bytes of the key, in hex.
        public var description: String {
            "MLKEM.PublicKey(\(bytes.prefix(4).map { String($0, radix: 16) }.joined())…)"
        }
    }

    /// A decapsulation key, expanded from its 64-byte seed (the form a record
    /// stores). Expanding costs as much as generating a key.
    public struct PrivateKey: Sendable, CustomStringConvertible {
        let seed: SecureBytes
        private let key: MLKEM1024.PrivateKey

        /// The encapsulation key. Computed on each use: swift-crypto writes it
        /// out and parses it again (the matrix expansion), about a fifth of a
        /// key generation, which decapsulation does not need.
        public var publicKey: PublicKey { PublicKey(key: key.publicKey) }

        /// A fresh key from `random`'s bytes.
        public init(random: any RandomSource = .system) {
            self.init(validSeed: SecureBytes(randomCount: MLKEM.seedByteCount, from: random))
        }

        /// The key pair determined by a seed `d || z` (FIPS 203 `KeyGen_internal(d, z)`).
        public init<Bytes: ContiguousBytes>(seedRepresentation: Bytes) throws(CryptoError) {
            let n = rawCount(seedRepresentation)
            guard n == MLKEM.seedByteCount else { throw .invalidLength(expected: MLKEM.seedByteCount, got: n) }
            self.init(validSeed: SecureBytes(seedRepresentation))
        }

        /// `seed` must be 64 bytes (the callers check it).
        init(validSeed seed: SecureBytes) {
            #if DEBUG
            KEMWork.current?.expansions += 1
            #endif
            let expanded = seed.withUnsafeBytes { s in
                try? MLKEM1024.PrivateKey(seedRepresentation: s, publicKey: nil)
            }
            // BoringSSL's expansion fails only for a seed that is not 64 bytes.
            guard let expanded else { preconditionFailure("ML-KEM-1024 key expansion failed") }
            self.seed = seed
            key = expanded
        }

        /// `ML-KEM.Decaps`: never fails on a well-sized ciphertext (a tampered
        /// one gives an unrelated secret, FIPS 203's implicit rejection).
        public func decapsulate<Bytes: ContiguousBytes>(_ ciphertext: Bytes) throws(CryptoError) -> SecureBytes {
            let n = rawCount(ciphertext)
            guard n == MLKEM.ciphertextByteCount else {
                throw .invalidLength(expected: MLKEM.ciphertextByteCount, got: n)
            }
            let secret: SymmetricKey
            do { secret = try ciphertext.withUnsafeBytes { try key.decapsulate($0) } } catch {
                throw .invalidParameter("ML-KEM decapsulation failed")
            }
            return secret.withUnsafeBytes { SecureBytes($0) }
        }

        /// The public key only: the private key never prints.
        public var description: String { "MLKEM.PrivateKey(public: \(publicKey))" }
    }
}

#if DEBUG
/// Counts ML-KEM key expansions while a test holds one in ``KEMWork/current``
/// (debug builds only), so tests can see that a kept key is not expanded again.
final class KEMWork: @unchecked Sendable {
    var expansions = 0
    @TaskLocal static var current: KEMWork?
}
#endif

private func rawCount<Bytes: ContiguousBytes>(_ b: Bytes) -> Int { b.withUnsafeBytes { $0.count } }
