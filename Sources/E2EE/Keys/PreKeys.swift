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
