internal import CE2EE

/// Message type bytes (PROTOCOL.md §4).
public enum MessageType: UInt8, Sendable {
    /// `RatchetMessage`: a message in an established session.
    case ratchet = 0x01
    /// `PreKeyMessage`: a first message of a classical (X3DH) session.
    case preKey = 0x02
    /// `SenderKeyMessage`: a group message.
    case senderKey = 0x03
    /// `SenderKeyDistribution`: a member's chain, sent inside a pairwise session.
    case senderKeyDistribution = 0x04
    /// `PQPreKeyMessage`: a first message of a PQXDH session.
    case pqPreKey = 0x05
    /// `GroupUpdate`: a roster snapshot, sent inside a pairwise session.
    case groupUpdate = 0x06
}

extension ByteReader {
    /// Reads `version || type`, the start of every message: an unknown version
    /// or type byte is refused here, for every parser.
    mutating func messageType() throws(WireError) -> MessageType {
        let version = try u8()
        guard version == WireMessage.version else { throw .unknownVersion(version) }
        let type = try u8()
        guard let known = MessageType(rawValue: type) else { throw .unknownType(type) }
        return known
    }

    /// Reads and checks `version || type` for a parser of one message type,
    /// telling an unknown type from a known one it does not take.
    mutating func header(_ expected: MessageType) throws(WireError) {
        let type = try messageType()
        guard type == expected else { throw .unexpectedType(type.rawValue) }
    }
}

extension Array where Element == UInt8 {
    /// Writes `version || type`, the start of every message.
    mutating func appendHeader(_ type: MessageType) {
        append(WireMessage.version)
        append(type.rawValue)
    }
}

/// The Double Ratchet header `H = (DHs_pub, PN, N)`; `Encode(H)` is 40 bytes.
public struct MessageHeader: Sendable, Equatable {
    /// Bytes of `Encode(H)`: the ratchet key and two u32 counters.
    public static let byteCount = 40
    /// The ratchet key's 32 bytes at `keyOffset`: in a parsed header, the
    /// message itself (shared, not copied: every message has one, and the
    /// receiver usually only compares it with the key it follows).
    private let keyStorage: [UInt8]
    private let keyOffset: Int
    /// `PN`: the number of messages in the sender's previous sending chain.
    public let previousCounter: UInt32
    /// `N`: the message's index in its sending chain.
    public let counter: UInt32

    /// A header from its three fields.
    public init(ratchetKey: X25519.PublicKey, previousCounter: UInt32, counter: UInt32) {
        keyStorage = ratchetKey.bytes
        keyOffset = 0
        self.previousCounter = previousCounter
        self.counter = counter
    }

    /// `DHs_pub`, validated when the header was parsed.
    public var ratchetKey: X25519.PublicKey {
        if keyOffset == 0, keyStorage.count == X25519.keyByteCount { return X25519.PublicKey(trusted: keyStorage) }
        return X25519.PublicKey(trusted: Array(keyStorage[keyOffset..<(keyOffset + X25519.keyByteCount)]))
    }

    /// Whether `DHs_pub` is `key`, without making a key of it.
    func hasRatchetKey(_ key: X25519.PublicKey?) -> Bool {
        guard let key else { return false }
        return keyStorage.withUnsafeBytes { s in
            key.bytes.withUnsafeBytes { k in
                e2ee_memequal(s.baseAddress! + keyOffset, k.baseAddress!, X25519.keyByteCount) == 0
            }
        }
    }

    /// Whether the two headers have the same ratchet key and counters.
    public static func == (a: MessageHeader, b: MessageHeader) -> Bool {
        a.previousCounter == b.previousCounter && a.counter == b.counter && a.hasRatchetKey(b.ratchetKey)
    }

    /// `Encode(H)` into 40 bytes of caller memory.
    func write(to o: UnsafeMutableRawPointer) {
        keyStorage.withUnsafeBytes { k in o.copyMemory(from: k.baseAddress! + keyOffset, byteCount: X25519.keyByteCount) }
        o.storeBytes(of: previousCounter.bigEndian, toByteOffset: X25519.keyByteCount, as: UInt32.self)
        o.storeBytes(of: counter.bigEndian, toByteOffset: X25519.keyByteCount + 4, as: UInt32.self)
    }

    func encode(into out: inout [UInt8]) {
        out += keyStorage[keyOffset..<(keyOffset + X25519.keyByteCount)]
        out.appendU32(previousCounter)
        out.appendU32(counter)
    }

    init(from r: inout ByteReader) throws(WireError) {
        let range = try r.skip(X25519.keyByteCount)
        try r.bytes.withUnsafeBufferPointer { (all) throws(WireError) in
            try X25519.PublicKey.checkWire(all.baseAddress! + range.lowerBound, field: "DHs")
        }
        keyStorage = r.bytes
        keyOffset = range.lowerBound
        previousCounter = try r.u32()
        counter = try r.u32()
    }
}

/// The part every ratchet-carrying message ends with: `Encode(H) || AEAD_v1 output`.
/// Holds the whole wire message and reads the ciphertext in place.
public struct RatchetPayload: Sendable, Equatable {
    /// The Double Ratchet header.
    public let header: MessageHeader
    let bytes: [UInt8]
    let headerStart: Int

    var headerRange: Range<Int> { headerStart..<(headerStart + MessageHeader.byteCount) }
    var sealedRange: Range<Int> { (headerStart + MessageHeader.byteCount)..<bytes.count }

    /// `AEAD_v1 output`: guard, ciphertext and tag.
    public var sealed: ArraySlice<UInt8> { bytes[sealedRange] }

    init(from r: inout ByteReader, maxPlaintext: Int) throws(WireError) {
        headerStart = r.offset
        header = try MessageHeader(from: &r)
        let sealedCount = r.remaining
        guard sealedCount >= AEADv1.overhead else {
            throw .truncated(needed: AEADv1.overhead, available: sealedCount)
        }
        guard sealedCount - AEADv1.overhead <= maxPlaintext else {
            throw .tooLarge(size: sealedCount - AEADv1.overhead, max: maxPlaintext)
        }
        bytes = r.bytes
        _ = try r.skip(sealedCount)
    }

    init(header: MessageHeader, bytes: [UInt8], headerStart: Int) {
        self.header = header
        self.bytes = bytes
        self.headerStart = headerStart
    }

    /// Writes a message up to and including `Encode(H)`: a RatchetMessage, or
    /// a (PQ)PreKeyMessage carrying `setup`. Room is reserved for the
    /// `sealedCount` bytes of `AEAD_v1 output` that follow; the associated data
    /// takes the bytes from `Encode(H)` on (the last ``MessageHeader/byteCount``).
    static func writePrefix(header: MessageHeader, setup: PreKeyMessage.Setup?, sealedCount: Int) -> [UInt8] {
        let prefixCount = setup == nil ? 2
            : setup?.kem == nil ? PreKeyMessage.prefixByteCount : PreKeyMessage.pqPrefixByteCount
        var out = [UInt8]()
        out.reserveCapacity(prefixCount + MessageHeader.byteCount + sealedCount)
        if let setup {
            out.appendHeader(setup.kem == nil ? .preKey : .pqPreKey)
            out += setup.identityKey.bytes
            out += setup.baseKey.bytes
            out.appendU32(setup.signedPreKeyID.rawValue)
            out.appendU32(setup.oneTimePreKeyID?.rawValue ?? PreKeyID.none)
            if let kem = setup.kem {
                out.appendU32(kem.id.rawValue)
                out += kem.ciphertext
            }
        } else {
            out.appendHeader(.ratchet)
        }
        header.encode(into: &out)
        return out
    }
}

/// `0x01 || 0x01 || Encode(H) || AEAD_v1 output`.
public struct RatchetMessage: Sendable, Equatable {
    /// The header and the sealed message.
    public let payload: RatchetPayload
    /// The Double Ratchet header.
    public var header: MessageHeader { payload.header }
    /// The wire bytes.
    public var serialized: [UInt8] { payload.bytes }

    init(payload: RatchetPayload) {
        self.payload = payload
    }
}

/// A session's first messages, sent until the initiator has received a reply:
/// - `PreKeyMessage` (type 0x02, X3DH): `0x01 || 0x02 || IK_A || EK_A || u32 SPK_id || u32 OPK_id || Encode(H) || AEAD_v1 output`;
/// - `PQPreKeyMessage` (type 0x05, PQXDH): the same with `u32 KEM_id || CT (1568)` after `OPK_id`, ``kem`` set.
public struct PreKeyMessage: Sendable, Equatable {
    /// The PQXDH part: which KEM prekey was encapsulated to, and the ciphertext.
    public struct KEMPart: Sendable, Equatable {
        /// The recipient's KEM prekey that was encapsulated to.
        public let id: KEMPreKeyID
        /// The 1,568-byte ML-KEM ciphertext.
        public let ciphertext: [UInt8]
    }

    /// `IK_A`: the initiator's identity key.
    public let identityKey: IdentityKey.PublicKey
    /// `EK_A`: the initiator's base key, the session's identity on both sides.
    public let baseKey: X25519.PublicKey
    /// `SPK_id`: the recipient's signed prekey used.
    public let signedPreKeyID: SignedPreKeyID
    /// `OPK_id`: the recipient's one-time prekey used, if any.
    public let oneTimePreKeyID: PreKeyID?
    /// Present in a PQPreKeyMessage (type 0x05), absent in a classical one (0x02).
    public let kem: KEMPart?
    /// The header and the sealed first message.
    public let payload: RatchetPayload
    /// The Double Ratchet header.
    public var header: MessageHeader { payload.header }
    /// The wire bytes.
    public var serialized: [UInt8] { payload.bytes }
    /// Whether this is a PQPreKeyMessage (PQXDH) rather than a classical one.
    public var isPostQuantum: Bool { kem != nil }

    static let prefixByteCount = 2 + 32 + 32 + 4 + 4
    static let pqPrefixByteCount = prefixByteCount + 4 + MLKEM.ciphertextByteCount

    /// What the initiator repeats in every first message until it gets a reply.
    struct Setup {
        let identityKey: IdentityKey.PublicKey
        let baseKey: X25519.PublicKey
        let signedPreKeyID: SignedPreKeyID
        let oneTimePreKeyID: PreKeyID?
        let kem: KEMPart?
    }

    init(from r: inout ByteReader, postQuantum: Bool, maxPlaintext: Int) throws(WireError) {
        identityKey = try IdentityKey.PublicKey(wire: r.bytes(32), field: "IK_A")
        baseKey = try X25519.PublicKey(wire: r.bytes(32), field: "EK_A")
        signedPreKeyID = SignedPreKeyID(rawValue: try r.u32())
        let opk = try r.u32()
        oneTimePreKeyID = opk == PreKeyID.none ? nil : PreKeyID(rawValue: opk)
        if postQuantum {
            kem = KEMPart(id: KEMPreKeyID(rawValue: try r.u32()), ciphertext: try r.bytes(MLKEM.ciphertextByteCount))
        } else {
            kem = nil
        }
        payload = try RatchetPayload(from: &r, maxPlaintext: maxPlaintext)
    }
}

/// Any message of PROTOCOL.md §4, parsed: the one place that reads a type
/// byte and hands the rest to that type's parser.
public enum WireMessage: Sendable, Equatable {
    /// The protocol version byte every message starts with (suite v1).
    public static let version: UInt8 = 0x01

    /// A message in an established session (type 0x01).
    case ratchet(RatchetMessage)
    /// A PreKeyMessage (type 0x02) or a PQPreKeyMessage (type 0x05).
    case preKey(PreKeyMessage)
    /// A group message (type 0x03).
    case senderKey(SenderKeyMessage)
    /// Carries a chain key: it arrives inside a pairwise session's plaintext.
    case senderKeyDistribution(SenderKeyDistribution)
    /// Arrives inside a pairwise session's plaintext (PROTOCOL.md §5b).
    case groupUpdate(GroupUpdate)

    /// Parses untrusted bytes. `maxPlaintext` bounds the size a ciphertext may
    /// imply (default 256 KiB); nothing is allocated beyond the input itself.
    public init(serialized bytes: [UInt8], maxPlaintext: Int = Limits.defaultMaxPlaintext) throws(WireError) {
        var r = ByteReader(bytes)
        switch try r.messageType() {
        case .ratchet:
            self = .ratchet(RatchetMessage(payload: try RatchetPayload(from: &r, maxPlaintext: maxPlaintext)))
        case .preKey:
            self = .preKey(try PreKeyMessage(from: &r, postQuantum: false, maxPlaintext: maxPlaintext))
        case .pqPreKey:
            self = .preKey(try PreKeyMessage(from: &r, postQuantum: true, maxPlaintext: maxPlaintext))
        case .senderKey:
            self = .senderKey(try SenderKeyMessage(from: &r, maxPlaintext: maxPlaintext))
        case .senderKeyDistribution:
            self = .senderKeyDistribution(try SenderKeyDistribution(from: &r))
        case .groupUpdate:
            self = .groupUpdate(try GroupUpdate(from: &r))
        }
    }

    /// The type byte the message was written with.
    public var type: MessageType {
        switch self {
        case .ratchet: return .ratchet
        case .preKey(let m): return m.isPostQuantum ? .pqPreKey : .preKey
        case .senderKey: return .senderKey
        case .senderKeyDistribution: return .senderKeyDistribution
        case .groupUpdate: return .groupUpdate
        }
    }

    /// The wire bytes. A distribution's bytes hold its chain key: wipe them once sent.
    public var serialized: [UInt8] {
        switch self {
        case .ratchet(let m): return m.serialized
        case .preKey(let m): return m.serialized
        case .senderKey(let m): return m.serialized
        case .senderKeyDistribution(let d): return d.serialized
        case .groupUpdate(let u): return u.serialized
        }
    }
}
