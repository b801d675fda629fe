import Testing
import ToolSupport
@testable import E2EE

/// Delivers `update` from `from` to each party in `to`, as its pairwise
/// session would (authenticated sender and identity): applied to the party's
/// state, or taken as an invitation by a party without one.
@discardableResult
private func deliver(_ update: GroupUpdate, from: Int, to parties: some Sequence<Int>,
                     states: inout [Int: GroupSession]) throws -> [Int: GroupChange] {
    var changes = [Int: GroupChange]()
    for p in parties where p != from {
        if var s = states[p] {
            changes[p] = try s.apply(update, from: member(from), identity: identity(from))
            states[p] = s
        } else {
            states[p] = try GroupSession(invitation: update, from: member(from), senderIdentity: identity(from),
                                         local: member(p), identity: identity(p))
        }
    }
    return changes
}

/// Every member sends its chain to the members that need it.
private func flushDistributions(_ states: inout [Int: GroupSession], parties: Range<Int>) throws {
    for i in parties {
        guard let s = states[i], s.isMember, !s.pendingDistribution.isEmpty else { continue }
        for target in s.pendingDistribution {
            let t = Int(target.userID.dropFirst())!
            try states[t]!.process(s.distribution, from: member(i), identity: identity(i))
        }
        states[i]!.markDistributed(to: s.pendingDistribution)
    }
}

@Suite("Group membership (§5b)")
struct GroupMembershipTests {
    @Test func updatesRoundTripAndMalformedOnesAreRefused() throws {
        let id = DistributionID.random()
        let u = try GroupUpdate(distributionID: id, revision: 7, members: [entry(2), entry(10, admin: true), entry(1)])
        // Roster order is by the bytes of "userID.deviceID": m1.1 < m10.1 < m2.1.
        #expect(u.members.map(\.address) == [member(1), member(10), member(2)])
        let bytes = u.serialized
        #expect(Array(bytes[0..<2]) == [0x01, 0x06] && Array(bytes[2..<18]) == id.rawValue)
        #expect(Array(bytes[18..<22]) == [0, 0, 0, 7] && Array(bytes[22..<24]) == [0, 3])
        #expect(Array(bytes[24..<30]) == [0x00, 4] + Array("m1.1".utf8))
        #expect(bytes.count == 24 + 3 * (2 + 32) + 4 + 5 + 4)
        #expect(try GroupUpdate(serialized: bytes) == u)
        // Second member's flags byte: 2 + 16 + 4 + 2 + (2 + 4 + 32).
        let second = 24 + 38
        #expect(bytes[second] == 0x01)
        func refused(_ edit: (inout [UInt8]) -> Void) -> WireError? {
            var b = bytes
            edit(&b)
            do { _ = try GroupUpdate(serialized: b); return nil } catch { return error }
        }
        #expect(refused { $0[second] = 0x03 } == .invalidFlags(0x03))
        #expect(refused { $0[23] = 0 } == .invalidField("member count"))
        #expect(refused { $0.append(0) } == .trailingBytes(count: 1))
        #expect(refused { $0.removeLast() } == .truncated(needed: 32, available: 31))
        #expect(refused { $0[0] = 2 } == .unknownVersion(2))
        #expect(refused { $0[1] = 0x04 } == .unexpectedType(0x04))
        #expect(refused { $0[1] = 0x09 } == .unknownType(0x09))
        #expect(refused { $0[27] = UInt8(ascii: "3") } == .invalidField("members not sorted or repeated"))  // m3.1 > m10.1
        #expect(refused { $0[28] = UInt8(ascii: "x") } == .invalidField("address"))                        // no dot
        // An all-zero identity key is not a key.
        #expect(refused { for i in 30..<62 { $0[i] = 0 } } == .invalidKey(field: "IK_pub"))
        // The writer refuses what the parser would.
        #expect(throws: WireError.invalidField("repeated address")) {
            try GroupUpdate(distributionID: id, revision: 1, members: [entry(1), entry(1, admin: true)])
        }
        #expect(throws: WireError.invalidField("member count")) { try GroupUpdate(distributionID: id, revision: 1, members: []) }
    }

    @Test func rosterAddressesHaveOneForm() {
        #expect(ProtocolAddress(rosterBytes: Array("a.b.12".utf8)) == ProtocolAddress(userID: "a.b", deviceID: 12))
        #expect(ProtocolAddress(rosterBytes: Array("a.4294967295".utf8)) == ProtocolAddress(userID: "a", deviceID: .max))
        for bad in ["a.4294967296", "a.01", ".1", "a.", "a", "a.1x", "a.-1", "a.12345678901"] {
            #expect(ProtocolAddress(rosterBytes: Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    /// Only an admin of the current roster changes it; a member may only leave;
    /// a non-member, a wrong identity or an old revision changes nothing.
    @Test func onlyAdminsChangeTheRoster() throws {
        var g = try makeGroup(4)
        let before = g[2].serialized()
        func refused(_ u: GroupUpdate, from: Int, identity key: IdentityKey.PublicKey? = nil) -> GroupError? {
            do { _ = try g[2].apply(u, from: member(from), identity: key ?? identity(from)); return nil } catch { return error }
        }
        let withoutThree = try GroupUpdate(distributionID: g[0].distributionID, revision: 2,
                                           members: g[0].roster.filter { $0.address != member(3) })
        #expect(refused(withoutThree, from: 1) == .notAnAdmin(member(1)))            // a member is not an admin
        #expect(refused(withoutThree, from: 9) == .notAMember(member(9)))            // not in the roster at all
        #expect(refused(withoutThree, from: 0, identity: identity(5)) == .notAMember(member(0)))   // session presents another key
        let other = try GroupUpdate(distributionID: .random(), revision: 2, members: g[0].roster)
        #expect(refused(other, from: 0) == .wrongGroup(other.distributionID))
        // Leaving is only for oneself: member 1 cannot drop itself and member 3.
        let withoutOneAndThree = try GroupUpdate(distributionID: g[0].distributionID, revision: 2,
                                                 members: g[0].roster.filter { $0.address != member(1) && $0.address != member(3) })
        #expect(refused(withoutOneAndThree, from: 1) == .notAnAdmin(member(1)))
        #expect(g[2].serialized() == before)
        // The admin's update is accepted; a replay of it changes nothing more.
        #expect(refused(withoutThree, from: 0) == nil)
        let after = g[2].serialized()
        #expect(try g[2].apply(withoutThree, from: member(0), identity: identity(0)).removed == [])
        #expect(g[2].serialized() == after)
        // An older revision is refused, even from the admin.
        let old = try GroupUpdate(distributionID: g[0].distributionID, revision: 1, members: g[0].roster)
        #expect(refused(old, from: 0) == .staleRevision(got: 1, current: 2))
        #expect(g[2].serialized() == after)
        // A non-admin cannot make an update in the first place.
        #expect(throws: GroupError.notAnAdmin(member(1))) { try g[1].changeMembers(removing: [member(2)]) }
        #expect(throws: GroupError.notAMember(member(9))) { try g[0].changeMembers(removing: [member(9)]) }
    }

    /// A device with no state joins only from an admin listed in the update,
    /// and only if the update lists it with its own identity.
    @Test func invitations() throws {
        let g = try makeGroup(3)
        let u = try GroupUpdate(distributionID: g[0].distributionID, revision: 2, members: g[0].roster + [entry(5)])
        func invite(from: Int, to: Int, as key: IdentityKey.PublicKey) -> GroupError? {
            do {
                _ = try GroupSession(invitation: u, from: member(from), senderIdentity: identity(from),
                                     local: member(to), identity: key)
                return nil
            } catch { return error }
        }
        #expect(invite(from: 0, to: 5, as: identity(5)) == nil)
        #expect(invite(from: 1, to: 5, as: identity(5)) == .notAnAdmin(member(1)))
        #expect(invite(from: 7, to: 5, as: identity(5)) == .notAMember(member(7)))
        #expect(invite(from: 0, to: 6, as: identity(6)) == .notInGroup)              // does not list us
        #expect(invite(from: 0, to: 5, as: identity(6)) == .notInGroup)              // lists our address with another key
    }

    /// Any member may leave: the others accept the roster without it from it,
    /// replace their chains, and the leaver reads nothing afterwards.
    @Test func leaving() throws {
        var g = try makeGroup(4)
        let ghost = g[2]
        let u = try g[2].leave()
        #expect(!g[2].isMember && g[2].senders.isEmpty && u.revision == 2 && u.member(member(2)) == nil)
        var states = Dictionary(uniqueKeysWithValues: g.enumerated().map { ($0.offset, $0.element) })
        let changes = try deliver(u, from: 2, to: [0, 1, 3], states: &states)
        for p in [0, 1, 3] { #expect(changes[p]?.removed == [member(2)] && changes[p]?.rotated == true) }
        try flushDistributions(&states, parties: 0..<4)
        let m = try states[1]!.encrypt([42])
        var copy = ghost
        #expect(throws: GroupError.self) { try copy.decrypt(m, from: member(1)) }
        #expect(try states[3]!.decrypt(m, from: member(1)) == [42])
        // A tombstone is not brought back by an update that does not list it.
        #expect(throws: GroupError.self) { try g[2].apply(u, from: member(0), identity: identity(0)) }
    }

    /// A member removed and later added back starts a chain nobody holds and
    /// sends it to everyone; the others send it theirs.
    @Test func aMemberAddedBackDistributesAFreshChain() throws {
        var states = Dictionary(uniqueKeysWithValues: try makeGroup(3).enumerated().map { ($0.offset, $0.element) })
        let oldChain = states[2]!.own.chainID
        try deliver(try states[0]!.changeMembers(removing: [member(2)]), from: 0, to: 1...2, states: &states)
        try flushDistributions(&states, parties: 0..<3)
        let back = try states[0]!.changeMembers(adding: [entry(2)])
        let changes = try deliver(back, from: 0, to: 1...2, states: &states)
        #expect(changes[2]?.joined == true && changes[1]?.added == [member(2)])
        #expect(states[2]!.pendingDistribution == [member(0), member(1)] && states[2]!.own.chainID != oldChain)
        try flushDistributions(&states, parties: 0..<3)
        let m = try states[2]!.encrypt([5])
        for r in 0...1 { #expect(try states[r]!.decrypt(m, from: member(2)) == [5]) }
        let n = try states[1]!.encrypt([6])
        #expect(try states[2]!.decrypt(n, from: member(1)) == [6])
    }

    /// Two admins change the roster at once (same revision): every member ends
    /// with the update whose bytes are smaller, whatever the delivery order.
    @Test func twoAdminsUpdatingAtOnceConverge() throws {
        let id = DistributionID.random()
        var a = try GroupSession(distributionID: id, local: member(0), identity: identity(0),
                                 members: [entry(1, admin: true), entry(2), entry(3), entry(4)])
        var states: [Int: GroupSession] = [0: a]
        try deliver(a.snapshot, from: 0, to: 1...4, states: &states)
        try flushDistributions(&states, parties: 0..<6)
        a = states[0]!
        var b = states[1]!
        let x = try a.changeMembers(adding: [entry(5)])          // admin 0 adds 5
        let y = try b.changeMembers(removing: [member(4)])       // admin 1 removes 4, at the same revision
        #expect(x.revision == y.revision)
        let winner = x.serialized.lexicographicallyPrecedes(y.serialized) ? x : y
        states[0] = a
        states[1] = b
        // Each admin receives the other's; the members get both, in either order.
        _ = try? deliver(y, from: 1, to: [0], states: &states)
        _ = try? deliver(x, from: 0, to: [1], states: &states)
        for (p, order) in [(2, [x, y]), (3, [y, x]), (4, [x, y]), (5, [x])] {
            for u in order { _ = try? deliver(u, from: u == x ? 0 : 1, to: [p], states: &states) }
        }
        for p in winner.members.map({ Int($0.address.userID.dropFirst())! }) {
            #expect(states[p]!.snapshot == winner, "member \(p)")
        }
    }

    /// A distribution is accepted only from a roster member over a session with
    /// the roster's identity, and never for a chain that belongs to another.
    @Test func distributionsAreBoundToTheirSender() throws {
        var g = try makeGroup(3)
        let before = g[2].serialized()
        let outsider = try GroupSession(distributionID: g[0].distributionID, local: member(9), identity: identity(9), members: [])
        #expect(throws: GroupError.notAMember(member(9))) {
            try g[2].process(outsider.distribution, from: member(9), identity: identity(9))
        }
        #expect(throws: GroupError.notAMember(member(1))) {
            try g[2].process(outsider.distribution, from: member(1), identity: identity(9))
        }
        // Member 1 presents member 0's chain as its own.
        #expect(throws: GroupError.chainClaimed(chainID: g[0].own.chainID)) {
            try g[2].process(g[0].distribution, from: member(1), identity: identity(1))
        }
        // …or our own.
        #expect(throws: GroupError.chainClaimed(chainID: g[2].own.chainID)) {
            try g[2].process(g[2].distribution, from: member(1), identity: identity(1))
        }
        #expect(g[2].serialized() == before)
        // A message is verified only against the chains of the sender it is attributed to.
        let m = try g[0].encrypt([1])
        #expect(throws: GroupError.noSenderKey(member(1), chainID: g[0].own.chainID)) { try g[2].decrypt(m, from: member(1)) }
    }

    /// 50 participants, an admin adding, removing and re-adding members and
    /// members leaving, with loss and reordering between roster changes: every
    /// message is readable by exactly the members of the roster it was sent
    /// under (sender excluded), and by nobody else — including removed members
    /// holding their full state from before the removal.
    @Test func fiftyMemberSimulation() throws {
        var rng = SplitMix64(state: 50)
        let id = DistributionID.random()
        var states = [Int: GroupSession]()
        states[0] = try GroupSession(distributionID: id, local: member(0), identity: identity(0),
                                     members: (1..<30).map { entry($0) })
        try deliver(states[0]!.snapshot, from: 0, to: 1..<30, states: &states)
        try flushDistributions(&states, parties: 0..<50)
        var ghosts = [GroupSession]()                   // removed or departed members' full state
        var pending = [(message: [UInt8], sender: Int, readers: Set<Int>, to: Int)]()
        var checked = 0, lost = 0, joins = 0, removals = 0, leaves = 0, ghostTries = 0
        func roster() -> Set<Int> { Set(states[0]!.roster.map { Int($0.address.userID.dropFirst())! }) }
        func deliverOne(_ k: Int) {
            let p = pending.remove(at: k)
            guard var s = states[p.to] else { return }      // never joined: nothing to try with
            let ok = (try? s.decrypt(p.message, from: member(p.sender))) != nil
            #expect(ok == p.readers.contains(p.to), "party \(p.to) on a message from \(p.sender)")
            states[p.to] = s
            checked += 1
        }
        func flush() {
            pending.shuffle(using: &rng)
            while !pending.isEmpty { deliverOne(pending.count - 1) }
        }
        func change(_ update: GroupUpdate, from author: Int, oldRoster: Set<Int>) throws {
            try deliver(update, from: author, to: oldRoster.union(roster()), states: &states)
            try flushDistributions(&states, parties: 0..<50)
        }
        for _ in 0..<500 {
            let roll = rng.next() % 100
            let current = roster()
            if roll < 6 {                                           // the admin adds someone outside
                guard let n = (1..<50).filter({ !current.contains($0) }).randomElement(using: &rng) else { continue }
                flush()
                try change(try states[0]!.changeMembers(adding: [entry(n)]), from: 0, oldRoster: current)
                joins += 1
            } else if roll < 10, current.count > 5 {               // the admin removes someone
                flush()
                let gone = current.subtracting([0]).randomElement(using: &rng)!
                ghosts.append(states[gone]!)
                try change(try states[0]!.changeMembers(removing: [member(gone)]), from: 0, oldRoster: current)
                removals += 1
            } else if roll < 13, current.count > 5 {               // someone leaves
                flush()
                let gone = current.subtracting([0]).randomElement(using: &rng)!
                ghosts.append(states[gone]!)
                try change(try states[gone]!.leave(), from: gone, oldRoster: current)
                leaves += 1
            } else {                                                // send, with 5% loss per recipient
                let s = current.randomElement(using: &rng)!
                let msg = try states[s]!.encrypt([UInt8(truncatingIfNeeded: rng.next())])
                for r in 0..<50 where r != s {
                    if rng.next() % 100 < 5 { lost += 1; continue }
                    pending.append((msg, s, current.subtracting([s]), r))
                }
                for var g in ghosts where !current.contains(Int(g.localAddress.userID.dropFirst())!) {
                    #expect((try? g.decrypt(msg, from: member(s))) == nil, "a former member read a message")
                    ghostTries += 1
                }
                if rng.next() % 4 == 0 {                            // deliver a random part, in random order
                    for _ in 0..<(pending.count / 2) { deliverOne(Int(rng.next() % UInt64(pending.count))) }
                }
            }
        }
        flush()
        // Every member holds the same roster.
        for p in roster() { #expect(states[p]!.snapshot == states[0]!.snapshot) }
        #expect(checked > 5000 && lost > 0 && ghostTries > 100)
        #expect(joins > 5 && removals > 5 && leaves > 3)
    }
}
