/// A peer device: a user and one of their devices.
public struct ProtocolAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The user's id, as the server knows it.
    public let userID: String
    /// The device's number among the user's devices.
    public let deviceID: UInt32

    /// The address of device `deviceID` of user `userID`.
    public init(userID: String, deviceID: UInt32) {
        self.userID = userID
        self.deviceID = deviceID
    }

    /// `userID.deviceID`.
    public var description: String { "\(userID).\(deviceID)" }

    /// Orders by user id, then device id (the order locks are taken in).
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
