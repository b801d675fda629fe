import E2EE

/// A device as the relay names it: a `ProtocolAddress` whose user id is 1–64
/// bytes of `[A-Za-z0-9._-]` and whose device id is at least 1, encoded
/// `u8 len || user || u32 device`.
///
/// The rules hold by construction, so every value serialises to bytes that
/// ``init(serialized:)`` accepts. The user id is ASCII, so its bytes and its
/// `String` compare alike (no Unicode normalisation can make two ids equal).
public struct RelayAddress: Hashable, Sendable, CustomStringConvertible {
    /// The longest user id, in bytes (one per character: the id is ASCII).
    public static let maxUserIDBytes = 64
    /// The shortest encoding: the length byte, a one-byte user id, the device.
    public static let minByteCount = 1 + 1 + 4
    /// The longest encoding.
    public static let maxByteCount = 1 + maxUserIDBytes + 4

    public let protocolAddress: ProtocolAddress
    public var userID: String { protocolAddress.userID }
    public var deviceID: UInt32 { protocolAddress.deviceID }

    /// Checks `address` against the relay's rules.
    public init(_ address: ProtocolAddress) throws(RelayWireError) {
        try Self.checkUserID(Array(address.userID.utf8))
        try Self.checkDeviceID(address.deviceID)
        protocolAddress = address
    }

    /// Checks `userID` and `deviceID` against the relay's rules.
    public init(userID: String, deviceID: UInt32) throws(RelayWireError) {
        try self.init(ProtocolAddress(userID: userID, deviceID: deviceID))
    }

    /// Checks a user id alone (a user named in a route, `GET /v1/keys/{user}`).
    public static func checkUserID(_ userID: String) throws(RelayWireError) {
        try checkUserID(Array(userID.utf8))
    }

    public var description: String { protocolAddress.description }

    /// `u8 len || user || u32 device`.
    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.maxByteCount)
        write(into: &out)
        return out
    }

    /// Parses exactly one address: no bytes may follow.
    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        try self.init(from: &r)
        try r.expectEnd()
    }

    func write(into out: inout [UInt8]) {
        let user = Array(userID.utf8)
        out.append(UInt8(user.count))   // 1…64 by construction
        out += user
        out.appendU32(deviceID)
    }

    init(from r: inout RelayReader) throws(RelayWireError) {
        let count = Int(try r.u8())
        // Checked before the read, so a bad length is named as such, not as truncation.
        guard count >= 1, count <= Self.maxUserIDBytes else { throw .invalidUserIDLength(count) }
        let user = try r.bytes(count)
        try Self.checkUserID(user)
        let device = try r.u32()
        try Self.checkDeviceID(device)
        // ASCII, checked above: decoding cannot repair anything, so the bytes round-trip.
        protocolAddress = ProtocolAddress(userID: String(decoding: user, as: UTF8.self), deviceID: device)
    }

    private static func checkUserID(_ user: [UInt8]) throws(RelayWireError) {
        guard user.count >= 1, user.count <= maxUserIDBytes else { throw .invalidUserIDLength(user.count) }
        for byte in user where !isUserIDByte(byte) { throw .invalidUserIDByte(byte) }
    }

    private static func checkDeviceID(_ device: UInt32) throws(RelayWireError) {
        if device == 0 { throw .invalidDeviceID(device) }
    }

    private static func isUserIDByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
