/// A group's 16-byte `distribution_id` (PROTOCOL.md §5).
public struct DistributionID: Hashable, Sendable, CustomStringConvertible {
    /// The id's length in bytes.
    public static let byteCount = 16
    /// The id's 16 bytes.
    public let rawValue: [UInt8]

    /// An id from 16 bytes; throws ``WireError/truncated(needed:available:)`` for another length.
    public init(rawValue: [UInt8]) throws(WireError) {
        guard rawValue.count == Self.byteCount else {
            throw .truncated(needed: Self.byteCount, available: rawValue.count)
        }
        self.rawValue = rawValue
    }

    /// A fresh random id for a new group.
    public static func random() -> DistributionID {
        DistributionID(unchecked: SecureBytes(randomCount: byteCount).unsafeArrayCopy)
    }

    init(unchecked raw: [UInt8]) { rawValue = raw }

    /// The id in hex.
    public var description: String { rawValue.map { String($0, radix: 16) }.joined() }
}

/// `0x01 || 0x04 || distribution_id || u32 chain_id || u32 iteration || chain_key || signing_pub`:
/// what a member sends, inside pairwise sessions, so others can read its chain
/// from `iteration` on. It carries a chain key: never send it outside a session.
public struct SenderKeyDistribution: Sendable, Equatable, CustomStringConvertible {
    /// The distribution's length on the wire.
    public static let byteCount = 2 + 16 + 4 + 4 + 32 + 32
    /// The group.
    public let distributionID: DistributionID
    /// The sender's chain, random per chain.
    public let chainID: UInt32
    /// The iteration `chainKey` is at: the first message the receiver can read.
    public let iteration: UInt32
    /// The chain key at `iteration`.
    public let chainKey: SenderChainKey
    /// The Ed25519 key that signs every message of the chain.
    public let signingKey: IdentityKey.PublicKey

    init(distributionID: DistributionID, chainID: UInt32, iteration: UInt32, chainKey: SenderChainKey,
         signingKey: IdentityKey.PublicKey) {
        self.distributionID = distributionID
        self.chainID = chainID
        self.iteration = iteration
        self.chainKey = chainKey
        self.signingKey = signingKey
    }

    /// The wire bytes. They hold the chain key: wipe them once sent
    /// (``SecureBytes/wipe(_:)``).
    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        out.appendHeader(.senderKeyDistribution)
        out += distributionID.rawValue
        out.appendU32(chainID)
        out.appendU32(iteration)
        chainKey.bytes.withUnsafeBytes { out.append(contentsOf: $0) }
        out += signingKey.bytes
        return out
    }

    /// Parses a distribution; throws ``WireError`` for malformed bytes or an invalid signing key.
    public init(serialized bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        try r.header(.senderKeyDistribution)
        try self.init(from: &r)
    }

    /// The fields after `version || type`.
    init(from r: inout ByteReader) throws(WireError) {
        distributionID = DistributionID(unchecked: try r.bytes(16))
        chainID = try r.u32()
        iteration = try r.u32()
        // Straight from the input into wiped storage (the caller wipes the input).
        let ck = try r.skip(SenderChainKey.byteCount)
        chainKey = SenderChainKey(bytes: r.bytes.withUnsafeBytes { SecureBytes(UnsafeRawBufferPointer(rebasing: $0[ck])) })
        signingKey = try IdentityKey.PublicKey(wire: r.bytes(32), field: "signing_pub")
        try r.expectEnd()
    }

    /// The group, chain and iteration: the chain key never prints.
    public var description: String {
        "SenderKeyDistribution(group: \(distributionID), chain: \(chainID), iteration: \(iteration))"
    }
}

/// `0x01 || 0x03 || distribution_id || u32 chain_id || u32 iteration || AEAD_v1(mk, pt, ad = 26 bytes) || signature`.
public struct SenderKeyMessage: Sendable, Equatable {
    static let headerByteCount = 26
    static let signatureByteCount = 64
    /// The group.
    public let distributionID: DistributionID
    /// The sender's chain.
    public let chainID: UInt32
    /// The message's iteration in its chain.
    public let iteration: UInt32
    let bytes: [UInt8]

    var sealedRange: Range<Int> { Self.headerByteCount..<(bytes.count - Self.signatureByteCount) }
    var signedRange: Range<Int> { 0..<(bytes.count - Self.signatureByteCount) }
    var signature: ArraySlice<UInt8> { bytes[(bytes.count - Self.signatureByteCount)...] }
    /// `AEAD_v1 output`: guard, ciphertext and tag, as ``RatchetPayload/sealed``.
    public var sealed: ArraySlice<UInt8> { bytes[sealedRange] }
    /// The wire bytes.
    public var serialized: [UInt8] { bytes }

    /// Parses a group message; throws ``WireError`` for malformed bytes or a plaintext longer than `maxPlaintext`.
    public init(serialized bytes: [UInt8], maxPlaintext: Int = Limits.defaultMaxPlaintext) throws(WireError) {
        var r = ByteReader(bytes)
        try r.header(.senderKey)
        try self.init(from: &r, maxPlaintext: maxPlaintext)
    }

    /// The fields after `version || type`; the message keeps the whole input.
    init(from r: inout ByteReader, maxPlaintext: Int) throws(WireError) {
        distributionID = DistributionID(unchecked: try r.bytes(16))
        chainID = try r.u32()
        iteration = try r.u32()
        let rest = r.remaining - Self.signatureByteCount
        guard rest >= AEADv1.overhead else {
            throw .truncated(needed: AEADv1.overhead + Self.signatureByteCount, available: r.remaining)
        }
        guard rest - AEADv1.overhead <= maxPlaintext else { throw .tooLarge(size: rest - AEADv1.overhead, max: maxPlaintext) }
        bytes = r.bytes
        _ = try r.skip(r.remaining)
    }

    /// Writes a message: the header (`version || type || distribution_id ||
    /// chain_id || iteration`, which is the AEAD's associated data), the
    /// `AEAD_v1` output `seal` makes with it, and the signature `sign` makes
    /// over both.
    static func write<E: Error>(distributionID: DistributionID, chainID: UInt32, iteration: UInt32, plaintextCount: Int,
                                seal: ([UInt8]) throws(E) -> [UInt8],
                                sign: ([UInt8]) -> [UInt8]) throws(E) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerByteCount + plaintextCount + AEADv1.overhead + signatureByteCount)
        out.appendHeader(.senderKey)
        out += distributionID.rawValue
        out.appendU32(chainID)
        out.appendU32(iteration)
        out += try seal(out)
        out += sign(out)
        return out
    }
}
