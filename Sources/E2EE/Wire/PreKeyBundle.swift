/// What a server publishes for a recipient (PROTOCOL.md §1):
/// `0x01 || flags || IK || u32 SPK_id || SPK || SPK_sig || [u32 OPK_id || OPK] || [u32 KEM_id || KEM || KEM_sig]`.
public struct PreKeyBundle: Sendable, Equatable {
    /// The bundle format version (the first byte).
    public static let version: UInt8 = 0x01
    static let flagOneTime: UInt8 = 0x01
    static let flagKEM: UInt8 = 0x02
    static let kemPublicKeyByteCount = MLKEM.publicKeyByteCount

    /// A one-time prekey offered in the bundle.
    public struct OneTime: Sendable, Equatable {
        /// `OPK_id`.
        public let id: PreKeyID
        /// `OPK`: the one-time prekey.
        public let publicKey: X25519.PublicKey
    }

    /// A signed ML-KEM-1024 prekey, for PQXDH (§2b).
    public struct KEM: Sendable, Equatable {
        /// `KEM_id`.
        public let id: KEMPreKeyID
        /// `KEM`: the ML-KEM-1024 encapsulation key.
        public let publicKey: MLKEM.PublicKey
        /// `Ed25519-Sign(IK, EncodeKEM(KEM_pub))`.
        public let signature: [UInt8]

        /// A KEM prekey entry from its fields; the signature is checked when a session is started from the bundle.
        public init(id: KEMPreKeyID, publicKey: MLKEM.PublicKey, signature: [UInt8]) {
            self.id = id
            self.publicKey = publicKey
            self.signature = signature
        }
    }

    /// `IK`: the recipient's identity key, which signs the prekeys.
    public let identityKey: IdentityKey.PublicKey
    /// `SPK_id`.
    public let signedPreKeyID: SignedPreKeyID
    /// `SPK`: the signed prekey.
    public let signedPreKey: X25519.PublicKey
    /// `SPK_sig = Ed25519-Sign(IK, Encode(SPK))`.
    public let signedPreKeySignature: [UInt8]
    /// A one-time prekey, if the server had one left.
    public let oneTimePreKey: OneTime?
    /// Present in a post-quantum bundle: session setup then runs PQXDH.
    public let kemPreKey: KEM?

    /// A bundle from its fields; signatures are checked when a session is started from it.
    public init(identityKey: IdentityKey.PublicKey, signedPreKeyID: SignedPreKeyID, signedPreKey: X25519.PublicKey,
                signedPreKeySignature: [UInt8], oneTimePreKey: OneTime? = nil, kemPreKey: KEM? = nil) {
        self.identityKey = identityKey
        self.signedPreKeyID = signedPreKeyID
        self.signedPreKey = signedPreKey
        self.signedPreKeySignature = signedPreKeySignature
        self.oneTimePreKey = oneTimePreKey
        self.kemPreKey = kemPreKey
    }

    /// The exact bytes of §1.
    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(202 + (kemPreKey == nil ? 0 : 1636))
        out.append(Self.version)
        out.append((oneTimePreKey == nil ? 0 : Self.flagOneTime) | (kemPreKey == nil ? 0 : Self.flagKEM))
        out += identityKey.bytes
        out.appendU32(signedPreKeyID.rawValue)
        out += signedPreKey.bytes
        out += signedPreKeySignature
        if let otk = oneTimePreKey {
            out.appendU32(otk.id.rawValue)
            out += otk.publicKey.bytes
        }
        if let kem = kemPreKey {
            out.appendU32(kem.id.rawValue)
            out += kem.publicKey.bytes
            out += kem.signature
        }
        return out
    }

    /// Parses a bundle. Structure and keys are checked here; signatures by
    /// ``verifySignatures()``, which session setup calls before anything else.
    public init(serialized bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == Self.version else { throw .unknownVersion(version) }
        let flags = try r.u8()
        guard flags & ~(Self.flagOneTime | Self.flagKEM) == 0 else { throw .invalidFlags(flags) }
        identityKey = try IdentityKey.PublicKey(wire: r.bytes(32), field: "IK")
        signedPreKeyID = SignedPreKeyID(rawValue: try r.u32())
        signedPreKey = try X25519.PublicKey(wire: r.bytes(32), field: "SPK")
        signedPreKeySignature = try r.bytes(64)
        if flags & Self.flagOneTime != 0 {
            let id = try r.u32()
            guard id != PreKeyID.none else { throw .invalidKey(field: "OPK_id") }
            oneTimePreKey = OneTime(id: PreKeyID(rawValue: id), publicKey: try X25519.PublicKey(wire: r.bytes(32), field: "OPK"))
        } else {
            oneTimePreKey = nil
        }
        if flags & Self.flagKEM != 0 {
            let id = KEMPreKeyID(rawValue: try r.u32())
            kemPreKey = KEM(id: id, publicKey: try MLKEM.PublicKey(wire: r.bytes(Self.kemPublicKeyByteCount), field: "KEM"),
                            signature: try r.bytes(64))
        } else {
            kemPreKey = nil
        }
        try r.expectEnd()
    }

    /// Whether this is a post-quantum bundle (flags bit 1): setup from it runs PQXDH.
    public var isPostQuantum: Bool { kemPreKey != nil }

    /// Whether the identity key signed the signed prekey (and the KEM prekey, if any).
    public func verifySignatures() -> Bool {
        guard identityKey.isValidSignature(signedPreKeySignature, for: signedPreKey.encoded) else { return false }
        if let kem = kemPreKey, !identityKey.isValidSignature(kem.signature, for: kem.publicKey.encoded) { return false }
        return true
    }
}

extension KEMPreKey {
    /// What a bundle carries: the id, the public key and
    /// `Ed25519-Sign(IK, EncodeKEM(KEM_pub))`.
    public func signed(by identity: IdentityKey.PrivateKey) -> PreKeyBundle.KEM {
        let publicKey = privateKey().publicKey
        return PreKeyBundle.KEM(id: id, publicKey: publicKey, signature: identity.signature(for: publicKey.encoded))
    }
}
