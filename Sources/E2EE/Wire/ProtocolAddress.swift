/// A peer device: a user and one of their devices.
public struct ProtocolAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let userID: String
    public let deviceID: UInt32

    public init(userID: String, deviceID: UInt32) {
        self.userID = userID
        self.deviceID = deviceID
    }

    public var description: String { "\(userID).\(deviceID)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.userID, a.deviceID) < (b.userID, b.deviceID)
    }

    /// The record id that binds this address's sealed records to it
    /// (`userID || 0x00 || u32 deviceID`), so a record moved to another row fails to open.
    public var recordID: [UInt8] {
        var out = Array(userID.utf8)
        out.append(0)
        out.appendU32(deviceID)
        return out
    }
}
