import E2EE

/// What a device receives from the mailbox, envelope v1 (docs/RELAY.md):
/// `u8 version = 1 || u8 kind || u64 server_id || u64 server_time_ms ||
/// address(sender) || u32 len || ciphertext`.
///
/// Only kind 1 (a message from a named sender) exists. A sealed sender will be
/// another kind with no sender fields, so an unknown kind is its own error,
/// ``RelayWireError/unknownKind(_:)``, and the version byte need not change.
public struct Envelope: Sendable, Equatable {
    public static let version: UInt8 = 1
    /// The largest ciphertext the relay stores or delivers (256 KiB).
    public static let maxMessageBytes = 256 * 1024
    /// Everything but the sender's user id and the ciphertext.
    static let fixedByteCount = 1 + 1 + 8 + 8 + 1 + 4 + 4

    /// The kind byte.
    public enum Kind: UInt8, Sendable {
        /// A message from a named sender: the sender's address follows the times.
        case message = 1
    }

    /// The mailbox's id for the message: what the device acks.
    public let serverID: UInt64
    /// When the relay accepted the message, in milliseconds since 1970.
    public let serverTimeMilliseconds: UInt64
    public let sender: RelayAddress
    /// Opaque to the relay: the library's wire message.
    public let ciphertext: [UInt8]

    /// The envelope's kind; only ``Kind/message`` exists in v1.
    public var kind: Kind { .message }

    /// Refuses a ciphertext above ``maxMessageBytes``, so that every envelope
    /// serialises to bytes a parser accepts.
    public init(serverID: UInt64, serverTimeMilliseconds: UInt64, sender: RelayAddress,
                ciphertext: [UInt8]) throws(RelayWireError) {
        guard ciphertext.count <= Self.maxMessageBytes else {
            throw .tooLarge(field: "len", size: ciphertext.count, max: Self.maxMessageBytes)
        }
        self.serverID = serverID
        self.serverTimeMilliseconds = serverTimeMilliseconds
        self.sender = sender
        self.ciphertext = ciphertext
    }

    /// The envelope's bytes, as a device receives them.
    public var serialized: [UInt8] {
        var out = [UInt8]()
        write(into: &out)
        return out
    }

    /// Parses untrusted bytes. The length field is checked against
    /// ``maxMessageBytes`` and against the input before anything is copied,
    /// and must cover the rest of the input exactly.
    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        try self.init(from: &r)
    }

    func write(into out: inout [UInt8]) {
        out.reserveCapacity(out.count + Self.fixedByteCount + RelayAddress.maxUserIDBytes + ciphertext.count)
        out.append(Self.version)
        out.append(kind.rawValue)
        out.appendU64(serverID)
        out.appendU64(serverTimeMilliseconds)
        sender.write(into: &out)
        out.appendU32(UInt32(ciphertext.count))   // ≤ 256 KiB by construction
        out += ciphertext
    }

    /// Reads to the end of `r`: an envelope is always the last thing in its input.
    init(from r: inout RelayReader) throws(RelayWireError) {
        let version = try r.u8()
        guard version == Self.version else { throw .unknownVersion(version) }
        let kind = try r.u8()
        guard Kind(rawValue: kind) == .message else { throw .unknownKind(kind) }
        serverID = try r.u64()
        serverTimeMilliseconds = try r.u64()
        sender = try RelayAddress(from: &r)
        let count = try r.u32()
        // Compared as UInt32, so 2^32-1 neither allocates nor overflows an Int anywhere.
        guard count <= UInt32(Self.maxMessageBytes) else {
            throw .tooLarge(field: "len", size: Int(clamping: count), max: Self.maxMessageBytes)
        }
        ciphertext = try r.bytes(Int(count))
        try r.expectEnd()
    }
}
