/// The id of a signed prekey (`SPK_id`).
public struct SignedPreKeyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "spk#\(rawValue)" }
}

/// The id of a one-time prekey (`OPK_id`). `0xFFFFFFFF` is reserved on the
/// wire for "no one-time prekey" and is never assigned.
public struct PreKeyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "opk#\(rawValue)" }
    static let none: UInt32 = 0xFFFF_FFFF
}

/// A signed prekey: an X25519 key pair whose public half the identity key signs
/// (`Ed25519-Sign(IK, Encode(SPK_pub))`, PROTOCOL.md §1).
public struct SignedPreKey: Sendable, CustomStringConvertible {
    public let id: SignedPreKeyID
    public let privateKey: X25519.PrivateKey
    public let signature: [UInt8]
    /// When it was made, in seconds since 1970 (for rotation schedules).
    public let createdAt: UInt64

    public init(id: SignedPreKeyID, signedBy identity: IdentityKey.PrivateKey,
                privateKey: X25519.PrivateKey = X25519.PrivateKey(), createdAt: UInt64 = 0) {
        self.id = id
        self.privateKey = privateKey
        self.signature = identity.signature(for: privateKey.publicKey.encoded)
        self.createdAt = createdAt
    }

    init(id: SignedPreKeyID, privateKey: X25519.PrivateKey, signature: [UInt8], createdAt: UInt64) {
        self.id = id
        self.privateKey = privateKey
        self.signature = signature
        self.createdAt = createdAt
    }

    public var publicKey: X25519.PublicKey { privateKey.publicKey }
    public var description: String { "SignedPreKey(\(id))" }
}

/// A one-time prekey: used by at most one session, then deleted.
public struct OneTimePreKey: Sendable, CustomStringConvertible {
    public let id: PreKeyID
    public let privateKey: X25519.PrivateKey

    public init(id: PreKeyID, privateKey: X25519.PrivateKey = X25519.PrivateKey()) {
        precondition(id.rawValue != PreKeyID.none, "0xFFFFFFFF is reserved for 'no prekey'")
        self.id = id
        self.privateKey = privateKey
    }

    public var publicKey: X25519.PublicKey { privateKey.publicKey }
    public var description: String { "OneTimePreKey(\(id))" }
}

/// The id of an ML-KEM-1024 prekey (`KEM_id`): one-time and last-resort KEM
/// prekeys share one id space, never reused.
public struct KEMPreKeyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "kem#\(rawValue)" }
}

/// A signed ML-KEM-1024 prekey for PQXDH (PROTOCOL.md §1, §2b): one-time
/// (used by at most one session, then deleted) or last-resort (reusable,
/// rotated with the signed prekey).
///
/// Only the 64-byte seed is kept, with the 32-byte hash of the public key that
/// PQXDH binds into the session key, so an account of a hundred KEM prekeys
/// stays small and a first message needs no public key. The key pair is
/// expanded (one ML-KEM key generation) when it is used or published, and its
/// signature made then (Ed25519 is deterministic, so it is the signature that
/// was published).
public struct KEMPreKey: Sendable, CustomStringConvertible {
    public let id: KEMPreKeyID
    let seed: SecureBytes
    /// `BLAKE2b(EncodeKEM(KEM_pub), 32, "E2EEv1 kem bind")` (PROTOCOL.md §2b).
    let binding: [UInt8]
    public let isLastResort: Bool
    /// When it was made, in seconds since 1970 (last-resort keys rotate).
    public let createdAt: UInt64

    /// A fresh KEM prekey whose seed comes from `random` (expanded once, for its binding hash).
    public init(id: KEMPreKeyID, isLastResort: Bool, createdAt: UInt64 = 0, random: any RandomSource = .system) {
        self.init(id: id, seed: SecureBytes(randomCount: MLKEM.seedByteCount, from: random),
                  isLastResort: isLastResort, createdAt: createdAt)
    }

    /// `seed` must be ``MLKEM/seedByteCount`` bytes.
    init(id: KEMPreKeyID, seed: SecureBytes, isLastResort: Bool, createdAt: UInt64) {
        self.init(id: id, seed: seed, binding: MLKEM.PrivateKey(validSeed: seed).publicKey.binding,
                  isLastResort: isLastResort, createdAt: createdAt)
    }

    /// From a record: `seed` 64 bytes, `binding` 32.
    init(id: KEMPreKeyID, seed: SecureBytes, binding: [UInt8], isLastResort: Bool, createdAt: UInt64) {
        precondition(seed.count == MLKEM.seedByteCount && binding.count == 32, "an ML-KEM seed is 64 bytes")
        self.id = id
        self.seed = seed
        self.binding = binding
        self.isLastResort = isLastResort
        self.createdAt = createdAt
    }

    /// The expanded key pair.
    public func privateKey() -> MLKEM.PrivateKey { MLKEM.PrivateKey(validSeed: seed) }

    public var description: String { "KEMPreKey(\(id)\(isLastResort ? ", last resort" : ""))" }
}
