import E2EE

// The GroupUpdate harness (PROTOCOL.md §5b): the roster snapshot parser, then
// the membership rules of a receiver, applied to Bob's fixed group.

extension GroupChecks {
    /// Parses the input as a GroupUpdate: a typed error that matches the input,
    /// or exact re-serialisation with every field at its offset and members
    /// sorted and unique. Then applies it to Bob's fixed group (``GroupFixture``)
    /// as from Alice (admin), Carol (member, not admin), Dave (not a member) and
    /// Alice presenting Carol's identity, and checks the outcome against §5b.
    static func groupUpdate(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let u: GroupUpdate
        do { u = try GroupUpdate(serialized: data) } catch {
            try checkUpdateError(error, data, c)
            return
        }
        try c.require(u.serialized == data, "a parsed GroupUpdate re-serialises to other bytes")
        try c.require(data[0] == 0x01 && data[1] == MessageType.groupUpdate.rawValue, "type \(data[1]) parsed as a GroupUpdate")
        try c.require(u.distributionID.rawValue == Array(data[2..<18]), "distribution_id is not the bytes at 2..<18")
        try c.require(u.revision == ParserChecks.u32(data, 18), "revision is not the u32 at 18..<22")
        try c.require(Int(data[22]) << 8 | Int(data[23]) == u.members.count && !u.members.isEmpty,
                      "member count is not the u16 at 22..<24, or zero")
        var at = 24
        for m in u.members {
            let address = Array(m.address.description.utf8)
            try c.require(data[at] == (m.isAdmin ? 1 : 0) && Int(data[at + 1]) == address.count
                          && Array(data[(at + 2)..<(at + 2 + address.count)]) == address,
                          "member \(m.address) is not the flags, length and address bytes at \(at)")
            at += 2 + address.count
            try c.require(m.identityKey.rawRepresentation == Array(data[at..<(at + 32)]), "IK_pub of \(m.address) is not the bytes at \(at)")
            at += 32
        }
        try c.require(at == data.count, "members end at \(at), the input at \(data.count)")
        let keys = u.members.map { Array($0.address.description.utf8) }
        try c.require(zip(keys, keys.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }, "members not sorted or repeated")
        // The checked initialiser puts the same members in the same order.
        let rebuilt = try? GroupUpdate(distributionID: u.distributionID, revision: u.revision, members: u.members.reversed())
        try c.require(rebuilt == u, "GroupUpdate(members:) does not rebuild a parsed update")

        let fixture = GroupFixture.built
        let alice = GroupFixture.identity(GroupFixture.alice), carol = GroupFixture.identity(GroupFixture.carol)
        for (sender, identity) in [(GroupFixture.alice, alice), (GroupFixture.carol, carol),
                                   (GroupFixture.dave, GroupFixture.identity(GroupFixture.dave)), (GroupFixture.alice, carol)] {
            try apply(u, data, from: sender, identity: identity, fixture, c)
        }
    }

    /// A refusal of the parser must name what is wrong with the input.
    static func checkUpdateError(_ error: WireError, _ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        switch error {
        case .invalidFlags(let f):
            // A member's flags byte: only bit 0 (admin) is defined.
            try c.require(data.count > 24 && f & ~0x01 != 0 && data[24...].contains(f), "invalidFlags(\(f)) not in the members")
        case .invalidField(let name):
            let count = data.count >= 24 ? Int(data[22]) << 8 | Int(data[23]) : -1
            switch name {
            case "member count": try c.require(count == 0, "invalidField(member count) for a count of \(count)")
            case "address", "members not sorted or repeated": try c.require(count > 0, "invalidField(\(name)) for a count of \(count)")
            default: throw c.fail("invalidField(\(name)) names no GroupUpdate field")
            }
        case .unexpectedType(let t):
            try c.require(t != MessageType.groupUpdate.rawValue, "a GroupUpdate refused as unexpectedType(\(t))")
            try ParserChecks.checkWireError(error, data, c)
        default:
            try ParserChecks.checkWireError(error, data, c)
        }
    }

    /// `u` applied by Bob as received from `sender` over a session presenting
    /// `identity`. The expected outcome follows §5b: from an admin of Bob's
    /// roster (or a member leaving: the roster without it) with its roster
    /// identity, at a greater revision or an equal one whose bytes are smaller;
    /// never listing Bob with another identity. Refused ⇒ record unchanged to
    /// the byte. Accepted ⇒ Bob holds exactly the new roster and revision,
    /// dropped members' chains are gone, kept members' chains still read, our
    /// chain is new iff a member was dropped, and without Bob in it a tombstone.
    static func apply(_ u: GroupUpdate, _ data: [UInt8], from sender: ProtocolAddress, identity: IdentityKey.PublicKey,
                      _ fixture: GroupFixture, _ c: Checker) throws(InvariantViolation) {
        let old = fixture.bob
        let me = GroupFixture.bob
        let mine = old.snapshot.serialized
        let author = old.member(sender).flatMap { $0.identityKey == identity ? $0 : nil }
        let leaving = author != nil && u.member(sender) == nil && u.members == old.roster.filter { $0.address != sender }
        let expected: GroupError? =
            u.distributionID != old.distributionID ? .wrongGroup(u.distributionID)
            : author == nil ? .notAMember(sender)
            : !(author!.isAdmin || leaving) ? .notAnAdmin(sender)
            : u.revision < old.revision || (u.revision == old.revision && mine.lexicographicallyPrecedes(data))
                ? .staleRevision(got: u.revision, current: old.revision)
            : u.member(me).map { $0.identityKey != old.localIdentity } == true ? .invalidRoster("")
            : nil
        var g = old
        let result = Result { () throws(GroupError) in try g.apply(u, from: sender, identity: identity, random: DeterministicRandom(seed: "update")) }
        let after = g.serialized()
        let change: GroupChange
        switch (result, expected) {
        case (.failure(let e), let x?):
            if case .invalidRoster = x, case .invalidRoster = e {} else {
                try c.require(e == x, "an update from \(sender) was refused with \(e), not \(x)")
            }
            try c.require(after == fixture.bobRecord, "a refused update (\(e)) changed the group")
            return
        case (.failure(let e), nil):
            throw c.fail("an update from \(sender) (\(author?.isAdmin == true ? "admin" : "leaving")) was refused: \(e)")
        case (.success, let x?):
            throw c.fail("an update from \(sender) was accepted; it must be refused with \(x)")
        case (.success(let ch), nil):
            change = ch
        }
        try c.require(author != nil && (author!.isAdmin || leaving), "an update from a non-admin that is not leaving was accepted")
        try c.require(g.revision == u.revision && g.roster == u.members, "Bob does not hold the accepted roster and revision")
        if data == mine {
            try c.require(after == fixture.bobRecord && change.added.isEmpty && change.removed.isEmpty && !change.rotated,
                          "a copy of the current roster changed the group")
            return
        }
        try ParserChecks.recordRoundTrip(after, GroupSession.init(serialized:), { $0.serialized() }, c)
        // Members other than Bob, by address and identity: a new identity is a removal and a join.
        func key(_ m: GroupMember) -> [UInt8] { Array(m.address.description.utf8) + [0] + m.identityKey.rawRepresentation }
        let before = Set(old.roster.filter { $0.address != me }.map(key))
        let now = Set(u.members.filter { $0.address != me }.map(key))
        let dropped = old.roster.filter { $0.address != me && !now.contains(key($0)) }.map(\.address).sorted()
        let joined = u.members.filter { $0.address != me && !before.contains(key($0)) }.map(\.address).sorted()
        try c.require(change.removed == dropped && change.added == joined,
                      "the change reports added \(change.added), removed \(change.removed); the rosters say \(joined), \(dropped)")
        try c.require(change.revision == u.revision, "the change reports revision \(change.revision)")
        let listed = u.member(me) != nil
        try c.require(g.isMember == listed && change.removedLocal == !listed, "Bob's membership does not follow the roster")
        var probe = g
        if !listed {
            // A tombstone: nothing to send or read with, and the old invitation does not bring it back.
            try c.require(g.pendingDistribution.isEmpty && !change.rotated, "a tombstone has distributions to send")
            let sent = Result { () throws(GroupError) in try probe.encrypt([1], random: DeterministicRandom(seed: "tombstone")) }
            try c.require(sent == .failure(.notInGroup) && probe.serialized() == after, "a tombstone encrypted (\(sent))")
            let again = Result { () throws(GroupError) in
                try probe.apply(fixture.invitation, from: GroupFixture.alice, identity: GroupFixture.identity(GroupFixture.alice))
            }
            try c.require(again.isFailure && probe.serialized() == after, "a tombstone took the old invitation back: \(again)")
        } else {
            let rotated = old.distribution.chainID != g.distribution.chainID || old.distribution.signingKey != g.distribution.signingKey
            try c.require(change.rotated == !dropped.isEmpty && rotated == !dropped.isEmpty,
                          "our chain was \(rotated ? "" : "not ")replaced when \(dropped.count) members were dropped")
            let pending = dropped.isEmpty ? joined.filter(g.members.contains) : g.members
            try c.require(g.pendingDistribution == pending, "pending distributions \(g.pendingDistribution), expected \(pending)")
        }
        // Every member's chain Bob kept still reads; a dropped member's (or, as a tombstone, any) is gone.
        for s in [GroupFixture.alice, GroupFixture.carol] {
            let m = fixture.readable(from: s)
            let kept = listed && !dropped.contains(s)
            let read = Result { () throws(GroupError) in try probe.decrypt(m.wire, from: s) }
            if kept {
                try c.require(read == .success(m.plaintext), "\(s)'s chain did not survive an update that kept \(s): \(read)")
            } else {
                guard case .failure(.noSenderKey) = read else {
                    throw c.fail("\(s)'s chain is still held after \(listed ? "\(s) was dropped" : "Bob was dropped"): \(read)")
                }
            }
        }
    }
}
