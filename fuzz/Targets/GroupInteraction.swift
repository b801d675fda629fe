import E2EE

/// The stateful group harness: four parties, each holding (once it was
/// invited) a ``GroupSession`` of one group with authenticated membership
/// (PROTOCOL.md §5b). Party 0 created the group and is its admin; 1 and 2
/// joined from its invitation; 3 is outside. Control messages (GroupUpdates
/// and SenderKeyDistributions) travel through pairwise sessions (reliable,
/// in order, authenticated: not what this harness tests) and are handled as
/// soon as they are made; group messages go into each recipient's inbox, from
/// which the script delivers, drops, duplicates and tampers with them.
///
/// Script layout: one opcode byte per action, `op = b & 7`, `arg = b >> 3`,
/// then its operand bytes; reads past the end give 0.
///
/// | op | action     | arg                                | operands                          |
/// |----|------------|------------------------------------|-----------------------------------|
/// | 0  | send       | bits 0-1 sender, bits 2-4 count-1  | plaintext length                  |
/// | 1  | deliver    | bits 0-1 recipient, bit 2 backlog, bit 3 extras | index into its inbox |
/// | 2  | drop       | bits 0-1 recipient                 | index into its inbox              |
/// | 3  | duplicate  | bits 0-1 recipient                 | index into what it has received   |
/// | 4  | tamper     | bits 0-1 recipient, bits 2-3 mode  | index into all sent, u16 position, mask |
/// | 5  | reload     | bits 0-1 party                     | —                                 |
/// | 6  | membership | bits 0-1 party, bit 2 leave        | — (see below)                     |
/// | 7  | rotate     | bits 0-1 member                    | —                                 |
///
/// Deliver with bit 2 hands the recipient every message in its inbox from the
/// sender of the indexed one in one `decryptBacklog` call (with bit 3, plus an
/// exact copy of the first and a copy with a broken signature), and checks it
/// against decrypting the same messages one by one on a copy: the same result
/// for every message and the same record afterwards.
///
/// Membership: the admin removes the party (`changeMembers(removing:)`) if it
/// is a member, or adds it back with its identity if not; with bit 2 the
/// party leaves by itself (`leave()`). The update goes to every party of the
/// old and the new roster (`apply`, or `GroupSession(invitation:)` for a party
/// that never had the group); on a removal every remaining member rotates
/// (inside `apply`); then every member sends its chain to its
/// `pendingDistribution`, which the recipients `process`. Every member must
/// then hold the admin's roster and revision. Party 0 (the admin) is never
/// removed and does not leave.
///
/// Tamper modes as in ``Interaction``. Asserted, against a model of which
/// chains each party holds: a message decrypts, once and to its plaintext,
/// exactly when its recipient holds the sender's chain; otherwise, and for
/// every duplicate and tampered copy, it is refused and the recipient's record
/// is unchanged to the byte. A party outside the group reads nothing sent
/// while it is out, neither with its tombstone nor with all the state it held
/// before it went out. Reloads give back the same records; at the end
/// everything in flight is delivered and every member can still send to all
/// the others.
public enum GroupInteraction {
    public enum Action: Sendable, Equatable {
        case send(from: Int, count: Int = 1, length: UInt8 = 8)
        case deliver(to: Int, index: UInt8 = 0)
        case deliverBacklog(to: Int, index: UInt8 = 0, extras: Bool = false)
        case drop(to: Int, index: UInt8 = 0)
        case duplicate(to: Int, index: UInt8 = 0)
        case tamper(to: Int, index: UInt8, mode: UInt8, position: UInt16, mask: UInt8)
        case reload(Int)
        case membership(Int)
        case leave(Int)
        case rotate(Int)
    }

    /// The bytes of a script (the corpus generator writes these).
    public static func script(_ actions: [Action]) -> [UInt8] {
        var out: [UInt8] = []
        func op(_ code: UInt8, _ arg: Int) { out.append(code | UInt8(arg << 3)) }
        for a in actions {
            switch a {
            case .send(let s, let count, let length):
                precondition((1...8).contains(count), "send count is 1...8")
                op(0, s & 3 | (count - 1) << 2); out.append(length)
            case .deliver(let r, let i): op(1, r & 3); out.append(i)
            case .deliverBacklog(let r, let i, let extras): op(1, r & 3 | 4 | (extras ? 8 : 0)); out.append(i)
            case .drop(let r, let i): op(2, r & 3); out.append(i)
            case .duplicate(let r, let i): op(3, r & 3); out.append(i)
            case .tamper(let r, let i, let mode, let position, let mask):
                op(4, r & 3 | Int(mode & 3) << 2)
                out += [i, UInt8(position >> 8), UInt8(truncatingIfNeeded: position), mask]
            case .reload(let p): op(5, p & 3)
            case .membership(let p): op(6, p & 3)
            case .leave(let p): op(6, p & 3 | 4)
            case .rotate(let p): op(7, p & 3)
            }
        }
        return out
    }

    /// At most this many messages per run (besides the final round), so that no
    /// gap reaches the 2000 skipped keys a receiver keeps per chain.
    static let maxMessages = 300
    static let partyCount = 4

    static func address(_ i: Int) -> ProtocolAddress { ProtocolAddress(userID: "member \(i)", deviceID: 1) }
    static let identities = (0..<partyCount).map { Fixtures.identity("group interaction party \($0)").publicKey }
    static func member(_ i: Int) -> GroupMember { GroupMember(address: address(i), identityKey: identities[i]) }

    /// The four parties' groups before the script: 0 created the group with 1
    /// and 2, who joined from its invitation, and all three have sent each
    /// other their chains; 3 has nothing. Computed once.
    static let initial: [GroupSession?] = {
        let id = GroupFixture.distributionID
        let admin = try! GroupSession(distributionID: id, local: address(0), identity: identities[0], members: [member(1), member(2)],
                                      random: DeterministicRandom(seed: "group interaction party 0"))
        var groups: [GroupSession?] = [admin] + (1..<partyCount).map { i in
            i < 3 ? try! GroupSession(invitation: admin.snapshot, from: address(0), senderIdentity: identities[0], local: address(i),
                                      identity: identities[i], random: DeterministicRandom(seed: "group interaction party \(i)"))
                  : nil
        }
        for s in 0..<3 {
            let d = groups[s]!.distribution
            for r in groups[s]!.pendingDistribution {
                try! groups[Int(r.userID.dropFirst("member ".count))!]!.process(d, from: address(s), identity: identities[s])
            }
            groups[s]!.markDistributed(to: groups[s]!.pendingDistribution)
        }
        return groups
    }()

    struct Sent {
        let from: Int
        let chainID: UInt32
        let iteration: UInt32
        let plaintext: [UInt8]
        let wire: [UInt8]
    }

    struct Run {
        let c: Checker
        var groups = GroupInteraction.initial
        /// The model's roster (the admin's).
        var isMember = [true, true, true, false]
        /// All the state each party held just before it last went out.
        var former: [GroupSession?] = Array(repeating: nil, count: GroupInteraction.partyCount)
        /// The model: per recipient, per sender, the chain ids it holds, newest first.
        var chains: [[[UInt32]]]
        var sent: [Sent] = []
        /// Undelivered message ids per recipient.
        var inbox: [[Int]] = Array(repeating: [], count: GroupInteraction.partyCount)
        /// Message ids each party has decrypted (or was refused as the model said).
        var received: [[Int]] = Array(repeating: [], count: GroupInteraction.partyCount)
        var consumed: Set<[Int]> = []
        let random = DeterministicRandom(seed: "group interaction")

        init(_ c: Checker) {
            self.c = c
            chains = (0..<GroupInteraction.partyCount).map { r in
                (0..<GroupInteraction.partyCount).map { s in
                    r < 3 && s < 3 && r != s ? [GroupInteraction.initial[s]!.distribution.chainID] : []
                }
            }
        }

        var members: [Int] { (0..<GroupInteraction.partyCount).filter { isMember[$0] } }

        func party(_ a: ProtocolAddress) -> Int? {
            (0..<GroupInteraction.partyCount).first { address($0) == a }
        }

        /// `r` processes `s`'s current distribution, over the pairwise session
        /// that presents `s`'s identity (as `GroupSession.process` keeps chains).
        mutating func distribute(from s: Int, to r: Int) throws(InvariantViolation) {
            let d = groups[s]!.distribution
            let result = Result { () throws(GroupError) in try groups[r]!.process(d, from: address(s), identity: identities[s]) }
            guard case .success = result else { throw c.fail("party \(r) refused \(s)'s distribution: \(result)") }
            if !chains[r][s].contains(d.chainID) {
                chains[r][s].insert(d.chainID, at: 0)
                if chains[r][s].count > Limits.maxChainsPerSender { chains[r][s].removeLast() }
            }
        }

        /// Every member sends its chain to the members it owes it to.
        mutating func distributePending() throws(InvariantViolation) {
            for s in members {
                let pending = groups[s]!.pendingDistribution
                for a in pending {
                    guard let r = party(a), isMember[r], r != s else {
                        throw c.fail("party \(s) owes its chain to \(a), not a member")
                    }
                    try distribute(from: s, to: r)
                }
                groups[s]!.markDistributed(to: pending)
            }
        }

        mutating func send(from s: Int, length: Int, final: Bool = false) throws(InvariantViolation) {
            guard isMember[s], final || sent.count < GroupInteraction.maxMessages else { return }
            let id = sent.count
            var plaintext: [UInt8] = [UInt8(s), UInt8(id >> 8), UInt8(truncatingIfNeeded: id)]
            for i in 0..<length { plaintext.append(UInt8(truncatingIfNeeded: id &* 31 &+ i)) }
            let d = groups[s]!.distribution
            let result = Result { () throws(GroupError) in try groups[s]!.encrypt(plaintext, random: random) }
            guard case .success(let wire) = result else { throw c.fail("member \(s) could not encrypt: \(result)") }
            sent.append(Sent(from: s, chainID: d.chainID, iteration: d.iteration, plaintext: plaintext, wire: wire))
            for r in members where r != s { inbox[r].append(id) }
            // Nobody outside the group can read it, with its tombstone or with all it held before.
            for r in 0..<GroupInteraction.partyCount where !isMember[r] {
                for (what, state) in [("its tombstone", groups[r]), ("its state before it went out", former[r])] {
                    guard var outsider = state else { continue }
                    try c.require((try? outsider.decrypt(wire, from: address(s))) == nil,
                                  "party \(r), outside the group, read message \(id) with \(what)")
                }
            }
        }

        /// Decrypts message `id` at `r`: it must succeed exactly when the model
        /// says `r` holds the chain and has not used the message yet.
        mutating func deliver(_ id: Int, to r: Int) throws(InvariantViolation) {
            let m = sent[id]
            let before = groups[r]!.serialized()
            let result = Result { () throws(GroupError) in try groups[r]!.decrypt(m.wire, from: address(m.from)) }
            if case .failure(let e) = result {
                try c.require(groups[r]!.serialized() == before, "a refused message (\(e)) changed party \(r)'s group")
            }
            try judge(result, id, at: r)
        }

        /// Checks one message's outcome at `r` against the model.
        mutating func judge(_ result: Result<[UInt8], GroupError>, _ id: Int, at r: Int) throws(InvariantViolation) {
            let m = sent[id]
            let expected = chains[r][m.from].contains(m.chainID) && !consumed.contains([r, id])
            switch result {
            case .success(let p):
                try c.require(expected, "party \(r) decrypted message \(id) from \(m.from) without holding its chain, or twice")
                try c.require(p == m.plaintext, "message \(id) decrypted to other bytes at \(r)")
                consumed.insert([r, id])
            case .failure(let e):
                try c.require(!expected, "party \(r) refused message \(id) from \(m.from): \(e)")
                let known = chains[r][m.from].contains(m.chainID)
                try c.require(known ? e == .duplicate(iteration: m.iteration) : e == .noSenderKey(address(m.from), chainID: m.chainID),
                              "message \(id) at \(r) refused with \(e)")
            }
            received[r].append(id)
        }

        /// Everything in `r`'s inbox from the sender of `inbox[r][index]`, in one
        /// backlog call, against the same messages one by one on a copy.
        mutating func deliverBacklog(to r: Int, index: Int, extras: Bool) throws(InvariantViolation) {
            guard !inbox[r].isEmpty else { return }
            let s = sent[inbox[r][index % inbox[r].count]].from
            let ids = inbox[r].filter { sent[$0].from == s }
            inbox[r].removeAll { sent[$0].from == s }
            var wires = ids.map { sent[$0].wire }
            if extras {
                var broken = wires[0]
                broken[broken.count - 1] ^= 0x01
                wires += [wires[0], broken]
            }
            var single = groups[r]!
            let expected = wires.map { w in Result { () throws(GroupError) in try single.decrypt(w, from: address(s)) } }
            let got = groups[r]!.decryptBacklog(wires, from: address(s), parallelism: wires.count > 1 ? .threads(2) : .serial)
            try c.require(got.count == wires.count, "a backlog of \(wires.count) gave \(got.count) results")
            for i in wires.indices {
                try c.require(got[i] == expected[i], "backlog item \(i) at \(r): \(got[i]), one by one: \(expected[i])")
            }
            try c.require(groups[r]!.serialized() == single.serialized(), "a backlog left another record than one by one at \(r)")
            for (n, id) in ids.enumerated() { try judge(got[n], id, at: r) }
            if extras {
                try c.require(got[ids.count].isFailure && got[ids.count + 1].isFailure, "a copy in a backlog was accepted")
            }
        }

        mutating func deliverRefused(_ wire: [UInt8], to r: Int, from s: Int, what: String) throws(InvariantViolation) {
            guard let before = groups[r]?.serialized() else { return }
            if (try? groups[r]!.decrypt(wire, from: address(s))) != nil { throw c.fail("\(what) was accepted") }
            try c.require(groups[r]!.serialized() == before, "\(what) was refused but changed party \(r)'s group")
        }

        /// The admin removes `p` or adds it back, or `p` leaves; the update
        /// reaches every party of the old and the new roster, then the chains
        /// they owe are distributed.
        mutating func membership(_ p: Int, leave: Bool) throws(InvariantViolation) {
            guard p != 0, !leave || isMember[p] else { return }
            let old = members
            let author = leave ? p : 0
            let held = groups[p]
            let made = Result { () throws(GroupError) in
                leave ? try groups[p]!.leave(random: random)
                    : isMember[p] ? try groups[0]!.changeMembers(removing: [address(p)], random: random)
                    : try groups[0]!.changeMembers(adding: [member(p)], random: random)
            }
            guard case .success(let u) = made else { throw c.fail("party \(author) could not change the roster: \(made)") }
            if isMember[p] {
                former[p] = held
                isMember[p] = false
                // Everyone drops p's chains; p, a tombstone now, holds none.
                for r in 0..<GroupInteraction.partyCount { chains[r][p] = [] }
                chains[p] = Array(repeating: [], count: GroupInteraction.partyCount)
            } else {
                isMember[p] = true
            }
            for r in Set(old + members).sorted() where r != author {
                guard groups[r] != nil else {
                    let joined = Result { () throws(GroupError) in
                        try GroupSession(invitation: u, from: address(author), senderIdentity: identities[author], local: address(r),
                                         identity: identities[r], random: random)
                    }
                    guard case .success(let g) = joined else { throw c.fail("party \(r) refused its invitation: \(joined)") }
                    try c.require(g.pendingDistribution == g.members, "an invited party owes its chain to \(g.pendingDistribution)")
                    groups[r] = g
                    continue
                }
                let result = Result { () throws(GroupError) in
                    try groups[r]!.apply(u, from: address(author), identity: identities[author], random: random)
                }
                guard case .success(let change) = result else {
                    throw c.fail("party \(r) refused the update of \(author): \(result)")
                }
                if r == p && !isMember[p] {
                    try c.require(change.removedLocal && !groups[r]!.isMember, "party \(r) is still a member after its removal")
                } else if !isMember[p] {
                    try c.require(change.removed == [address(p)] && change.rotated && change.added.isEmpty,
                                  "party \(r) did not drop \(p) and rotate: \(change)")
                } else if r == p {
                    // A tombstone invited again owes its chain to every member.
                    let g = groups[r]!
                    try c.require(g.isMember, "party \(r) did not rejoin: \(change)")
                    try c.require(g.pendingDistribution == g.members && change.joined && change.rotated,
                                  "party \(r), invited again, owes its chain to \(g.pendingDistribution), not \(g.members)")
                } else {
                    try c.require(change.added == [address(p)] && change.removed.isEmpty && !change.rotated,
                                  "party \(r) did not just add \(p): \(change)")
                }
            }
            // Every member holds the admin's roster at its revision; the roster lists exactly the model's members.
            let admin = groups[0]!
            try c.require(admin.roster.map(\.address) == members.map(address), "the admin's roster is not the model's")
            for r in members {
                try c.require(groups[r]!.roster == admin.roster && groups[r]!.revision == admin.revision,
                              "party \(r) holds another roster or revision than the admin")
            }
            try distributePending()
        }

        mutating func perform(_ op: UInt8, _ arg: Int, _ input: inout InputCursor) throws(InvariantViolation) {
            let p = arg & 3
            switch op {
            case 0:
                let length = Int(input.u8())
                for _ in 0..<(1 + (arg >> 2)) { try send(from: p, length: length) }
            case 1 where arg & 4 != 0:
                try deliverBacklog(to: p, index: Int(input.u8()), extras: arg & 8 != 0)
            case 1, 2:
                let i = Int(input.u8())
                guard !inbox[p].isEmpty else { return }
                let id = inbox[p].remove(at: i % inbox[p].count)
                if op == 1 { try deliver(id, to: p) }
            case 3:
                let i = Int(input.u8())
                guard !received[p].isEmpty else { return }
                let id = received[p][i % received[p].count]
                try deliverRefused(sent[id].wire, to: p, from: sent[id].from, what: "duplicate of message \(id) at \(p)")
            case 4:
                let i = Int(input.u8()), position = Int(input.u16()), mask = input.u8()
                guard !sent.isEmpty else { return }
                let id = i % sent.count
                let original = sent[id].wire
                let (wire, at) = tampered(original, mode: arg >> 2, position: position, mask: mask)
                try deliverRefused(wire, to: p, from: sent[id].from, what: "message \(id) tampered at \(at) (\(original.count) -> \(wire.count) bytes)")
            case 5:
                guard let record = groups[p]?.serialized() else { return }
                let loaded: GroupSession
                do { loaded = try GroupSession(serialized: record) } catch {
                    throw c.fail("party \(p)'s group does not reload: \(error)")
                }
                try c.require(loaded.serialized() == record, "party \(p)'s reloaded group serialises differently")
                groups[p] = loaded
            case 6:
                try membership(p, leave: arg & 4 != 0)
            default:
                guard isMember[p] else { return }
                groups[p]!.rotate(random: random)
                try distributePending()
            }
        }

        /// Liveness: everything in flight is delivered, then every member sends
        /// once and every other member reads it.
        mutating func finish() throws(InvariantViolation) {
            for r in 0..<GroupInteraction.partyCount {
                while let id = inbox[r].first {
                    inbox[r].removeFirst()
                    try deliver(id, to: r)
                }
            }
            for s in members {
                try send(from: s, length: 4, final: true)
                let id = sent.count - 1
                for r in members where r != s {
                    try c.require(inbox[r].last == id, "harness: message \(id) not queued for \(r)")
                    inbox[r].removeLast()
                    try c.require(chains[r][s].first == sent[id].chainID, "the model lost \(s)'s current chain at \(r)")
                    try deliver(id, to: r)
                }
            }
        }
    }

    static func check(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        var input = InputCursor(data)
        var run = Run(c)
        while !input.isAtEnd {
            let b = input.u8()
            try run.perform(b & 7, Int(b >> 3), &input)
        }
        try run.finish()
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
