/// The id of a signed prekey (`SPK_id`).
public struct SignedPreKeyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The id as it is written on the wire.
    public let rawValue: UInt32
    /// Wraps a wire id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `spk#` and the id.
    public var description: String { "spk#\(rawValue)" }
}

/// The id of a one-time prekey (`OPK_id`). `0xFFFFFFFF` is reserved on the
/// wire for "no one-time prekey" and is never assigned.
public struct PreKeyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The id as it is written on the wire.
    public let rawValue: UInt32
    /// Wraps a wire id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `opk#` and the id.
    public var description: String { "opk#\(rawValue)" }
    static let none: UInt32 = 0xFFFF_FFFF
}

/// A signed prekey: an X25519 key pair whose public half the identity key signs
/// (`Ed25519-Sign(IK, Encode(SPK_pub))`, PROTOCOL.md §1).
public struct SignedPreKey: Sendable, CustomStringConvertible {
    /// The prekey's id, named in bundles and first messages.
    public let id: SignedPreKeyID
    /// The X25519 private key.
    public let privateKey: X25519.PrivateKey
    /// The identity key's Ed25519 signature over `Encode(SPK_pub)`.
    public let signature: [UInt8]
    /// When it was made, in seconds since 1970 (for rotation schedules).
    public let createdAt: UInt64

    /// Makes a signed prekey: signs `privateKey`'s public half with `identity`.
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

    /// The X25519 public key that bundles carry.
    public var publicKey: X25519.PublicKey { privateKey.publicKey }
    /// The id only: the private key never prints.
    public var description: String { "SignedPreKey(\(id))" }
}

/// A one-time prekey: used by at most one session, then deleted.
public struct OneTimePreKey: Sendable, CustomStringConvertible {
    /// The prekey's id, named in bundles and first messages.
    public let id: PreKeyID
    /// The X25519 private key.
    public let privateKey: X25519.PrivateKey

    /// A one-time prekey; `id` must not be `0xFFFFFFFF` (reserved on the wire).
    public init(id: PreKeyID, privateKey: X25519.PrivateKey = X25519.PrivateKey()) {
        precondition(id.rawValue != PreKeyID.none, "0xFFFFFFFF is reserved for 'no prekey'")
        self.id = id
        self.privateKey = privateKey
    }

    /// The X25519 public key that bundles carry.
    public var publicKey: X25519.PublicKey { privateKey.publicKey }
    /// The id only: the private key never prints.
    public var description: String { "OneTimePreKey(\(id))" }
}

/// The id of an ML-KEM-1024 prekey (`KEM_id`): one-time and last-resort KEM
/// prekeys share one id space, never reused.
public struct KEMPreKeyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The id as it is written on the wire.
    public let rawValue: UInt32
    /// Wraps a wire id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `kem#` and the id.
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
    /// The prekey's id, named in bundles and first messages.
    public let id: KEMPreKeyID
    let seed: SecureBytes
    /// `BLAKE2b(EncodeKEM(KEM_pub), 32, "E2EEv1 kem bind")` (PROTOCOL.md §2b).
    let binding: [UInt8]
    /// Whether this is the reusable last-resort key rather than a one-time key.
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

    /// The expanded key pair. A last-resort key is expanded once per process
    /// and kept (`KEMKeyCache`): it serves every first message that finds
    /// the one-time pool empty, and expanding costs a key generation.
    public func privateKey() -> MLKEM.PrivateKey {
        isLastResort ? KEMKeyCache.current.key(for: self) : MLKEM.PrivateKey(validSeed: seed)
    }

    /// The id and kind only: the seed never prints.
    public var description: String { "KEMPreKey(\(id)\(isLastResort ? ", last resort" : ""))" }
}

/// Last-resort KEM private keys kept expanded in memory, found by their
/// binding hash and checked against the seed (constant time), so a key is
/// only ever served to an account holding its seed. Bounded, oldest out; an
/// account forgets the ones it rotates away (``forget(_:)``), so a retired key
/// does not outlive its record in memory.
final class KEMKeyCache: Sendable {
    let capacity: Int
    private struct Entry: Sendable {
        let binding: [UInt8]
        let seed: SecureBytes
        let key: MLKEM.PrivateKey
    }
    private let entries = Locked([Entry]())

    /// The process's cache: a device uses one or two last-resort keys at a
    /// time; a server holding many accounts cycles through it.
    static let shared = KEMKeyCache(capacity: 16)

    #if DEBUG
    /// A test's own cache, so that what it counts is not disturbed by others.
    @TaskLocal static var testInstance: KEMKeyCache?
    #endif

    static var current: KEMKeyCache {
        #if DEBUG
        if let t = testInstance { return t }
        #endif
        return shared
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func key(for prekey: KEMPreKey) -> MLKEM.PrivateKey {
        let hit = entries.withLock { e in
            e.first { $0.binding == prekey.binding && $0.seed == prekey.seed }?.key
        }
        if let hit { return hit }
        let key = MLKEM.PrivateKey(validSeed: prekey.seed)   // outside the lock: ~0.1 ms
        entries.withLock { e in
            e.removeAll { $0.binding == prekey.binding }
            if e.count >= capacity { e.removeFirst(e.count - capacity + 1) }
            e.append(Entry(binding: prekey.binding, seed: prekey.seed, key: key))
        }
        return key
    }

    /// Drops the expanded key of a retired last-resort prekey.
    func forget(_ prekey: KEMPreKey) {
        entries.withLock { e in e.removeAll { $0.binding == prekey.binding } }
    }

    var count: Int { entries.withLock { $0.count } }
}
