/// A group as the application sees it: the roster, never the chains.
public struct GroupInfo: Sendable, Equatable {
    /// The group's distribution id.
    public let id: DistributionID
    /// The roster's revision, raised by every roster change.
    public let revision: UInt32
    /// Roster order; lists this device while it is a member.
    public let roster: [GroupMember]
    /// Whether this device is in the roster (false after it left or was removed).
    public let isMember: Bool
    /// Members that still need our current chain (``SessionManager/sendPendingDistributions(in:)``).
    public let pendingDistribution: [ProtocolAddress]

    init(_ g: GroupSession) {
        id = g.distributionID
        revision = g.revision
        roster = g.roster
        isMember = g.isMember
        pendingDistribution = g.pendingDistribution
    }
}

/// Sender-key groups over a ``SessionManager`` (PROTOCOL.md §5, §5b): group
/// state lives in the store; roster updates and distributions travel inside
/// the pairwise sessions, and each call commits the group state and the
/// pairwise session advances together. Incoming updates and distributions
/// arrive through ``SessionManager/receive(_:from:)``, which applies them in
/// the same transaction as the session advance: chain keys never reach the
/// application or the inbound table.
extension SessionManager {
    /// A lock address for a group, so that calls for one group serialise.
    func groupLockAddress(_ id: DistributionID) -> ProtocolAddress {
        ProtocolAddress(userID: "\u{0}group:\(id)", deviceID: 0)
    }

    func loadGroupState(_ id: DistributionID) throws(MessagingError) -> GroupSession? {
        do { return try store.loadGroup(id) } catch { throw .storage(error) }
    }

    /// A group state as `pending` (a batch's uncommitted changes) leaves it.
    func loadGroupState(_ id: DistributionID, pending: StoreChanges) throws(MessagingError) -> GroupSession? {
        if let group = pending.groups[id] { return group }
        return try loadGroupState(id)
    }

    private func loadGroup(_ id: DistributionID) throws(MessagingError) -> GroupSession {
        guard let group = try loadGroupState(id) else { throw .unknownGroup(id) }
        return group
    }

    /// The roster and revision of a group.
    public func groupInfo(_ id: DistributionID) throws(MessagingError) -> GroupInfo {
        GroupInfo(try loadGroup(id))
    }

    /// Roster entries for `addresses`: each must have a session and a trusted identity.
    private func rosterEntries(_ addresses: [ProtocolAddress], admins: [ProtocolAddress]) throws(MessagingError) -> [GroupMember] {
        var out = [GroupMember]()
        for a in addresses {
            guard let key = try trustedIdentity(for: a) else { throw .noSession(a) }
            out.append(GroupMember(address: a, identityKey: key, isAdmin: admins.contains(a)))
        }
        return out
    }

    /// Creates a group with `members` (each needs a session) and this device as
    /// its admin (with `admins` as admins too). Returns, for each member, the
    /// invitation (the roster at revision 1) followed by our distribution.
    public func createGroup(id: DistributionID = .random(), members: [ProtocolAddress], admins: [ProtocolAddress] = [])
        throws(MessagingError) -> (id: DistributionID, messages: [(address: ProtocolAddress, message: [UInt8])]) {
        let targets = Array(Set(members.filter { $0 != localAddress })).sorted()
        let messages = try withAddressLocks([groupLockAddress(id)] + targets) { () throws(MessagingError) in
            guard try loadGroupState(id) == nil else { throw .group(.invalidRoster("group \(id) exists")) }
            let entries = try rosterEntries(targets, admins: admins)
            let group: GroupSession
            do throws(GroupError) {
                group = try GroupSession(distributionID: id, local: localAddress, identity: identity.publicKey,
                                         members: entries, random: random)
            } catch {
                throw .group(error)
            }
            return try sendLocked(group, update: group.snapshot, to: targets)
        }
        return (id, messages)
    }

    /// Adds members (as an admin). Every member of the new roster gets the
    /// update; the new members then get our chain, from its current iteration,
    /// so they read nothing sent before.
    public func addMembers(_ addresses: [ProtocolAddress], admins: [ProtocolAddress] = [], to id: DistributionID)
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        let added = Array(Set(addresses.filter { $0 != localAddress })).sorted()
        return try changeRoster(id, extra: added) { (group) throws(MessagingError) -> GroupUpdate in
            let entries = try rosterEntries(added, admins: admins)
            do throws(GroupError) { return try group.changeMembers(adding: entries, random: random) } catch { throw .group(error) }
        }
    }

    /// Removes members (as an admin): their chains are deleted and our chain is
    /// replaced. The update goes to every member, removed ones included (so they
    /// know); the new chain goes to the remaining members only, each of which
    /// replaces its own chain on receiving the update.
    public func removeMembers(_ addresses: [ProtocolAddress], from id: DistributionID)
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        try changeRoster(id, extra: []) { (group) throws(MessagingError) -> GroupUpdate in
            for a in addresses where group.member(a) == nil { throw .notAMember(a) }
            do throws(GroupError) { return try group.changeMembers(removing: addresses, random: random) } catch { throw .group(error) }
        }
    }

    /// Removes one member; see ``removeMembers(_:from:)``.
    public func removeMember(_ address: ProtocolAddress, from id: DistributionID)
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        try removeMembers([address], from: id)
    }

    /// Leaves a group: the remaining members get the update (and replace their
    /// chains); this device keeps only a tombstone.
    public func leaveGroup(_ id: DistributionID) throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        try changeRoster(id, extra: []) { (group) throws(MessagingError) -> GroupUpdate in
            do throws(GroupError) { return try group.leave(random: random) } catch { throw .group(error) }
        }
    }

    /// Sends our current chain to the members that still need it (after a
    /// rotation, a join, or an invitation we accepted). Members without a
    /// usable session are left pending and returned: start sessions, then call again.
    public func sendPendingDistributions(in id: DistributionID)
        throws(MessagingError) -> (messages: [(address: ProtocolAddress, message: [UInt8])], withoutSession: [ProtocolAddress]) {
        while true {
            let snapshot = try loadGroup(id).pendingDistribution
            let result = try withAddressLocks([groupLockAddress(id)] + snapshot) {
                () throws(MessagingError) -> (messages: [(address: ProtocolAddress, message: [UInt8])], withoutSession: [ProtocolAddress])? in
                var group = try loadGroup(id)
                guard group.pendingDistribution == snapshot else { return nil }
                var ready = [ProtocolAddress](), missing = [ProtocolAddress]()
                for a in snapshot {
                    do throws(MessagingError) {
                        try checkUsable(try load(a), a)
                        ready.append(a)
                    } catch {
                        guard case .storage = error else { missing.append(a); continue }
                        throw error
                    }
                }
                group.markDistributed(to: ready)
                var extra = StoreChanges()
                extra.groups[id] = group
                var plaintext = group.distribution.serialized
                defer { SecureBytes.wipe(&plaintext) }   // once sealed, the only copy (it holds our chain key)
                return (try sealLocked(ready.map { ($0, plaintext) }, with: extra), missing)
            }
            if let result { return result }
        }
    }

    /// Runs a roster change on the stored group and sends the update to every
    /// member of the old and new roster (plus `extra`), then our chain to those
    /// that need it. All locks are taken at once in one order; the roster is
    /// read first and checked again under the locks.
    private func changeRoster(_ id: DistributionID, extra: [ProtocolAddress],
                              _ change: (inout GroupSession) throws(MessagingError) -> GroupUpdate)
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        while true {
            let before = try loadGroup(id)
            let result = try withAddressLocks([groupLockAddress(id)] + before.members + extra) {
                () throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])]? in
                var group = try loadGroup(id)
                guard group.roster == before.roster, group.revision == before.revision else { return nil }
                let update = try change(&group)
                // Everyone in the old roster or the new one, except us.
                let targets = Array(Set(before.members + group.members)).sorted()
                return try sendLocked(group, update: update, to: targets)
            }
            if let result { return result }
        }
    }

    /// Commits `group` with, to each target, the update and then (to those in
    /// ``GroupSession/pendingDistribution``) our distribution, in one transaction.
    private func sendLocked(_ group: GroupSession, update: GroupUpdate, to targets: [ProtocolAddress])
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        var group = group
        let pending = group.isMember ? group.pendingDistribution : []
        // Members of the new roster need a session; a removed member without
        // one is simply not told.
        var reachable = [ProtocolAddress]()
        for a in targets {
            do {
                try checkUsable(try load(a), a)
                reachable.append(a)
            } catch {
                if group.member(a) != nil { throw error }
            }
        }
        group.markDistributed(to: pending)
        var extra = StoreChanges()
        extra.groups[group.distributionID] = group
        let u = update.serialized
        var d = group.distribution.serialized
        var outgoing = [(ProtocolAddress, [UInt8])]()
        for a in reachable {
            outgoing.append((a, u))
            if pending.contains(a) { outgoing.append((a, d)) }
        }
        let sealed = try sealLocked(outgoing, with: extra)
        outgoing = []                   // the distribution's only copy is now `d`: wipe it (it holds our chain key)
        SecureBytes.wipe(&d)
        return sealed
    }

    // MARK: Receiving updates and distributions (called by receive)

    /// Applies a GroupUpdate or SenderKeyDistribution that arrived as the
    /// plaintext of a pairwise message from `sender` presenting `identity`.
    /// The caller holds the group's lock and commits `changes`; the group is
    /// read from `pending` (a batch's uncommitted changes) before the store.
    func applyGroupControl(_ control: GroupControl, from sender: ProtocolAddress, identity: IdentityKey.PublicKey,
                           pending: StoreChanges, into changes: inout StoreChanges) throws(MessagingError) -> Received {
        switch control {
        case .update(let u):
            let change: GroupChange
            var group: GroupSession
            let existing = try loadGroupState(u.distributionID, pending: pending)
            do {
                if let existing {
                    group = existing
                    change = try group.apply(u, from: sender, identity: identity, random: random)
                } else {
                    group = try GroupSession(invitation: u, from: sender, senderIdentity: identity, local: localAddress,
                                             identity: self.identity.publicKey, random: random)
                    change = GroupChange(revision: u.revision, added: group.members, removed: [], removedLocal: false,
                                         rotated: false, joined: true)
                }
            } catch {
                throw .group(error)
            }
            changes.groups[u.distributionID] = group
            return .groupUpdate(u.distributionID, change)
        case .distribution(let d):
            guard var group = try loadGroupState(d.distributionID, pending: pending) else {
                throw .unknownGroup(d.distributionID)
            }
            do { try group.process(d, from: sender, identity: identity) } catch { throw .group(error) }
            changes.groups[d.distributionID] = group
            return .senderKey(d.distributionID, from: sender)
        }
    }

    // MARK: Messages

    /// One group message for every member; the chain advance is committed
    /// first. With a ``ContentPolicy``, the plaintext is reviewed first (the
    /// context names the group and its members).
    public func groupEncrypt(_ plaintext: [UInt8], to id: DistributionID) throws(MessagingError) -> [UInt8] {
        var plaintext = plaintext
        if contentPolicy != nil {
            plaintext = try screenOutgoing(plaintext, peers: try loadGroup(id).members, group: id)
        }
        return try withAddressLock(groupLockAddress(id)) { () throws(MessagingError) in try groupEncryptLocked(plaintext, id) }
    }

    private func groupEncryptLocked(_ plaintext: [UInt8], _ id: DistributionID) throws(MessagingError) -> [UInt8] {
        var group = try loadGroup(id)
        let out: [UInt8]
        do { out = try group.encrypt(plaintext, random: random) } catch { throw .group(error) }
        var changes = StoreChanges()
        changes.groups[id] = group
        try commit(changes)
        return out
    }

    /// Decrypts a group message and commits the chain state with the plaintext
    /// (inbound table), atomically. Returns ``Received/message(_:)``, or
    /// ``Received/held(_:reason:)`` if the ``ContentPolicy`` held it.
    @discardableResult
    public func groupDecrypt(_ message: [UInt8], in id: DistributionID,
                             from sender: ProtocolAddress) throws(MessagingError) -> Received {
        try withAddressLock(groupLockAddress(id)) { () throws(MessagingError) in try groupDecryptLocked(message, id, sender) }
    }

    private func groupDecryptLocked(_ message: [UInt8], _ id: DistributionID,
                                    _ sender: ProtocolAddress) throws(MessagingError) -> Received {
        var group = try loadGroup(id)
        let plaintext: [UInt8]
        do { plaintext = try group.decrypt(message, from: sender) } catch { throw .group(error) }
        var changes = StoreChanges()
        changes.groups[id] = group
        let received = deliver(plaintext, from: sender, group: id, into: &changes)
        try commit(changes)
        return received
    }

    /// Decrypts a backlog from one sender in one call and one commit; each
    /// message is ``Received/message(_:)`` or ``Received/held(_:reason:)`` as
    /// in ``groupDecrypt(_:in:from:)``, or its own error.
    public func groupDecryptBacklog(_ messages: [[UInt8]], in id: DistributionID,
                                    from sender: ProtocolAddress) throws(MessagingError) -> [Result<Received, GroupError>] {
        try withAddressLock(groupLockAddress(id)) { () throws(MessagingError) in
            var group = try loadGroup(id)
            let decrypted = group.decryptBacklog(messages, from: sender)
            var changes = StoreChanges()
            changes.groups[id] = group
            let results = decrypted.map { result in
                result.map { deliver($0, from: sender, group: id, into: &changes) }
            }
            try commit(changes)
            return results
        }
    }
}

/// A pairwise plaintext that carries group state (PROTOCOL.md §4: types 0x04
/// and 0x06 travel only inside pairwise sessions). Such plaintexts are
/// reserved: ``SessionManager`` never sends them as application messages.
enum GroupControl: Sendable {
    case update(GroupUpdate)
    case distribution(SenderKeyDistribution)

    /// Whether `plaintext` is reserved for group control (version 0x01, type 0x04 or 0x06).
    static func isReserved(_ plaintext: [UInt8]) -> Bool {
        plaintext.count >= 2 && plaintext[0] == WireMessage.version
            && (plaintext[1] == MessageType.senderKeyDistribution.rawValue || plaintext[1] == MessageType.groupUpdate.rawValue)
    }

    /// Parses a reserved plaintext; nil for any other.
    init?(plaintext: [UInt8]) throws(WireError) {
        guard Self.isReserved(plaintext) else { return nil }
        switch try WireMessage(serialized: plaintext) {
        case .groupUpdate(let u): self = .update(u)
        case .senderKeyDistribution(let d): self = .distribution(d)
        case .ratchet, .preKey, .senderKey: return nil   // not reserved: excluded above
        }
    }

    var distributionID: DistributionID {
        switch self {
        case .update(let u): return u.distributionID
        case .distribution(let d): return d.distributionID
        }
    }
}
