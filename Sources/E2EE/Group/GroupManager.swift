/// Sender-key groups over a ``SessionManager``: group state lives in the
/// store, and distributions travel inside the pairwise sessions (one batched
/// fan-out). Each call commits the group state and the pairwise session
/// advances together.
extension SessionManager {
    /// A lock address for a group, so that calls for one group serialise.
    private func lockAddress(_ id: DistributionID) -> ProtocolAddress {
        ProtocolAddress(userID: "\u{0}group:\(id)", deviceID: 0)
    }

    private func loadGroup(_ id: DistributionID) throws(MessagingError) -> GroupSession {
        let group: GroupSession?
        do { group = try store.loadGroup(id) } catch { throw .storage(error) }
        guard let group else { throw .unknownGroup(id) }
        return group
    }

    /// Creates a group (or joins one under an existing id) with `members`,
    /// and returns our distribution encrypted to each of them.
    public func createGroup(id: DistributionID = .random(), members: [ProtocolAddress])
        throws(MessagingError) -> (id: DistributionID, messages: [(address: ProtocolAddress, message: [UInt8])]) {
        let targets = Array(Set(members.filter { $0 != localAddress })).sorted()
        let messages = try withAddressLocks([lockAddress(id)] + targets) { () throws(MessagingError) in
            try distributeLocked(GroupSession(distributionID: id, members: targets), to: targets)
        }
        return (id, messages)
    }

    /// Sends our chain, from its current iteration, to every member named,
    /// adding those not yet in the group. New members cannot read anything
    /// sent before. A named member already in the group gets our chain again,
    /// which changes nothing for them: that is how a device that joined through
    /// someone's distribution sends its own chain back.
    public func addMembers(_ addresses: [ProtocolAddress], to id: DistributionID)
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        let targets = Array(Set(addresses.filter { $0 != localAddress })).sorted()
        return try withAddressLocks([lockAddress(id)] + targets) { () throws(MessagingError) in
            var group = try loadGroup(id)
            group.addMembers(targets)
            return try distributeLocked(group, to: targets)
        }
    }

    /// Removes a member: their chains are deleted and our chain is replaced;
    /// the new distribution goes to every remaining member.
    public func removeMember(_ address: ProtocolAddress, from id: DistributionID)
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        // The remaining members are known only from the stored group: read them,
        // take every lock at once (one order: no deadlock, no lock taken twice),
        // then check that the membership did not change in between.
        while true {
            let snapshot = try loadGroup(id).members
            let result = try withAddressLocks([lockAddress(id)] + snapshot) {
                () throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])]? in
                var group = try loadGroup(id)
                guard group.members == snapshot else { return nil }
                guard group.members.contains(address) else { throw .notAMember(address) }
                group.removeMember(address)
                return try distributeLocked(group, to: group.members)
            }
            if let result { return result }
        }
    }

    /// Commits `group` and its distribution's fan-out in one transaction. The
    /// caller holds the group's lock and the targets' locks.
    private func distributeLocked(_ group: GroupSession, to targets: [ProtocolAddress])
        throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        var extra = StoreChanges()
        extra.groups[group.distributionID] = group
        guard !targets.isEmpty else {
            try commit(extra)
            return []
        }
        return try fanOutLocked(group.distribution.serialized, targets, with: extra)
    }

    /// Stores a member's distribution, received as the plaintext of a pairwise message.
    @discardableResult
    public func processDistribution(_ plaintext: [UInt8], from sender: ProtocolAddress) throws(MessagingError) -> DistributionID {
        let d: SenderKeyDistribution
        do { d = try SenderKeyDistribution(serialized: plaintext) } catch { throw .group(.malformed(error)) }
        return try withAddressLock(lockAddress(d.distributionID)) { () throws(MessagingError) in
            try processLocked(d, from: sender)
        }
    }

    private func processLocked(_ d: SenderKeyDistribution, from sender: ProtocolAddress) throws(MessagingError) -> DistributionID {
        let existing: GroupSession?
        do { existing = try store.loadGroup(d.distributionID) } catch { throw .storage(error) }
        var group = existing ?? GroupSession(distributionID: d.distributionID, members: [sender])
        do { try group.process(d, from: sender) } catch { throw .group(error) }
        var changes = StoreChanges()
        changes.groups[d.distributionID] = group
        try commit(changes)
        return d.distributionID
    }

    /// One group message for every member; the chain advance is committed first.
    public func groupEncrypt(_ plaintext: [UInt8], to id: DistributionID) throws(MessagingError) -> [UInt8] {
        try withAddressLock(lockAddress(id)) { () throws(MessagingError) in try groupEncryptLocked(plaintext, id) }
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
    /// (inbound table), atomically.
    @discardableResult
    public func groupDecrypt(_ message: [UInt8], in id: DistributionID,
                             from sender: ProtocolAddress) throws(MessagingError) -> [UInt8] {
        try withAddressLock(lockAddress(id)) { () throws(MessagingError) in try groupDecryptLocked(message, id, sender) }
    }

    private func groupDecryptLocked(_ message: [UInt8], _ id: DistributionID,
                                    _ sender: ProtocolAddress) throws(MessagingError) -> [UInt8] {
        var group = try loadGroup(id)
        let plaintext: [UInt8]
        do { plaintext = try group.decrypt(message, from: sender) } catch { throw .group(error) }
        var changes = StoreChanges()
        changes.groups[id] = group
        changes.inbound.append((sender, plaintext, clock()))
        try commit(changes)
        return plaintext
    }

    /// Decrypts a backlog from one sender in one call and one commit.
    public func groupDecryptBacklog(_ messages: [[UInt8]], in id: DistributionID,
                                    from sender: ProtocolAddress) throws(MessagingError) -> [Result<[UInt8], GroupError>] {
        try withAddressLock(lockAddress(id)) { () throws(MessagingError) in
            var group = try loadGroup(id)
            let results = group.decryptBacklog(messages, from: sender)
            var changes = StoreChanges()
            changes.groups[id] = group
            let now = clock()
            for case .success(let pt) in results { changes.inbound.append((sender, pt, now)) }
            try commit(changes)
            return results
        }
    }
}
