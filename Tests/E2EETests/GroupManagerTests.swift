import Testing
@testable import E2EE

/// Devices with pairwise sessions in every direction (each first message answered).
private func connected(_ names: [String]) throws -> [Device] {
    let devices = try names.map { try Device($0) }
    for a in devices {
        for b in devices where a.address < b.address {
            try a.manager.startSession(with: b.address, bundle: b.manager.publishBundle())
            try b.manager.receive(a.send("hi", to: b), from: a.address)
            try a.manager.receive(b.send("hi", to: a), from: b.address)
        }
    }
    return devices
}

@Suite("Groups through the session manager")
struct GroupManagerTests {
    /// Delivers pairwise messages in order through `receive`; returns what each receiver saw.
    @discardableResult
    private func deliver(_ out: [(address: ProtocolAddress, message: [UInt8])], from sender: Device,
                         among devices: [Device]) throws -> [(ProtocolAddress, Received)] {
        var seen = [(ProtocolAddress, Received)]()
        for (address, message) in out {
            let d = devices.first { $0.address == address }!
            seen.append((address, try d.manager.receive(message, from: sender.address)))
        }
        return seen
    }

    /// Every member with pending distributions sends them, delivered at once.
    private func settle(_ id: DistributionID, _ devices: [Device]) throws {
        for d in devices {
            guard let info = try? d.manager.groupInfo(id), info.isMember, !info.pendingDistribution.isEmpty else { continue }
            let (messages, missing) = try d.manager.sendPendingDistributions(in: id)
            #expect(missing.isEmpty)
            try deliver(messages, from: d, among: devices)
        }
    }

    @Test func updatesAndDistributionsTravelInsidePairwiseSessions() throws {
        let devices = try connected(["alice", "bob", "carol", "dave"])
        let (alice, bob, carol, dave) = (devices[0], devices[1], devices[2], devices[3])
        let (id, created) = try alice.manager.createGroup(members: [bob.address, carol.address])
        // Each member gets its invitation, then alice's chain.
        #expect(created.map(\.address) == [bob.address, bob.address, carol.address, carol.address])
        let seen = try deliver(created, from: alice, among: devices)
        #expect(seen.map(\.1) == [
            .groupUpdate(id, GroupChange(revision: 1, added: [alice.address, carol.address], removed: [], removedLocal: false,
                                         rotated: false, joined: true)),
            .senderKey(id, from: alice.address),
            .groupUpdate(id, GroupChange(revision: 1, added: [alice.address, bob.address], removed: [], removedLocal: false,
                                         rotated: false, joined: true)),
            .senderKey(id, from: alice.address),
        ])
        #expect(try bob.manager.groupInfo(id).pendingDistribution == [alice.address, carol.address])
        try settle(id, devices)
        let info = try carol.manager.groupInfo(id)
        #expect(info.revision == 1 && info.isMember && info.pendingDistribution.isEmpty)
        #expect(info.roster.filter(\.isAdmin).map(\.address) == [alice.address])
        #expect(info.roster.map(\.identityKey) == [alice, bob, carol].map { $0.manager.identity.publicKey })

        let m1 = try bob.manager.groupEncrypt(Array("hello".utf8), to: id)
        for d in [alice, carol] { #expect(try d.manager.groupDecrypt(m1, in: id, from: bob.address).plaintext == Array("hello".utf8)) }
        #expect(throws: MessagingError.group(.duplicate(iteration: 0))) {
            try carol.manager.groupDecrypt(m1, in: id, from: bob.address)
        }
        // Only an admin changes the roster.
        #expect(throws: MessagingError.group(.notAnAdmin(bob.address))) { try bob.manager.addMembers([dave.address], to: id) }
        // dave joins late: he reads nothing from before.
        try deliver(alice.manager.addMembers([dave.address], to: id), from: alice, among: devices)
        try settle(id, devices)
        #expect(throws: MessagingError.self) { try dave.manager.groupDecrypt(m1, in: id, from: bob.address) }
        let welcome = try bob.manager.groupEncrypt(Array("welcome".utf8), to: id)
        #expect(try dave.manager.groupDecrypt(welcome, in: id, from: bob.address).plaintext == Array("welcome".utf8))

        // Chain keys never reached any inbox: only the pairwise "hi"s and the group plaintexts did.
        for d in devices {
            for m in try d.store.inboundMessages(after: 0, limit: 1000) {
                #expect(!GroupControl.isReserved(m.plaintext), "\(d.address) kept a group control message")
            }
        }
    }

    /// One admin removes carol. Everyone else replaces its chain on the update;
    /// carol, holding all of her state from before the removal, reads nothing
    /// sent afterwards by anyone, even after sending her chain again.
    @Test func removalReachesEveryMember() throws {
        let devices = try connected(["alice", "bob", "carol", "dave"])
        let (alice, bob, carol, dave) = (devices[0], devices[1], devices[2], devices[3])
        let (id, created) = try alice.manager.createGroup(members: [bob.address, carol.address, dave.address])
        try deliver(created, from: alice, among: devices)
        try settle(id, devices)
        let ghost = try #require(try carol.store.loadGroup(id))          // carol's full state, kept aside
        let removal = try alice.manager.removeMember(carol.address, from: id)
        // The update goes to all three (carol too); the new chain to bob and dave only.
        #expect(removal.map(\.address) == [bob.address, bob.address, carol.address, dave.address, dave.address])
        let seen = try deliver(removal, from: alice, among: devices)
        #expect(seen.contains { $0.0 == carol.address && $0.1 == .groupUpdate(id, GroupChange(
            revision: 2, added: [], removed: [], removedLocal: true, rotated: false)) })
        for d in [bob, dave] {
            #expect(try d.manager.groupInfo(id).pendingDistribution == [alice, bob, dave].map(\.address).filter { $0 != d.address })
        }
        try settle(id, devices)
        #expect(try !carol.manager.groupInfo(id).isMember)
        for sender in [alice, bob, dave] {
            let m = try sender.manager.groupEncrypt(Array("without carol".utf8), to: id)
            var copy = ghost
            #expect(throws: GroupError.self) { try copy.decrypt(m, from: sender.address) }
            #expect(throws: MessagingError.self) { try carol.manager.groupDecrypt(m, in: id, from: sender.address) }
            for r in [alice, bob, dave] where r.address != sender.address {
                #expect(try r.manager.groupDecrypt(m, in: id, from: sender.address).plaintext == Array("without carol".utf8))
            }
        }
        // carol sends her old chain again, inside a genuine pairwise message: refused, nothing changes.
        for r in [alice, bob, dave] {
            var set = try #require(try carol.store.loadSessions(for: r.address))
            let resent = try set.encrypt(ghost.distribution.serialized)
            var changes = StoreChanges()
            changes.sessions[r.address] = set
            try carol.store.commit(changes)
            let before = try #require(try r.store.loadGroup(id)).serialized()
            #expect(throws: MessagingError.group(.notAMember(carol.address))) { try r.manager.receive(resent, from: carol.address) }
            #expect(try #require(try r.store.loadGroup(id)).serialized() == before)
        }
        #expect(throws: MessagingError.group(.notInGroup)) { try carol.manager.groupEncrypt([1], to: id) }
    }

    /// A processed distribution or update commits once: a second delivery of
    /// the same pairwise message is a duplicate, and application plaintexts
    /// that look like group control are refused before they are sent.
    @Test func groupControlCommitsOnceAndIsReserved() throws {
        let devices = try connected(["alice", "bob"])
        let (alice, bob) = (devices[0], devices[1])
        let (id, created) = try alice.manager.createGroup(members: [bob.address])
        for (_, message) in created {
            _ = try bob.manager.receive(message, from: alice.address)
            #expect(throws: MessagingError.self) { try bob.manager.receive(message, from: alice.address) }
        }
        #expect(try bob.manager.groupInfo(id).revision == 1)
        for reserved in [[0x01, 0x04], [0x01, 0x06, 0xFF]] as [[UInt8]] {
            #expect(throws: MessagingError.reservedPlaintext) { try alice.manager.encrypt(reserved, to: bob.address) }
            #expect(throws: MessagingError.reservedPlaintext) { try alice.manager.encrypt(reserved, to: [bob.address]) }
        }
        #expect(try bob.manager.receive(alice.send("\u{1}\u{5}", to: bob), from: alice.address) == [1, 5])
        // A malformed control plaintext (from a peer using raw sessions) is refused and commits nothing.
        var set = try #require(try alice.store.loadSessions(for: bob.address))
        let bad = try set.encrypt([0x01, 0x06, 0x00])
        var changes = StoreChanges()
        changes.sessions[bob.address] = set
        try alice.store.commit(changes)
        let before = try bob.store.loadSessions(for: alice.address)?.serialized()
        #expect(throws: MessagingError.group(.malformed(.truncated(needed: 16, available: 1)))) {
            try bob.manager.receive(bad, from: alice.address)
        }
        #expect(try bob.store.loadSessions(for: alice.address)?.serialized() == before)
    }

    /// Leaving through the manager: the others replace their chains.
    @Test func leavingThroughTheManager() throws {
        let devices = try connected(["alice", "bob", "carol"])
        let (alice, bob, carol) = (devices[0], devices[1], devices[2])
        let (id, created) = try alice.manager.createGroup(members: [bob.address, carol.address])
        try deliver(created, from: alice, among: devices)
        try settle(id, devices)
        let left = try bob.manager.leaveGroup(id)
        #expect(Set(left.map(\.address)) == [alice.address, carol.address])
        try deliver(left, from: bob, among: devices)
        try settle(id, devices)
        #expect(try alice.manager.groupInfo(id).roster.map(\.address) == [alice.address, carol.address])
        let m = try carol.manager.groupEncrypt([3], to: id)
        #expect(try alice.manager.groupDecrypt(m, in: id, from: carol.address).plaintext == [3])
        #expect(throws: MessagingError.self) { try bob.manager.groupDecrypt(m, in: id, from: carol.address) }
    }

    /// 100 members: some member's address lock shares a stripe with the
    /// group's, which once made add/remove lock one mutex twice.
    @Test func largeGroupsAddAndRemoveWithoutSelfDeadlock() throws {
        let me = try Device("me")
        var peer = Account()
        peer.generateOneTimePreKeys(count: 1)
        let bundle = peer.publishBundle()
        let members = (0..<100).map { ProtocolAddress(userID: "member\($0)", deviceID: 1) }
        for m in members { try me.manager.startSession(with: m, bundle: bundle) }
        let (id, out) = try me.manager.createGroup(members: members)
        #expect(out.count == 200)                                   // invitation + chain each
        for m in members.prefix(10) {
            #expect(try me.manager.removeMember(m, from: id).count == 100 + 99)   // update to all, new chain to the rest
            #expect(try me.manager.addMembers([m], to: id).count == 100 + 1)      // update to all, chain to the new one
        }
    }
}
