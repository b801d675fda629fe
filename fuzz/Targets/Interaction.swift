import E2EE

/// The stateful two-party harness (after libsignal's `interaction.rs`): the
/// input is a script of actions between Alice (initiator) and Bob
/// (recipient, with an account), each holding a ``SessionSet``.
///
/// Script layout. Byte 0 picks the run's setup: bit 2 clear, PQXDH (the
/// default; neither side allows classical setup), bit 2 set, classical X3DH
/// with `allowClassical` on both sides; bits 0-1 pick Alice's first bundle
/// (``Fixtures/bobBundles``, or their classical counterparts): 0 one-time
/// prekey 1 and one-time KEM prekey 2 (bundle 0), 1 one-time prekey 3 and the
/// last-resort KEM prekey (bundle 2), 2 no one-time prekey and one-time KEM
/// prekey 4 (bundle 3), 3 neither (bundle 4). Then one opcode byte per action,
/// `op = b & 7`, `arg = b >> 3`, followed by the action's operand bytes; reads
/// past the end give 0, so every input is a complete script.
///
/// | op | action      | arg                                   | operands                       |
/// |----|-------------|---------------------------------------|--------------------------------|
/// | 0  | send        | bit 0 sender, bits 1-4: count-1       | plaintext length               |
/// | 1  | deliver     | bit 0 sender                          | index into that sender's queue |
/// | 2  | drop        | bit 0 sender                          | index into the queue           |
/// | 3  | duplicate   | bit 0 sender                          | index into delivered messages  |
/// | 4  | tamper      | bit 0 sender, bits 1-2 mode, bit 3 setup | index into sent, u16 position, mask |
/// | 5  | reload      | bit 0 party                           | —                              |
/// | 6  | reinitiate  | bits 0-1: bundle, bit 2: by Bob       | —                              |
/// | 7  | flush       | bit 0 sender                          | —                              |
///
/// Tamper modes: 0 xor a byte with the mask (a zero mask becomes 0x01),
/// 1 truncate at the position, 2 insert the mask byte at the position,
/// 3 flip bit (mask & 7) of the byte at the position. With bit 3 the mode
/// instead changes a first message's setup fields (§2, §2b; a RatchetMessage,
/// or a change that leaves the bytes as they were, is skipped): 0 strip the
/// one-time prekey id, 1 name KEM prekey 1, 2, 3, 4 or 99 (position mod 5),
/// 2 put in the KEM ciphertext of another PQ first message (position picks
/// it), 3 drop the KEM part (a classical message with the same fields and
/// payload) or, for a classical message, add one (KEM id = mask, ciphertext
/// of another first message or filler).
///
/// Reinitiate: Alice starts a new session with one of Bob's bundles (bits
/// 0-1: 0, 1, 2 pick bundles 1, 2, 3 while unused in the run, otherwise the
/// last-resort bundle 4), or, with bit 2, Bob starts one with Alice's bundle
/// (both sides initiating at once is then possible). At most 3 per run. Every
/// PQXDH session comes from ``PQCapture`` (so runs are reproducible), each
/// at most once per run.
///
/// Asserted: every untampered message decrypts exactly once, to its plaintext;
/// a first message that starts a session consumes exactly the one-time prekeys
/// it names (X25519 and KEM; the last-resort KEM prekey stays) and gives a
/// session set up as the run says (PQXDH or X3DH, with the named KEM prekey);
/// one that reaches an existing session changes no account; every duplicate
/// and every tampered copy is refused and leaves the receiver's sessions and
/// account byte-for-byte unchanged; a reload gives back the same records; and
/// after the script, everything still in flight decrypts and both sides can
/// still talk.
public enum Interaction {
    public enum Side: Int, Sendable { case alice = 0, bob = 1 }

    public enum Action: Sendable, Equatable {
        case send(from: Side, count: Int = 1, length: UInt8 = 8)
        case deliver(from: Side, index: UInt8 = 0)
        case drop(from: Side, index: UInt8 = 0)
        case duplicate(from: Side, index: UInt8 = 0)
        case tamper(from: Side, index: UInt8, mode: UInt8, position: UInt16, mask: UInt8)
        /// Changes setup fields of a first message (mode 0...3, as the layout says).
        case tamperSetup(from: Side, index: UInt8, mode: UInt8, position: UInt16 = 0, mask: UInt8 = 0)
        case reload(Side)
        case reinitiate(bundle: UInt8)
        case bobInitiates
        case flush(from: Side)
    }

    /// The first bundles byte 0 can pick (indices into ``Fixtures/bobBundles``).
    static let firstBundles = [0, 2, 3, 4]

    /// The bytes of a script (the corpus generator writes these). `firstBundle`
    /// is 0...3 as byte 0's bits 0-1 (0: one-time prekey and one-time KEM
    /// prekey, 1: one-time prekey and last-resort KEM prekey, 2: one-time KEM
    /// prekey only, 3: last-resort KEM prekey only).
    public static func script(firstBundle: Int = 0, classical: Bool = false, _ actions: [Action]) -> [UInt8] {
        var out: [UInt8] = [UInt8(firstBundle & 3) | (classical ? 4 : 0)]
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
            case .tamperSetup(let s, let i, let mode, let position, let mask):
                op(4, s.rawValue | Int(mode & 3) << 1 | 8)
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

    /// Alice's first session for each choice of byte 0 (PQXDH, then classical), made once.
    static let firstSessions: [Session] = [false, true].flatMap { classical in
        firstBundles.map { i in Fixtures.initiatorSession(PQCapture.bobLabel(i), classical: classical) }
    }

    /// Filler for a KEM ciphertext added to a classical message.
    static let fillerCiphertext: [UInt8] = {
        let r = DeterministicRandom(seed: "interaction filler ciphertext")
        return (0..<(MLKEM.ciphertextByteCount / 32)).flatMap { _ in r.bytes(32) }
    }()

    struct Run {
        let c: Checker
        /// Classical X3DH on both sides (byte 0 bit 2), else PQXDH.
        let classical: Bool
        var parties: [Party]
        var sent: [Sent] = []
        /// Undelivered message indices (into `sent`) per sender, in send order.
        var queues: [[Int]] = [[], []]
        /// Bob's bundles 0...3 used in this run (each holds a one-time key).
        var usedBundles: Set<Int>
        /// Sessions started to Bob's last-resort bundle 4, and by Bob.
        var lastResortSessions: Int
        var bobSessions = 0
        var reinitiations = 0

        init(_ byte0: UInt8, _ c: Checker) {
            self.c = c
            classical = byte0 & 4 != 0
            let choice = Int(byte0 & 3)
            let bundle = Interaction.firstBundles[choice]
            parties = [
                Party(sessions: SessionSet(current: Interaction.firstSessions[choice + (classical ? 4 : 0)]),
                      account: Fixtures.aliceAccount, random: DeterministicRandom(seed: "interaction alice")),
                Party(sessions: SessionSet(), account: Fixtures.bobAccount, random: DeterministicRandom(seed: "interaction bob")),
            ]
            usedBundles = bundle < 4 ? [bundle] : []
            lastResortSessions = bundle == 4 ? 1 : 0
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
            let allowClassical = classical
            return Result { () throws(ReceiveError) in
                try p.sessions.decrypt(wire, account: &p.account, random: p.random, allowClassical: allowClassical)
            }
        }

        /// Delivers the untampered, undelivered message `id`: it must decrypt to its plaintext.
        mutating func deliver(_ id: Int) throws(InvariantViolation) {
            let m = sent[id]
            precondition(!m.delivered, "harness bug: delivering a delivered message as new")
            let to = 1 - m.from.rawValue
            var first: PreKeyMessage?
            if case .preKey(let p)? = try? WireMessage(serialized: m.wire) { first = p }
            let sessionsBefore = parties[to].sessions
            let existing = first.map { p in
                (sessionsBefore.current.map { [$0] } ?? []).contains { $0.matches(p) } || sessionsBefore.archived.contains { $0.matches(p) }
            } ?? true
            let accountBefore = parties[to].account
            let result = receive(m.wire, to: to)
            switch result {
            case .success(let p):
                try c.require(p == m.plaintext, "message \(id) from \(m.from) decrypted to other bytes")
            case .failure(let e):
                throw c.fail("untampered message \(id) from \(m.from) was refused: \(e)")
            }
            sent[id].delivered = true
            let account = parties[to].account
            guard let p = first, !existing else {
                try c.require(account.serialized() == accountBefore.serialized(), "message \(id) to an existing session changed the account")
                return
            }
            // A new session: set up as the run says, consuming exactly what the message names (§2, §2b).
            guard let s = (parties[to].sessions.current.map { [$0] } ?? []).first(where: { $0.matches(p) })
                    ?? parties[to].sessions.archived.first(where: { $0.matches(p) }) else {
                throw c.fail("first message \(id) decrypted but left no session with its base key")
            }
            try c.require(s.isPostQuantum == !classical && p.isPostQuantum == !classical && s.kemPreKeyID == p.kem?.id,
                          "first message \(id) set up a \(s.isPostQuantum ? "PQXDH" : "classical") session in a \(classical ? "classical" : "PQXDH") run")
            let opks = Set(accountBefore.oneTimePreKeys.map(\.id)).subtracting(p.oneTimePreKeyID.map { [$0] } ?? [])
            let kems = accountBefore.oneTimeKEMPreKeys.map(\.id).filter { $0 != p.kem?.id }
            try c.require(Set(account.oneTimePreKeys.map(\.id)) == opks && account.oneTimeKEMPreKeys.map(\.id) == kems
                          && account.lastResortKEMPreKeys.map(\.id) == accountBefore.lastResortKEMPreKeys.map(\.id),
                          "first message \(id) consumed other prekeys than the one-time ones it names")
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

        /// A copy of the first message `wire` with setup fields changed (`mode`
        /// as the layout says), or nil if `wire` is not a first message.
        func setupTampered(_ wire: [UInt8], mode: Int, position: Int, mask: UInt8) -> [UInt8]? {
            guard wire.count > 1, wire[1] == MessageType.preKey.rawValue || wire[1] == MessageType.pqPreKey.rawValue else { return nil }
            let pq = wire[1] == MessageType.pqPreKey.rawValue
            let kemAt = ParserChecks.kemIDAt, ctAt = ParserChecks.ciphertextAt, headerAt = ParserChecks.pqHeaderAt
            let ciphertexts = sent.map(\.wire).filter { $0.count > headerAt && $0[1] == MessageType.pqPreKey.rawValue }
                .map { Array($0[ctAt..<headerAt]) }
            switch mode & 3 {
            case 0:
                return ParserChecks.withU32(wire, at: 70, 0xFFFF_FFFF)
            case 1:
                guard pq else { return nil }
                return ParserChecks.withU32(wire, at: kemAt, [1, 2, 3, 4, 99][position % 5])
            case 2:
                guard pq, !ciphertexts.isEmpty else { return nil }
                var out = wire
                out.replaceSubrange(ctAt..<headerAt, with: ciphertexts[position % ciphertexts.count])
                return out
            default:
                var out: [UInt8] = [wire[0], pq ? MessageType.preKey.rawValue : MessageType.pqPreKey.rawValue]
                out += wire[2..<kemAt]
                if pq {
                    out += wire[headerAt...]
                } else {
                    out += [0, 0, 0, mask]
                    out += ciphertexts.isEmpty ? Interaction.fillerCiphertext : ciphertexts[position % ciphertexts.count]
                    out += wire[kemAt...]
                }
                return out
            }
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
                let kind = original[1] == MessageType.ratchet.rawValue ? "RatchetMessage"
                    : original[1] == MessageType.pqPreKey.rawValue ? "PQPreKeyMessage" : "PreKeyMessage"
                if arg & 8 != 0 {
                    guard let wire = setupTampered(original, mode: arg >> 1, position: position, mask: mask), wire != original else { return }
                    try deliverRefused(wire, to: 1 - side.rawValue,
                                       what: "\(kind) \(id) from \(side) with setup fields changed (mode \((arg >> 1) & 3))")
                    return
                }
                let (wire, at) = tampered(original, mode: arg >> 1, position: position, mask: mask)
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
                    let label = PQCapture.aliceLabel(bobSessions)
                    bobSessions += 1
                    parties[1].sessions.promote(Fixtures.initiatorSession(label, classical: classical))
                    return
                }
                // Each bundle with a one-time key is used once; the last-resort bundle any number of times.
                var choice = 1 + (arg & 3)
                if choice == 4 || usedBundles.contains(choice) { choice = 4 }
                let label: String
                if choice == 4 {
                    label = PQCapture.bobLabel(4, lastResortSessions)
                    lastResortSessions += 1
                } else {
                    usedBundles.insert(choice)
                    label = PQCapture.bobLabel(choice)
                }
                parties[0].sessions.promote(Fixtures.initiatorSession(label, classical: classical))
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
        var run = Run(input.u8(), c)
        while !input.isAtEnd {
            let b = input.u8()
            try run.perform(b & 7, Int(b >> 3), &input)
        }
        try run.finish()
    }
}
