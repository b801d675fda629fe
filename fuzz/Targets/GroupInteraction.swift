import E2EE

/// The stateful group harness: four parties, three of them members at first,
/// each holding a ``GroupSession`` of one group. Distributions travel through
/// pairwise sessions (reliable, in order: not what this harness tests) and
/// are processed as soon as they are made; group messages go into each
/// recipient's inbox, from which the script delivers, drops, duplicates and
/// tampers with them.
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
/// | 6  | membership | bits 0-1 party                     | — (removes a member, re-adds a non-member) |
/// | 7  | rotate     | bits 0-1 member                    | —                                 |
///
/// Deliver with bit 2 hands the recipient every message in its inbox from the
/// sender of the indexed one in one `decryptBacklog` call (with bit 3, plus an
/// exact copy of the first and a copy with a broken signature), and checks it
/// against decrypting the same messages one by one on a copy: the same result
/// for every message and the same record afterwards.
///
/// Tamper modes as in ``Interaction``. Removing a member: every other member
/// calls `removeMember` (deleting the member's chains and rotating its own)
/// and the new chains are distributed to the remaining members. Re-adding:
/// the party starts a new chain, and it and the members exchange distributions.
///
/// Asserted, against a model of which chains each party holds: a message
/// decrypts, once and to its plaintext, exactly when its recipient holds the
/// sender's chain; otherwise, and for every duplicate and tampered copy, it is
/// refused and the recipient's record is unchanged to the byte. A party that
/// is not a member cannot read anything sent while it is outside. Reloads give
/// back the same records; at the end everything in flight is delivered and
/// every member can still send to all the others.
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

    /// The four parties' groups before the script: 0, 1 and 2 are members and
    /// have exchanged distributions; 3 is outside. Computed once.
    static let initial: [GroupSession] = {
        let members = (0..<3).map(address)
        var groups = (0..<partyCount).map { i in
            GroupSession(distributionID: GroupFixture.distributionID, members: i < 3 ? members.filter { $0 != address(i) } : [],
                         random: DeterministicRandom(seed: "group interaction party \(i)"))
        }
        for s in 0..<3 { for r in 0..<3 where r != s { try! groups[r].process(groups[s].distribution, from: address(s)) } }
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
        var isMember = [true, true, true, false]
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
                    r < 3 && s < 3 && r != s ? [GroupInteraction.initial[s].distribution.chainID] : []
                }
            }
        }

        var members: [Int] { (0..<GroupInteraction.partyCount).filter { isMember[$0] } }

        /// `r` processes `s`'s current distribution (as `GroupSession.process` keeps chains).
        mutating func distribute(from s: Int, to r: Int) throws(InvariantViolation) {
            let d = groups[s].distribution
            let result = Result { () throws(GroupError) in try groups[r].process(d, from: address(s)) }
            guard case .success = result else { throw c.fail("party \(r) refused \(s)'s distribution: \(result)") }
            if !chains[r][s].contains(d.chainID) {
                chains[r][s].insert(d.chainID, at: 0)
                if chains[r][s].count > GroupSession.maxChainsPerSender { chains[r][s].removeLast() }
            }
        }

        mutating func send(from s: Int, length: Int, final: Bool = false) throws(InvariantViolation) {
            guard isMember[s], final || sent.count < GroupInteraction.maxMessages else { return }
            let id = sent.count
            var plaintext: [UInt8] = [UInt8(s), UInt8(id >> 8), UInt8(truncatingIfNeeded: id)]
            for i in 0..<length { plaintext.append(UInt8(truncatingIfNeeded: id &* 31 &+ i)) }
            let d = groups[s].distribution
            let result = Result { () throws(GroupError) in try groups[s].encrypt(plaintext, random: random) }
            guard case .success(let wire) = result else { throw c.fail("member \(s) could not encrypt: \(result)") }
            sent.append(Sent(from: s, chainID: d.chainID, iteration: d.iteration, plaintext: plaintext, wire: wire))
            for r in members where r != s { inbox[r].append(id) }
            // Nobody outside the group can read it, whatever they held before.
            for r in 0..<GroupInteraction.partyCount where !isMember[r] {
                var outsider = groups[r]
                try c.require((try? outsider.decrypt(wire, from: address(s))) == nil,
                              "party \(r), outside the group, read message \(id)")
            }
        }

        /// Decrypts message `id` at `r`: it must succeed exactly when the model
        /// says `r` holds the chain and has not used the message yet.
        mutating func deliver(_ id: Int, to r: Int) throws(InvariantViolation) {
            let m = sent[id]
            let before = groups[r].serialized()
            let result = Result { () throws(GroupError) in try groups[r].decrypt(m.wire, from: address(m.from)) }
            if case .failure(let e) = result {
                try c.require(groups[r].serialized() == before, "a refused message (\(e)) changed party \(r)'s group")
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
            var single = groups[r]
            let expected = wires.map { w in Result { () throws(GroupError) in try single.decrypt(w, from: address(s)) } }
            let got = groups[r].decryptBacklog(wires, from: address(s), parallelism: wires.count > 1 ? .threads(2) : .serial)
            try c.require(got.count == wires.count, "a backlog of \(wires.count) gave \(got.count) results")
            for i in wires.indices {
                try c.require(got[i] == expected[i], "backlog item \(i) at \(r): \(got[i]), one by one: \(expected[i])")
            }
            try c.require(groups[r].serialized() == single.serialized(), "a backlog left another record than one by one at \(r)")
            for (n, id) in ids.enumerated() { try judge(got[n], id, at: r) }
            if extras {
                try c.require(got[ids.count].isFailure && got[ids.count + 1].isFailure, "a copy in a backlog was accepted")
            }
        }

        mutating func deliverRefused(_ wire: [UInt8], to r: Int, from s: Int, what: String) throws(InvariantViolation) {
            let before = groups[r].serialized()
            if (try? groups[r].decrypt(wire, from: address(s))) != nil { throw c.fail("\(what) was accepted") }
            try c.require(groups[r].serialized() == before, "\(what) was refused but changed party \(r)'s group")
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
                let record = groups[p].serialized()
                let loaded: GroupSession
                do { loaded = try GroupSession(serialized: record) } catch {
                    throw c.fail("party \(p)'s group does not reload: \(error)")
                }
                try c.require(loaded.serialized() == record, "party \(p)'s reloaded group serialises differently")
                groups[p] = loaded
            case 6:
                if isMember[p] {
                    guard members.count > 2 else { return }
                    isMember[p] = false
                    for m in members {
                        groups[m].removeMember(address(p), random: random)
                        chains[m][p] = []
                        try c.require(!groups[m].members.contains(address(p)), "a removed member is still listed")
                    }
                    for s in members { for r in members where r != s { try distribute(from: s, to: r) } }
                } else {
                    groups[p].rotate(random: random)
                    groups[p].addMembers(members.map(address))
                    for m in members {
                        groups[m].addMembers([address(p)])
                        try distribute(from: m, to: p)
                        try distribute(from: p, to: m)
                    }
                    isMember[p] = true
                }
            default:
                guard isMember[p] else { return }
                groups[p].rotate(random: random)
                for r in members where r != p { try distribute(from: p, to: r) }
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
