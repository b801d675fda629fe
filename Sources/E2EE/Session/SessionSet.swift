/// Why an incoming message was not received by a ``SessionSet``.
public enum ReceiveError: Error, Equatable, Sendable {
    /// A PreKeyMessage that opened no existing session and could not start one.
    case setup(SessionSetupError)
    /// A message for an existing session that did not decrypt.
    case decrypt(DecryptError)
}

/// All sessions with one peer device: the current one and up to
/// ``Limits/maxArchivedSessions`` older ones, newest first. Incoming messages
/// are routed here (PROTOCOL.md §2): a PreKeyMessage by its base key, a
/// RatchetMessage by its ratchet key (to the session that knows it, or for an
/// unknown key to the sessions that can take a DH ratchet step); the session
/// that decrypts it becomes current. However many sessions there are, a
/// message costs at most one full attempt (MAX_SKIP + 1 chain steps), plus one
/// X25519 per other candidate, their chain steps sharing a budget of MAX_SKIP.
public struct SessionSet: Sendable {
    /// The session new messages are sent on, if any.
    public internal(set) var current: Session?
    /// Older sessions, newest first, kept to decrypt messages still in flight.
    public internal(set) var archived: [Session]

    /// A set from sessions; at most ``Limits/maxArchivedSessions`` archived ones are kept.
    public init(current: Session? = nil, archived: [Session] = []) {
        self.current = current
        self.archived = Array(archived.prefix(Limits.maxArchivedSessions))
    }

    /// Makes `session` current, archiving the previous current one.
    public mutating func promote(_ session: Session) {
        if let old = current { archived.insert(old, at: 0) }
        if archived.count > Limits.maxArchivedSessions { archived.removeLast(archived.count - Limits.maxArchivedSessions) }
        current = session
    }

    /// Encrypts with the current session.
    public mutating func encrypt(_ plaintext: [UInt8], random: any RandomSource = .system) throws(EncryptError) -> [UInt8] {
        guard var s = current else { throw .noSendingChain }
        let out = try s.encrypt(plaintext, random: random)
        current = s
        return out
    }

    /// Receives one message. A PreKeyMessage with a new base key starts a new
    /// session through `account` (consuming its one-time prekeys only on
    /// success; a classical one only with `allowClassical`). On any error
    /// neither the sessions nor the account change.
    public mutating func decrypt(_ bytes: [UInt8], account: inout Account, maxPlaintext: Int = Limits.defaultMaxPlaintext,
                                 random: any RandomSource = .system, now: UInt64 = 0,
                                 allowClassical: Bool = false) throws(ReceiveError) -> [UInt8] {
        let message: WireMessage
        do { message = try WireMessage(serialized: bytes, maxPlaintext: maxPlaintext) } catch {
            throw .decrypt(.malformed(error))
        }
        return try decrypt(message, account: &account, random: random, now: now, allowClassical: allowClassical)
    }

    /// As ``decrypt(_:account:maxPlaintext:random:now:allowClassical:)`` for a
    /// parsed message: routed to an existing session, or, for a PreKeyMessage
    /// no session was made from, a new session through `account`.
    public mutating func decrypt(_ message: WireMessage, account: inout Account, random: any RandomSource = .system,
                                 now: UInt64 = 0, allowClassical: Bool = false) throws(ReceiveError) -> [UInt8] {
        if let first = newSessionMessage(message) {
            return try accept(first, account: &account, random: random, now: now, allowClassical: allowClassical)
        }
        return try decryptExisting(message, random: random)
    }

    /// The PreKeyMessage if `message` would start a new session (no session
    /// here was made from its base key), else nil: only then is an account needed.
    public func newSessionMessage(_ message: WireMessage) -> PreKeyMessage? {
        guard case .preKey(let m) = message, index(where: { $0.matches(m) }) == nil else { return nil }
        return m
    }

    /// Starts a session from a first message through `account` and places it
    /// (current, unless a simultaneous initiation keeps ours). On error neither the sessions nor the account change.
    public mutating func accept(_ message: PreKeyMessage, account: inout Account, random: any RandomSource = .system,
                                now: UInt64 = 0, allowClassical: Bool = false) throws(ReceiveError) -> [UInt8] {
        do {
            let (session, plaintext) = try account.acceptSession(from: message, random: random, now: now,
                                                                allowClassical: allowClassical)
            adopt(session)
            return plaintext
        } catch {
            throw .setup(error)
        }
    }

    /// Decrypts a message with the session it is routed to: a PreKeyMessage by
    /// its base key, a RatchetMessage by its ratchet key. Never creates a
    /// session: a PreKeyMessage no session was made from is ``DecryptError/noSession``.
    public mutating func decryptExisting(_ message: WireMessage, random: any RandomSource = .system) throws(ReceiveError) -> [UInt8] {
        switch message {
        case .preKey(let m):
            // A PreKeyMessage never promotes an archived session: only a reply proves
            // the peer uses it (below), and promotion here would undo the tie-break.
            guard let i = index(where: { $0.matches(m) }) else { throw .decrypt(.noSession) }
            return try decrypt(message, at: i, random: random, promoting: false)
        case .ratchet(let m):
            // Routed, not tried everywhere (a forged message must not cost 41
            // sessions' work): a session that knows the ratchet key takes it.
            let h = m.payload.header
            if let slot = index(where: { $0.ratchet.knows(ratchetKey: h.ratchetKey) }) {
                return try decrypt(message, at: slot, random: random, promoting: true)
            }
            // An unknown key: one full attempt, by the first session the peer
            // can have ratcheted onto (else the current one)…
            let candidates = (0...archived.count).filter { slot in
                (slot == 0 ? current : archived[slot - 1])?.ratchet.couldBeSteppedBy(h) ?? false
            }
            guard let first = candidates.first ?? index(where: { _ in true }) else { throw .decrypt(.noSession) }
            var firstError: ReceiveError
            do { return try decrypt(message, at: first, random: random, promoting: true) } catch { firstError = error }
            // …and the other sessions that can take the step too, sharing a
            // budget of MAX_SKIP chain steps (one X25519 and N + 1 steps each):
            // a reply to a session we left decrypts, and a forged message costs
            // one full attempt and at most that much more.
            var budget = Int(Limits.maxSkip)
            for slot in candidates.dropFirst() {
                let cost = Int(h.counter) + 1
                guard cost <= budget else { break }
                budget -= cost
                do { return try decrypt(message, at: slot, random: random, promoting: true) } catch {}
            }
            throw firstError
        case .senderKey, .senderKeyDistribution, .groupUpdate:
            throw .decrypt(.malformed(.unexpectedType(message.type.rawValue)))
        }
    }

    /// Slot 0 is the current session, slot i > 0 is `archived[i - 1]`.
    private func index(where match: (Session) -> Bool) -> Int? {
        if let c = current, match(c) { return 0 }
        return archived.firstIndex(where: match).map { $0 + 1 }
    }

    private mutating func decrypt(_ message: WireMessage, at slot: Int, random: any RandomSource,
                                  promoting: Bool) throws(ReceiveError) -> [UInt8] {
        var s = slot == 0 ? current! : archived[slot - 1]
        let plaintext: [UInt8]
        do { plaintext = try s.decrypt(message, random: random) } catch { throw .decrypt(error) }
        if slot == 0 {
            current = s
        } else if promoting {
            archived.remove(at: slot - 1)
            promote(s)
        } else {
            archived[slot - 1] = s
        }
        return plaintext
    }

    /// Places a session just created from the peer's PreKeyMessage. Normally it
    /// becomes current. If both sides initiated at once (our current session
    /// still awaits its first reply), both sides must pick the same pair: the
    /// one whose base key `EK_A` is smaller, byte for byte. Each side knows both
    /// base keys, so the rule converges without a round trip; the other session
    /// stays archived and can still decrypt what was already sent on it.
    mutating func adopt(_ session: Session) {
        if let mine = current, mine.role == .initiator, mine.awaitingReply,
           !session.baseKey.rawRepresentation.lexicographicallyPrecedes(mine.baseKey.rawRepresentation) {
            archived.insert(session, at: 0)
            if archived.count > Limits.maxArchivedSessions { archived.removeLast() }
        } else {
            promote(session)
        }
    }
}
