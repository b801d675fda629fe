/// One entry of a group roster (PROTOCOL.md §5b): a member device, the
/// identity key its pairwise session must present, and whether it may change
/// the roster.
public struct GroupMember: Sendable, Hashable, CustomStringConvertible {
    /// The member device.
    public let address: ProtocolAddress
    /// The identity key the member's pairwise session must present.
    public let identityKey: IdentityKey.PublicKey
    /// Whether the member may change the roster.
    public let isAdmin: Bool

    /// A roster entry.
    public init(address: ProtocolAddress, identityKey: IdentityKey.PublicKey, isAdmin: Bool = false) {
        self.address = address
        self.identityKey = identityKey
        self.isAdmin = isAdmin
    }

    /// The roster's text form of the address, `userID.deviceID` (UTF-8), which
    /// orders the roster by its bytes.
    var rosterAddress: [UInt8] { Array(address.description.utf8) }

    /// The address, marked `(admin)` for an admin.
    public var description: String { "\(address)\(isAdmin ? " (admin)" : "")" }
}

extension ProtocolAddress {
    /// Parses the roster form `userID.deviceID`: the device id is the decimal
    /// after the last dot, without leading zeros, at most `UInt32.max`; the
    /// user id is not empty. Every address has exactly one roster form.
    init?(rosterBytes bytes: [UInt8]) {
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot > 0, dot < bytes.count - 1,
              let user = String(validating: bytes[..<dot], as: UTF8.self) else { return nil }
        let digits = bytes[(dot + 1)...]
        guard digits.count <= 10, digits.first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        var device: UInt64 = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            device = device * 10 + UInt64(d - UInt8(ascii: "0"))
        }
        guard device <= UInt64(UInt32.max) else { return nil }
        self.init(userID: user, deviceID: UInt32(device))
    }
}

/// `0x01 || 0x06 || distribution_id || u32 revision || u16 n || n × Member`,
/// `Member = u8 flags || u8 len || address || IK_pub`: a full snapshot of a
/// group's roster, sent inside pairwise sessions so that its sender is
/// authenticated (PROTOCOL.md §5b). Members are sorted by address bytes,
/// unique, at least one.
public struct GroupUpdate: Sendable, Equatable, CustomStringConvertible {
    /// The most members a roster can list (its count is a u16).
    public static let maxMembers = Int(UInt16.max)
    static let adminFlag: UInt8 = 0x01
    /// The group.
    public let distributionID: DistributionID
    /// The roster's revision: only a newer one replaces a member's view.
    public let revision: UInt32
    /// The roster, in roster order.
    public let members: [GroupMember]

    /// A snapshot; members are put in roster order. Throws for an empty roster,
    /// a repeated address or an address too long for its length byte.
    public init(distributionID: DistributionID, revision: UInt32, members: [GroupMember]) throws(WireError) {
        let sorted = members.sorted { $0.rosterAddress.lexicographicallyPrecedes($1.rosterAddress) }
        guard !sorted.isEmpty, sorted.count <= Self.maxMembers else { throw .invalidField("member count") }
        for (i, m) in sorted.enumerated() {
            guard m.rosterAddress.count <= Int(UInt8.max), ProtocolAddress(rosterBytes: m.rosterAddress) == m.address else {
                throw .invalidField("address")
            }
            guard i == 0 || sorted[i - 1].rosterAddress != m.rosterAddress else { throw .invalidField("repeated address") }
        }
        self.init(unchecked: distributionID, revision, sorted)
    }

    init(unchecked id: DistributionID, _ revision: UInt32, _ members: [GroupMember]) {
        distributionID = id
        self.revision = revision
        self.members = members
    }

    /// The entry for `address`, or nil if it is not in this roster.
    public func member(_ address: ProtocolAddress) -> GroupMember? {
        members.first { $0.address == address }
    }

    /// The wire bytes.
    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(24 + members.count * 48)
        out.appendHeader(.groupUpdate)
        out += distributionID.rawValue
        out.appendU32(revision)
        out.appendU16(UInt16(members.count))
        for m in members {
            let address = m.rosterAddress
            out.append(m.isAdmin ? Self.adminFlag : 0)
            out.append(UInt8(address.count))
            out += address
            out += m.identityKey.bytes
        }
        return out
    }

    /// Parses a GroupUpdate; throws ``WireError`` for anything but a well-formed, sorted roster.
    public init(serialized bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        try r.header(.groupUpdate)
        try self.init(from: &r)
    }

    /// The fields after `version || type`.
    init(from r: inout ByteReader) throws(WireError) {
        distributionID = DistributionID(unchecked: try r.bytes(DistributionID.byteCount))
        revision = try r.u32()
        let n = Int(try r.u16())
        guard n >= 1 else { throw .invalidField("member count") }
        // Each member takes at least 34 bytes: nothing is reserved beyond what the input holds.
        var members = [GroupMember]()
        members.reserveCapacity(Swift.min(n, r.remaining / 34))
        var previous: [UInt8]?
        for _ in 0..<n {
            let flags = try r.u8()
            guard flags & ~Self.adminFlag == 0 else { throw .invalidFlags(flags) }
            let raw = try r.bytes(Int(try r.u8()))
            guard previous.map({ $0.lexicographicallyPrecedes(raw) }) ?? true else {
                throw .invalidField("members not sorted or repeated")
            }
            guard let address = ProtocolAddress(rosterBytes: raw) else { throw .invalidField("address") }
            previous = raw
            let key = try IdentityKey.PublicKey(wire: r.bytes(32), field: "IK_pub")
            members.append(GroupMember(address: address, identityKey: key, isAdmin: flags & Self.adminFlag != 0))
        }
        try r.expectEnd()
        self.members = members
    }

    /// The group, revision and members.
    public var description: String {
        "GroupUpdate(group: \(distributionID), revision: \(revision), members: \(members))"
    }
}
