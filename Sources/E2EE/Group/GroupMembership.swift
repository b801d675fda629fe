/// What an accepted roster change did to this device's view of the group.
public struct GroupChange: Sendable, Equatable {
    /// The roster revision after the change.
    public let revision: UInt32
    /// Members that joined (or came back with another identity).
    public let added: [ProtocolAddress]
    /// Members that left or were removed: their chains are deleted.
    public let removed: [ProtocolAddress]
    /// This device is no longer a member: every chain it held is deleted.
    public let removedLocal: Bool
    /// Our sending chain was replaced (someone was removed): the remaining
    /// members need its distribution (``GroupSession/pendingDistribution``).
    public let rotated: Bool
    /// This device joined with this update (an invitation).
    public let joined: Bool

    init(revision: UInt32, added: [ProtocolAddress], removed: [ProtocolAddress], removedLocal: Bool, rotated: Bool,
         joined: Bool = false) {
        self.revision = revision
        self.added = added
        self.removed = removed
        self.removedLocal = removedLocal
        self.rotated = rotated
        self.joined = joined
    }
}

/// Roster changes (PROTOCOL.md §5b): made by an admin or a leaving member,
/// applied by every other member from the snapshot they receive.
extension GroupSession {
    /// Changes the roster as its admin: `adding` joins (send them ``snapshot``,
    /// which is their invitation, then ``distribution``); `removing` leaves,
    /// and our chain is replaced. Returns the update every member of the old and
    /// the new roster must receive.
    public mutating func changeMembers(adding: [GroupMember] = [], removing: [ProtocolAddress] = [],
                                       random: any RandomSource = .system) throws(GroupError) -> GroupUpdate {
        guard isMember else { throw .notInGroup }
        guard member(localAddress)?.isAdmin == true else { throw .notAnAdmin(localAddress) }
        guard !removing.contains(localAddress) else { throw .invalidRoster("an admin leaves with leave()") }
        for a in removing where member(a) == nil { throw .notAMember(a) }
        for m in adding where member(m.address) != nil { throw .invalidRoster("\(m.address) is already a member") }
        let next = roster.filter { !removing.contains($0.address) } + adding
        try adopt(Self.rosterOrder(next), revision: try nextRevision(), random: random)
        return snapshot
    }

    /// Leaves the group: returns the update (next revision, this device left
    /// out) for the remaining members, and keeps only a tombstone here.
    public mutating func leave(random: any RandomSource = .system) throws(GroupError) -> GroupUpdate {
        guard isMember else { throw .notInGroup }
        let remaining = roster.filter { $0.address != localAddress }
        guard !remaining.isEmpty else { throw .invalidRoster("the last member cannot leave") }
        try adopt(remaining, revision: try nextRevision(), random: random)
        return snapshot
    }

    /// Applies an update received from `sender` over a pairwise session that
    /// presents `identity`. Accepted from an admin of the current roster with a
    /// greater revision (an equal one wins if its bytes are smaller), or from a
    /// member leaving (the current roster without it, a greater revision); by a
    /// tombstone, only as an invitation. Anything else throws and changes nothing.
    /// A copy of the current snapshot changes nothing.
    public mutating func apply(_ u: GroupUpdate, from sender: ProtocolAddress, identity: IdentityKey.PublicKey,
                               random: any RandomSource = .system) throws(GroupError) -> GroupChange {
        guard u.distributionID == distributionID else { throw .wrongGroup(u.distributionID) }
        guard isMember else {
            try Self.checkInvitation(u, from: sender, senderIdentity: identity, local: localAddress, identity: localIdentity)
            guard u.revision > revision else { throw .staleRevision(got: u.revision, current: revision) }
            return try adopt(u.members, revision: u.revision, random: random)
        }
        guard sender != localAddress, let author = member(sender), author.identityKey == identity else {
            throw .notAMember(sender)
        }
        let leaving = u.member(sender) == nil && u.members == roster.filter { $0.address != sender }
        guard author.isAdmin || leaving else { throw .notAnAdmin(sender) }
        if u.revision == revision {
            let mine = snapshot.serialized, theirs = u.serialized
            if mine == theirs { return GroupChange(revision: revision, added: [], removed: [], removedLocal: false, rotated: false) }
            guard theirs.lexicographicallyPrecedes(mine) else { throw .staleRevision(got: u.revision, current: revision) }
        } else {
            guard u.revision > revision else { throw .staleRevision(got: u.revision, current: revision) }
        }
        if let me = u.member(localAddress), me.identityKey != localIdentity {
            throw .invalidRoster("lists this device with another identity")
        }
        return try adopt(u.members, revision: u.revision, random: random)
    }

    // MARK: Steps

    private func nextRevision() throws(GroupError) -> UInt32 {
        guard revision < UInt32.max else { throw .invalidRoster("revision exhausted") }
        return revision + 1
    }

    /// Members in roster order, refusing repeated addresses and addresses the
    /// roster cannot carry.
    static func rosterOrder(_ members: [GroupMember]) throws(GroupError) -> [GroupMember] {
        do { return try GroupUpdate(distributionID: DistributionID(unchecked: []), revision: 0, members: members).members } catch {
            throw .malformed(error)
        }
    }

    static func checkInvitation(_ u: GroupUpdate, from sender: ProtocolAddress, senderIdentity: IdentityKey.PublicKey,
                                local: ProtocolAddress, identity: IdentityKey.PublicKey) throws(GroupError) {
        guard let author = u.member(sender), author.identityKey == senderIdentity, sender != local else {
            throw .notAMember(sender)
        }
        guard author.isAdmin else { throw .notAnAdmin(sender) }
        guard u.member(local)?.identityKey == identity else { throw .notInGroup }
    }

    /// Makes `next` the roster. Dropped members' chains are deleted; if any
    /// member was dropped our chain is replaced and goes to every remaining
    /// member; joined members need our chain. If this device is no longer
    /// listed, everything it could read with is deleted.
    @discardableResult
    private mutating func adopt(_ next: [GroupMember], revision: UInt32,
                                random: any RandomSource) throws(GroupError) -> GroupChange {
        // By address and identity (not the admin flag): a member listed again
        // with another identity is a removal and a join.
        let local = localAddress
        func keys(_ r: [GroupMember]) -> [ProtocolAddress: IdentityKey.PublicKey] {
            Dictionary(uniqueKeysWithValues: r.filter { $0.address != local }.map { ($0.address, $0.identityKey) })
        }
        let before = keys(roster), after = keys(next)
        let wasMember = isMember
        let removed = before.filter { after[$0.key] != $0.value }.map(\.key).sorted()
        let added = after.filter { before[$0.key] != $0.value }.map(\.key).sorted()
        roster = next
        self.revision = revision
        for a in removed { senders[a] = nil }
        guard isMember else {
            senders = [:]
            own = Self.freshChain(random: random)   // never distributed
            pendingDistribution = []
            return GroupChange(revision: revision, added: added, removed: removed, removedLocal: true, rotated: false)
        }
        // Back in after leaving or being removed: a chain nobody holds yet, for everyone.
        let rotated = !removed.isEmpty || !wasMember
        if rotated {
            own = Self.freshChain(random: random)
            pendingDistribution = members
        } else {
            let current = Set(members)
            pendingDistribution = Array(Set(pendingDistribution + added).intersection(current)).sorted()
        }
        return GroupChange(revision: revision, added: added, removed: removed, removedLocal: false, rotated: rotated,
                           joined: !wasMember)
    }
}
