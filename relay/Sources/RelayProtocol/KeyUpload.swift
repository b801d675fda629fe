import E2EE

/// The body of `PUT /v1/keys`: the public half of the library's
/// `PreKeyUpload`, what a device adds to and removes from its directory entry.
///
/// ```
/// u8 flags                       bit 0: signed prekey, bit 1: last-resort KEM prekey; others 0
/// [u32 id || 32 pub || 64 sig]   signed prekey, if bit 0
/// u16 n || n × (u32 id || 32 pub)                       one-time prekeys, n ≤ 1000
/// [u32 id || 1568 pub || 64 sig] last-resort KEM prekey, if bit 1
/// u16 n || n × (u32 id || 1568 pub || 64 sig)           one-time KEM prekeys, n ≤ 200
/// u16 n || n × u32               removed signed prekey ids, n ≤ 1000
/// u16 n || n × u32               removed KEM prekey ids, n ≤ 1000
/// ```
///
/// Structure and keys are checked on parsing (and on construction, so that
/// every value serialises to bytes the parser accepts); signatures by
/// ``verifySignatures(identity:)``, which the server calls with the device's
/// identity key before storing anything.
public struct KeyUpload: Sendable, Equatable {
    /// One-time prekeys per upload: a bound on the work and the body, well
    /// above the library's default refill of 100.
    public static let maxOneTimePreKeys = 1000
    /// One-time KEM prekeys per upload (1636 bytes each, so about 320 KiB).
    public static let maxKEMPreKeys = 200
    /// Ids in each removal list per upload.
    public static let maxRemovedIDs = 1000

    static let flagSignedPreKey: UInt8 = 0x01
    static let flagLastResortKEM: UInt8 = 0x02
    /// The id the library reserves for "no one-time prekey" (`PreKeyID.none`):
    /// a bundle carrying it would be refused by `PreKeyBundle(serialized:)`.
    static let reservedPreKeyID: UInt32 = 0xFFFF_FFFF

    static let signedPreKeyByteCount = 4 + X25519.keyByteCount + IdentityKey.signatureByteCount
    static let oneTimePreKeyByteCount = 4 + X25519.keyByteCount
    static let kemPreKeyByteCount = 4 + MLKEM.publicKeyByteCount + IdentityKey.signatureByteCount

    /// The largest valid body (372,945 bytes): a server's request size limit.
    public static let maxByteCount = 1 + signedPreKeyByteCount + 2 + maxOneTimePreKeys * oneTimePreKeyByteCount
        + kemPreKeyByteCount + 2 + maxKEMPreKeys * kemPreKeyByteCount + 2 * (2 + maxRemovedIDs * 4)

    /// A signed prekey: `Ed25519-Sign(IK, Encode(SPK))`.
    public struct SignedPreKey: Sendable, Equatable {
        public let id: SignedPreKeyID
        public let publicKey: X25519.PublicKey
        public let signature: [UInt8]

        public init(id: SignedPreKeyID, publicKey: X25519.PublicKey, signature: [UInt8]) {
            self.id = id
            self.publicKey = publicKey
            self.signature = signature
        }
    }

    /// A one-time prekey (unsigned, as in the bundle).
    public struct OneTimePreKey: Sendable, Equatable {
        public let id: PreKeyID
        public let publicKey: X25519.PublicKey

        public init(id: PreKeyID, publicKey: X25519.PublicKey) {
            self.id = id
            self.publicKey = publicKey
        }
    }

    public let signedPreKey: SignedPreKey?
    public let oneTimePreKeys: [OneTimePreKey]
    /// Signed like every KEM prekey: `Ed25519-Sign(IK, EncodeKEM(KEM))`.
    public let lastResortKEMPreKey: PreKeyBundle.KEM?
    public let oneTimeKEMPreKeys: [PreKeyBundle.KEM]
    public let removedSignedPreKeyIDs: [SignedPreKeyID]
    public let removedKEMPreKeyIDs: [KEMPreKeyID]

    /// Checks what the parser checks: the bounds, 64-byte signatures, canonical
    /// X25519 keys, no reserved one-time prekey id, and distinct ids among the
    /// keys added (one-time and last-resort KEM prekeys share one id space).
    public init(signedPreKey: SignedPreKey? = nil, oneTimePreKeys: [OneTimePreKey] = [],
                lastResortKEMPreKey: PreKeyBundle.KEM? = nil, oneTimeKEMPreKeys: [PreKeyBundle.KEM] = [],
                removedSignedPreKeyIDs: [SignedPreKeyID] = [], removedKEMPreKeyIDs: [KEMPreKeyID] = []) throws(RelayWireError) {
        try Self.check(count: oneTimePreKeys.count, max: Self.maxOneTimePreKeys, field: "OPK")
        try Self.check(count: oneTimeKEMPreKeys.count, max: Self.maxKEMPreKeys, field: "KEM")
        try Self.check(count: removedSignedPreKeyIDs.count, max: Self.maxRemovedIDs, field: "removed SPK")
        try Self.check(count: removedKEMPreKeyIDs.count, max: Self.maxRemovedIDs, field: "removed KEM")
        if let spk = signedPreKey {
            try Self.checkCanonical(spk.publicKey, field: "SPK")
            try Self.checkSignature(spk.signature, field: "SPK_sig")
        }
        var opkIDs = Set<UInt32>()
        for opk in oneTimePreKeys {
            guard opk.id.rawValue != Self.reservedPreKeyID else { throw .invalidField("OPK_id") }
            try Self.checkCanonical(opk.publicKey, field: "OPK")
            guard opkIDs.insert(opk.id.rawValue).inserted else { throw .duplicateID(field: "OPK_id", id: opk.id.rawValue) }
        }
        var kemIDs = Set<UInt32>()
        for kem in [lastResortKEMPreKey].compactMap({ $0 }) + oneTimeKEMPreKeys {
            try Self.checkSignature(kem.signature, field: "KEM_sig")
            guard kemIDs.insert(kem.id.rawValue).inserted else { throw .duplicateID(field: "KEM_id", id: kem.id.rawValue) }
        }
        self.signedPreKey = signedPreKey
        self.oneTimePreKeys = oneTimePreKeys
        self.lastResortKEMPreKey = lastResortKEMPreKey
        self.oneTimeKEMPreKeys = oneTimeKEMPreKeys
        self.removedSignedPreKeyIDs = removedSignedPreKeyIDs
        self.removedKEMPreKeyIDs = removedKEMPreKeyIDs
    }

    /// What the relay must be told of the library's maintenance. Consumed ids
    /// are left out: the relay deleted those keys when it handed them out.
    public init(_ upload: PreKeyUpload) throws(RelayWireError) {
        try self.init(
            signedPreKey: upload.newSignedPreKey.map { SignedPreKey(id: $0.id, publicKey: $0.publicKey, signature: $0.signature) },
            oneTimePreKeys: upload.newOneTimePreKeys.map { OneTimePreKey(id: $0.id, publicKey: $0.publicKey) },
            lastResortKEMPreKey: upload.newLastResortKEMPreKey,
            oneTimeKEMPreKeys: upload.newKEMPreKeys,
            removedSignedPreKeyIDs: upload.removedSignedPreKeyIDs,
            removedKEMPreKeyIDs: upload.removedKEMPreKeyIDs)
    }

    /// The body's bytes, in the layout above.
    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(1 + (signedPreKey == nil ? 0 : Self.signedPreKeyByteCount)
            + 2 + oneTimePreKeys.count * Self.oneTimePreKeyByteCount
            + (lastResortKEMPreKey == nil ? 0 : Self.kemPreKeyByteCount)
            + 2 + oneTimeKEMPreKeys.count * Self.kemPreKeyByteCount
            + 4 + 4 * (removedSignedPreKeyIDs.count + removedKEMPreKeyIDs.count))
        out.append((signedPreKey == nil ? 0 : Self.flagSignedPreKey)
            | (lastResortKEMPreKey == nil ? 0 : Self.flagLastResortKEM))
        if let spk = signedPreKey {
            out.appendU32(spk.id.rawValue)
            out += spk.publicKey.rawRepresentation
            out += spk.signature
        }
        // Counts are within the bounds by construction, so they fit a u16.
        out.appendU16(UInt16(oneTimePreKeys.count))
        for opk in oneTimePreKeys {
            out.appendU32(opk.id.rawValue)
            out += opk.publicKey.rawRepresentation
        }
        if let kem = lastResortKEMPreKey { Self.write(kem, into: &out) }
        out.appendU16(UInt16(oneTimeKEMPreKeys.count))
        for kem in oneTimeKEMPreKeys { Self.write(kem, into: &out) }
        out.appendU16(UInt16(removedSignedPreKeyIDs.count))
        for id in removedSignedPreKeyIDs { out.appendU32(id.rawValue) }
        out.appendU16(UInt16(removedKEMPreKeyIDs.count))
        for id in removedKEMPreKeyIDs { out.appendU32(id.rawValue) }
        return out
    }

    /// Parses untrusted bytes. Each count is checked against its bound before
    /// any item is read, so no count makes the parser allocate or loop beyond that.
    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        let flags = try r.u8()
        guard flags & ~(Self.flagSignedPreKey | Self.flagLastResortKEM) == 0 else { throw .invalidFlags(flags) }
        var spk: SignedPreKey?
        if flags & Self.flagSignedPreKey != 0 {
            let id = SignedPreKeyID(rawValue: try r.u32())
            let key = try X25519.PublicKey(relayWire: r.bytes(X25519.keyByteCount), field: "SPK")
            spk = SignedPreKey(id: id, publicKey: key, signature: try r.bytes(IdentityKey.signatureByteCount))
        }
        var opks = [OneTimePreKey]()
        for _ in 0..<(try Self.count(&r, max: Self.maxOneTimePreKeys, field: "OPK")) {
            let id = PreKeyID(rawValue: try r.u32())
            opks.append(OneTimePreKey(id: id, publicKey: try X25519.PublicKey(relayWire: r.bytes(X25519.keyByteCount), field: "OPK")))
        }
        let lastResort = flags & Self.flagLastResortKEM != 0 ? try Self.readKEM(&r) : nil
        var kems = [PreKeyBundle.KEM]()
        for _ in 0..<(try Self.count(&r, max: Self.maxKEMPreKeys, field: "KEM")) {
            kems.append(try Self.readKEM(&r))
        }
        var removedSPK = [SignedPreKeyID]()
        for _ in 0..<(try Self.count(&r, max: Self.maxRemovedIDs, field: "removed SPK")) {
            removedSPK.append(SignedPreKeyID(rawValue: try r.u32()))
        }
        var removedKEM = [KEMPreKeyID]()
        for _ in 0..<(try Self.count(&r, max: Self.maxRemovedIDs, field: "removed KEM")) {
            removedKEM.append(KEMPreKeyID(rawValue: try r.u32()))
        }
        try r.expectEnd()
        // The remaining rules (reserved and duplicate ids) are the constructor's.
        try self.init(signedPreKey: spk, oneTimePreKeys: opks, lastResortKEMPreKey: lastResort,
                      oneTimeKEMPreKeys: kems, removedSignedPreKeyIDs: removedSPK, removedKEMPreKeyIDs: removedKEM)
    }

    /// Whether `identity` signed the signed prekey (over `Encode(SPK)`) and
    /// every KEM prekey (over `EncodeKEM(KEM)`), as a client will check in the
    /// bundle: one bad signature refuses the whole upload.
    public func verifySignatures(identity: IdentityKey.PublicKey) -> Bool {
        if let spk = signedPreKey, !identity.isValidSignature(spk.signature, for: spk.publicKey.encoded) {
            return false
        }
        if let kem = lastResortKEMPreKey, !identity.isValidSignature(kem.signature, for: kem.publicKey.encoded) {
            return false
        }
        return oneTimeKEMPreKeys.allSatisfy { identity.isValidSignature($0.signature, for: $0.publicKey.encoded) }
    }

    private static func write(_ kem: PreKeyBundle.KEM, into out: inout [UInt8]) {
        out.appendU32(kem.id.rawValue)
        out += kem.publicKey.rawRepresentation
        out += kem.signature
    }

    private static func readKEM(_ r: inout RelayReader) throws(RelayWireError) -> PreKeyBundle.KEM {
        let id = KEMPreKeyID(rawValue: try r.u32())
        let key = try MLKEM.PublicKey(relayWire: r.bytes(MLKEM.publicKeyByteCount), field: "KEM")
        return PreKeyBundle.KEM(id: id, publicKey: key, signature: try r.bytes(IdentityKey.signatureByteCount))
    }

    private static func count(_ r: inout RelayReader, max: Int, field: String) throws(RelayWireError) -> Int {
        let n = Int(try r.u16())
        try check(count: n, max: max, field: field)
        return n
    }

    private static func check(count: Int, max: Int, field: String) throws(RelayWireError) {
        if count > max { throw .tooMany(field: field, count: count, max: max) }
    }

    private static func checkCanonical(_ key: X25519.PublicKey, field: String) throws(RelayWireError) {
        if !X25519.PublicKey.isCanonical(key.rawRepresentation) { throw .invalidKey(field: field) }
    }

    private static func checkSignature(_ signature: [UInt8], field: String) throws(RelayWireError) {
        guard signature.count == IdentityKey.signatureByteCount else {
            throw .invalidField("\(field): \(signature.count) bytes, not \(IdentityKey.signatureByteCount)")
        }
    }
}
