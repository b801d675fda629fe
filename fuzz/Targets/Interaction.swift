import E2EE

/// The stateful two-party harness (after libsignal's `interaction.rs`): the
/// input is a script of actions between Alice (initiator) and Bob
/// (recipient, with an account), each holding a ``SessionSet``.
///
/// Script layout. Byte 0: bit 0 picks Alice's first bundle (0: with one-time
/// prekey 1, 1: without). Then one opcode byte per action, `op = b & 7`,
/// `arg = b >> 3`, followed by the action's operand bytes; reads past the end
/// give 0, so every input is a complete script.
///
/// | op | action      | arg                              | operands                       |
/// |----|-------------|----------------------------------|--------------------------------|
/// | 0  | send        | bit 0 sender, bits 1-4: count-1  | plaintext length               |
/// | 1  | deliver     | bit 0 sender                     | index into that sender's queue |
/// | 2  | drop        | bit 0 sender                     | index into the queue           |
/// | 3  | duplicate   | bit 0 sender                     | index into delivered messages  |
/// | 4  | tamper      | bit 0 sender, bits 1-2: mode     | index into sent, u16 position, mask |
/// | 5  | reload      | bit 0 party                      | —                              |
/// | 6  | reinitiate  | bits 0-1: bundle, bit 2: by Bob  | —                              |
/// | 7  | flush       | bit 0 sender                     | —                              |
///
/// Tamper modes: 0 xor a byte with the mask (a zero mask becomes 0x01),
/// 1 truncate at the position, 2 insert the mask byte at the position,
/// 3 flip bit (mask & 7) of the byte at the position.
///
/// Reinitiate: Alice starts a new session with one of Bob's bundles (bits
/// 0-1: 0 and 1 pick one-time prekeys 2 and 3 while unused; otherwise the
/// bundle without one), or, with bit 2, Bob starts one with Alice's bundle
/// (both sides initiating at once is then possible). At most 3 per run.
///
/// Asserted: every untampered message decrypts exactly once, to its plaintext;
/// every duplicate and every tampered copy is refused and leaves the receiver's
/// sessions and account byte-for-byte unchanged; a reload gives back the same
/// records; and after the script, everything still in flight decrypts and both
/// sides can still talk.
public enum Interaction {
    public enum Side: Int, Sendable { case alice = 0, bob = 1 }

    public enum Action: Sendable, Equatable {
        case send(from: Side, count: Int = 1, length: UInt8 = 8)
        case deliver(from: Side, index: UInt8 = 0)
        case drop(from: Side, index: UInt8 = 0)
        case duplicate(from: Side, index: UInt8 = 0)
        case tamper(from: Side, index: UInt8, mode: UInt8, position: UInt16, mask: UInt8)
        case reload(Side)
        case reinitiate(bundle: UInt8)
        case bobInitiates
        case flush(from: Side)
    }

    /// The bytes of a script (the corpus generator writes these).
    public static func script(firstBundleHasOneTimePreKey: Bool = true, _ actions: [Action]) -> [UInt8] {
        var out: [UInt8] = [firstBundleHasOneTimePreKey ? 0 : 1]
        func op(_ code: UInt8, _ arg: Int) { out.append(code | UInt8(arg << 3)) }
        for a in actions {
            switch a {
            case .send(let s, let count, let length):
                precondition((1...16).contains(count), "send count is 1...16")
                op(0, s.rawValue | (count - 1) << 1); out.append(length)
            case .deliver(let s, let i): op(1, s.rawValue); out.append(i)
            case .drop(let s, let i): op(2, s.rawValue); out.append(i)
            case .duplicate(let s, let i): op(3, s.rawValue); out.append(i)
            case .tamper(let s, let i, let mode, let position, let mask):
                op(4, s.rawValue | Int(mode & 3) << 1)
                out += [i, UInt8(position >> 8), UInt8(truncatingIfNeeded: position), mask]
            case .reload(let s): op(5, s.rawValue)
            case .reinitiate(let b): op(6, Int(b & 3))
            case .bobInitiates: op(6, 4)
            case .flush(let s): op(7, s.rawValue)
            }
        }
        return out
    }

    /// At most this many messages per run (besides the final exchange), so
    /// that no gap can reach ``Limits/maxSkip`` and every message must decrypt.
    static let maxMessages = 400

    struct Party {
        var sessions: SessionSet
        var account: Account
        let random: DeterministicRandom

        var records: ([UInt8], [UInt8]) { (sessions.serialized(), account.serialized()) }
    }

    struct Sent {
        let from: Side
        let plaintext: [UInt8]
        let wire: [UInt8]
        var delivered = false
    }

    /// Alice's first session for each choice of byte 0, computed once.
    static let firstSessions: [Session] = [0, 3].map { i in
        try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobBundles[i],
                              random: DeterministicRandom(seed: "interaction first session \(i)"))
    }

    struct Run {
        let c: Checker
        var parties: [Party]
        var sent: [Sent] = []
        /// Undelivered message indices (into `sent`) per sender, in send order.
        var queues: [[Int]] = [[], []]
        var usedOneTimeBundles: Set<Int>
        var reinitiations = 0

        init(firstBundle: Int, _ c: Checker) {
            self.c = c
            parties = [
                Party(sessions: SessionSet(current: Interaction.firstSessions[firstBundle]), account: Fixtures.aliceAccount,
                      random: DeterministicRandom(seed: "interaction alice")),
                Party(sessions: SessionSet(), account: Fixtures.bobAccount, random: DeterministicRandom(seed: "interaction bob")),
            ]
            usedOneTimeBundles = firstBundle == 0 ? [0] : []
        }

        mutating func send(from s: Side, length: Int, final: Bool = false) throws(InvariantViolation) {
            guard final || sent.count < Interaction.maxMessages else { return }
            let id = sent.count
            var plaintext: [UInt8] = [UInt8(s.rawValue), UInt8(id >> 8), UInt8(truncatingIfNeeded: id)]
            for i in 0..<length { plaintext.append(UInt8(truncatingIfNeeded: id &* 31 &+ i)) }
            let result = Result { () throws(EncryptError) in
                try parties[s.rawValue].sessions.encrypt(plaintext, random: parties[s.rawValue].random)
            }
            switch result {
            case .success(let wire):
                sent.append(Sent(from: s, plaintext: plaintext, wire: wire))
                queues[s.rawValue].append(id)
            case .failure(let e):
                // Bob has nothing to send with until a first message has reached him.
                let bobWithoutSession = s == .bob && parties[1].sessions.current == nil
                try c.require(bobWithoutSession && e == .noSendingChain, "\(s) could not encrypt: \(e)")
            }
        }

        mutating func receive(_ wire: [UInt8], to: Int) -> Result<[UInt8], ReceiveError> {
            var p = parties[to]
            defer { parties[to] = p }
            return Result { () throws(ReceiveError) in
                try p.sessions.decrypt(wire, account: &p.account, random: p.random)
            }
        }

        /// Delivers the untampered, undelivered message `id`: it must decrypt to its plaintext.
        mutating func deliver(_ id: Int) throws(InvariantViolation) {
            let m = sent[id]
            precondition(!m.delivered, "harness bug: delivering a delivered message as new")
            let to = 1 - m.from.rawValue
            let result = receive(m.wire, to: to)
            switch result {
            case .success(let p):
                try c.require(p == m.plaintext, "message \(id) from \(m.from) decrypted to other bytes")
            case .failure(let e):
                throw c.fail("untampered message \(id) from \(m.from) was refused: \(e)")
            }
            sent[id].delivered = true
        }

        /// Delivers bytes that must be refused, with the receiver unchanged.
        mutating func deliverRefused(_ wire: [UInt8], to: Int, what: String) throws(InvariantViolation) {
            let before = parties[to].records
            let result = receive(wire, to: to)
            if case .success = result { throw c.fail("\(what) was accepted") }
            let after = parties[to].records
            try c.require(after.0 == before.0, "\(what) was refused but changed the sessions")
            try c.require(after.1 == before.1, "\(what) was refused but changed the account")
        }

        mutating func perform(_ op: UInt8, _ arg: Int, _ input: inout InputCursor) throws(InvariantViolation) {
            let side = Side(rawValue: arg & 1)!
            switch op {
            case 0:
                let count = 1 + (arg >> 1)
                let length = Int(input.u8())
                for _ in 0..<count { try send(from: side, length: length) }
            case 1:
                let q = queues[side.rawValue]
                let i = Int(input.u8())
                guard !q.isEmpty else { return }
                let id = queues[side.rawValue].remove(at: i % q.count)
                try deliver(id)
            case 2:
                let q = queues[side.rawValue]
                let i = Int(input.u8())
                guard !q.isEmpty else { return }
                queues[side.rawValue].remove(at: i % q.count)
            case 3:
                let done = sent.indices.filter { sent[$0].from == side && sent[$0].delivered }
                let i = Int(input.u8())
                guard !done.isEmpty else { return }
                let id = done[i % done.count]
                try deliverRefused(sent[id].wire, to: 1 - side.rawValue, what: "duplicate of message \(id)")
            case 4:
                let mine = sent.indices.filter { sent[$0].from == side }
                let i = Int(input.u8()), position = Int(input.u16()), mask = input.u8()
                guard !mine.isEmpty else { return }
                let id = mine[i % mine.count]
                let original = sent[id].wire
                let (wire, at) = tampered(original, mode: arg >> 1, position: position, mask: mask)
                let kind = original[1] == MessageType.preKey.rawValue ? "PreKeyMessage" : "RatchetMessage"
                let change = wire.count == original.count
                    ? "byte \(at) \(String(original[at], radix: 16)) -> \(String(wire[at], radix: 16))"
                    : "\(original.count) -> \(wire.count) bytes at \(at)"
                try deliverRefused(wire, to: 1 - side.rawValue, what: "\(kind) \(id) from \(side) tampered (\(change))")
            case 5:
                let (sessions, account) = parties[side.rawValue].records
                let loadedSessions: SessionSet, loadedAccount: Account
                do { loadedSessions = try SessionSet(serialized: sessions) } catch {
                    throw c.fail("\(side)'s session set does not reload: \(error)")
                }
                do { loadedAccount = try Account(serialized: account) } catch {
                    throw c.fail("\(side)'s account does not reload: \(error)")
                }
                try c.require(loadedSessions.serialized() == sessions, "\(side)'s reloaded session set serialises differently")
                try c.require(loadedAccount.serialized() == account, "\(side)'s reloaded account serialises differently")
                parties[side.rawValue].sessions = loadedSessions
                parties[side.rawValue].account = loadedAccount
            case 6:
                guard reinitiations < 3 else { return }
                reinitiations += 1
                if arg & 4 != 0 {
                    let result = Result { () throws(SessionSetupError) in
                        try Session.initiate(identity: Fixtures.bobIdentity, bundle: Fixtures.aliceBundle, random: parties[1].random)
                    }
                    guard case .success(let session) = result else { throw c.fail("Bob could not start a session") }
                    parties[1].sessions.promote(session)
                    return
                }
                // Each one-time prekey bundle is used once; the bundle without one any number of times.
                var choice = 3
                if arg & 3 < 2, !usedOneTimeBundles.contains(1 + (arg & 3)) { choice = 1 + (arg & 3) }
                if choice != 3 { usedOneTimeBundles.insert(choice) }
                let result = Result { () throws(SessionSetupError) in
                    try Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobBundles[choice], random: parties[0].random)
                }
                guard case .success(let session) = result else { throw c.fail("Alice could not start a new session") }
                parties[0].sessions.promote(session)
            default:
                while let id = queues[side.rawValue].first {
                    queues[side.rawValue].removeFirst()
                    try deliver(id)
                }
            }
        }

        /// Liveness: everything in flight decrypts, then a full round trip works.
        mutating func finish() throws(InvariantViolation) {
            for s in 0..<2 {
                while let id = queues[s].first {
                    queues[s].removeFirst()
                    try deliver(id)
                }
            }
            for s in [Side.alice, .bob, .alice] {
                try send(from: s, length: 4, final: true)
                guard let id = queues[s.rawValue].popLast() else {
                    throw c.fail("\(s) cannot send at the end of the script")
                }
                try deliver(id)
            }
        }
    }

    static func check(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        var input = InputCursor(data)
        var run = Run(firstBundle: Int(input.u8() & 1), c)
        while !input.isAtEnd {
            let b = input.u8()
            try run.perform(b & 7, Int(b >> 3), &input)
        }
        try run.finish()
    }
}
