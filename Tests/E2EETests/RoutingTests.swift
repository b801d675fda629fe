import Testing
@testable import E2EE

/// Forty-one sessions between one initiator and one recipient, as the
/// recipient's ``SessionSet`` holds them (current + 40 archived), each with a
/// DH ratchet step done both ways and one message held back on the
/// initiator's latest chain (a skipped key on the recipient's side).
struct ManySessions {
    var recipient = Account()
    var set = SessionSet()
    /// The initiator's side of each session, oldest first.
    var initiators = [Session]()
    /// One message per session, sent but not delivered (oldest session first).
    var held = [[UInt8]]()

    init(count: Int = Limits.maxArchivedSessions + 1) throws {
        let identity = IdentityKey.PrivateKey()
        for i in 0..<count {
            var a = try Session.initiate(identity: identity, bundle: recipient.publishBundle())
            #expect(try set.decrypt(a.encrypt(Array("s\(i)".utf8)), account: &recipient) == Array("s\(i)".utf8))
            #expect(try a.decrypt(set.encrypt(Array("r\(i)".utf8))) == Array("r\(i)".utf8))
            held.append(try a.encrypt(Array("held \(i)".utf8)))
            #expect(try set.decrypt(a.encrypt(Array("t\(i)".utf8)), account: &recipient) == Array("t\(i)".utf8))
            initiators.append(a)
        }
    }

    /// A forged message for the worst case: a fresh ratchet key, PN = Nr + 1000
    /// (the receive counter of the current session plus MAX_SKIP), N = 1000.
    func forged() throws -> [UInt8] {
        let current = try #require(set.current)
        var header = [UInt8]()
        MessageHeader(ratchetKey: X25519.PrivateKey().publicKey,
                      previousCounter: current.ratchet.receiveCounter + Limits.maxSkip,
                      counter: Limits.maxSkip).encode(into: &header)
        return [WireMessage.version, MessageType.ratchet.rawValue] + header + [UInt8](repeating: 0x5A, count: 4 + 10 + 16)
    }
}

@Suite("Routing among a peer's sessions")
struct RoutingTests {
    /// Today's worst case was one forged message tried by all 41 sessions, each
    /// storing up to 2000 keys and doing three X25519 before the tag. Now: one
    /// X25519, MAX_SKIP + 1 chain steps, nothing stored, nothing changed.
    @Test func aForgedMessageCostsOneSessionsBoundedWork() throws {
        var s = try ManySessions()
        // A session that has not sent since its last DH ratchet step cannot
        // meet a newer remote key: refused before any work.
        let pendingWork = RatchetWork()
        let forgedEarly = try s.forged()
        let untouched = s.set.serialized()
        #expect(throws: ReceiveError.decrypt(.authenticationFailure)) {
            try RatchetWork.$current.withValue(pendingWork) { try s.set.decrypt(forgedEarly, account: &s.recipient) }
        }
        #expect(pendingWork.diffieHellmans == 0 && pendingWork.chainSteps == 0 && s.set.serialized() == untouched)
        // The worst case: the current session has sent under its new key.
        _ = try s.set.encrypt([0])
        let before = s.set.serialized()
        let forged = try s.forged()
        let work = RatchetWork()
        #expect(throws: ReceiveError.decrypt(.authenticationFailure)) {
            try RatchetWork.$current.withValue(work) { try s.set.decrypt(forged, account: &s.recipient) }
        }
        #expect(work.diffieHellmans == 1)
        #expect(work.chainSteps == Int(Limits.maxSkip) + 1)
        #expect(work.storedKeys == 0)
        #expect(s.set.serialized() == before)
        // Under a ratchet key a session knows (the current receiving one), no DH at all.
        var onKnown = forged
        let known = try #require(s.set.current?.ratchet.receivingRatchetKey).rawRepresentation
        onKnown.replaceSubrange(2..<34, with: known)
        let work2 = RatchetWork()
        #expect(throws: ReceiveError.self) {
            try RatchetWork.$current.withValue(work2) { try s.set.decrypt(onKnown, account: &s.recipient) }
        }
        #expect(work2.diffieHellmans == 0 && work2.storedKeys == 0 && work2.chainSteps <= Int(Limits.maxSkip) + 1)
        #expect(s.set.serialized() == before)
    }

    /// A genuine message still pays for what it stores, after it authenticated.
    @Test func aGenuineMessageStoresItsSkippedKeysAfterAuthenticating() throws {
        var s = try ManySessions(count: 2)
        var a = s.initiators[1]
        _ = try a.encrypt([1]); _ = try a.encrypt([2])
        let third = try a.encrypt([3])
        let work = RatchetWork()
        let plaintext = try RatchetWork.$current.withValue(work) { try s.set.decrypt(third, account: &s.recipient) }
        #expect(plaintext == [3])
        #expect(work.diffieHellmans == 0 && work.storedKeys == 2 && work.chainSteps == 3 + 2)
        // A reply with a new ratchet key: one X25519 for the receiving chain;
        // our new sending chain (the other) waits for our next send.
        _ = try a.decrypt(s.set.encrypt([4]))
        let reply = try a.encrypt([5])
        let work2 = RatchetWork()
        #expect(try RatchetWork.$current.withValue(work2) { try s.set.decrypt(reply, account: &s.recipient) } == [5])
        #expect(work2.diffieHellmans == 1)
        let work3 = RatchetWork()
        let answer = try RatchetWork.$current.withValue(work3) { try s.set.encrypt([6]) }
        #expect(work3.diffieHellmans == 1)
        #expect(try a.decrypt(answer) == [6])
    }

    /// Messages of archived sessions are routed by the ratchet keys those
    /// sessions know: held (skipped) keys and chains in progress still decrypt,
    /// and the session becomes current.
    @Test func archivedSessionsStillDecrypt() throws {
        var s = try ManySessions()
        for i in [0, 7, 39] {
            let work = RatchetWork()
            let pt = try RatchetWork.$current.withValue(work) { try s.set.decrypt(s.held[i], account: &s.recipient) }
            #expect(pt == Array("held \(i)".utf8))
            #expect(work.diffieHellmans == 0)
            #expect(s.set.current?.baseKey == s.initiators[i].baseKey)
            var a = s.initiators[i]
            let next = try a.encrypt(Array("next \(i)".utf8))
            s.initiators[i] = a
            #expect(try s.set.decrypt(next, account: &s.recipient) == Array("next \(i)".utf8))
        }
        #expect(s.set.archived.count == Limits.maxArchivedSessions)
        // Replays are duplicates in their own session.
        #expect(throws: ReceiveError.decrypt(.duplicate(index: 0))) { try s.set.decrypt(s.held[7], account: &s.recipient) }
    }

    /// An unknown ratchet key goes to the sessions the peer can have ratcheted
    /// onto (ones that sent under their current ratchet key), the first with a
    /// full attempt, the others sharing a budget of MAX_SKIP chain steps: a
    /// genuine reply to a session we left decrypts, and a forged message costs
    /// one session's work plus one X25519 per other candidate and that budget.
    @Test func aNewRatchetKeyGoesToTheSessionsThatCanTakeIt() throws {
        var s = try ManySessions(count: 3)
        // Every recipient session has just stepped its ratchet and sent nothing since.
        #expect(s.set.current.map { $0.ratchet.sendCounter } == 0 && s.set.archived.allSatisfy { $0.ratchet.sendCounter == 0 })
        // Session 0 becomes current (a held message), the recipient writes on it, the initiator replies with a new key.
        _ = try s.set.decrypt(s.held[0], account: &s.recipient)
        var a0 = s.initiators[0]
        _ = try a0.decrypt(s.set.encrypt(Array("to 0".utf8)))
        let reply0 = try a0.encrypt(Array("reply on 0".utf8))
        for _ in 0..<(Limits.maxSkip - 1) { _ = try a0.encrypt([0]) }
        let late0 = try a0.encrypt(Array("late on 0".utf8))       // N = MAX_SKIP: N + 1 steps exceed the budget
        // Session 2 becomes current (its held message) but has sent nothing under its key.
        _ = try s.set.decrypt(s.held[2], account: &s.recipient)
        #expect(s.set.current?.baseKey == s.initiators[2].baseKey)
        var otherwise = s.set
        let work = RatchetWork()
        let pt = try RatchetWork.$current.withValue(work) { try s.set.decrypt(reply0, account: &s.recipient) }
        #expect(pt == Array("reply on 0".utf8) && work.diffieHellmans == 1)   // session 2 is no candidate
        #expect(s.set.current?.baseKey == s.initiators[0].baseKey)
        // Had session 2 sent too, it tries first; session 0 tries next, within the budget.
        _ = try otherwise.encrypt([0])
        var early = otherwise
        let work2 = RatchetWork()
        #expect(try RatchetWork.$current.withValue(work2) { try early.decrypt(reply0, account: &s.recipient) }
                == Array("reply on 0".utf8))
        #expect(work2.diffieHellmans == 1 + 1 && early.current?.baseKey == s.initiators[0].baseKey)
        // Past the budget only the first candidate tries: such a reply is lost, as the bound requires.
        let work3 = RatchetWork()
        #expect(throws: ReceiveError.decrypt(.authenticationFailure)) {
            try RatchetWork.$current.withValue(work3) { try otherwise.decrypt(late0, account: &s.recipient) }
        }
        #expect(work3.diffieHellmans == 1)
    }
}

/// The initiator's side after starting 41 sessions with one recipient, none
/// answered yet (a lost reply, started again and again).
struct ManyUnanswered {
    var set = SessionSet()
    var account = Account()
    var recipient = Account()
    var firstMessages = [[UInt8]]()

    init() throws {
        let identity = IdentityKey.PrivateKey()
        account = Account(identity: identity)
        for i in 0...Limits.maxArchivedSessions {
            var s = try Session.initiate(identity: identity, bundle: recipient.publishBundle())
            firstMessages.append(try s.encrypt(Array("first \(i)".utf8)))
            set.promote(s)
        }
    }
}

extension RoutingTests {
    /// What can only be a first reply is also tried by every session awaiting
    /// one (PROTOCOL-NOTES: a reply to an earlier session in flight while the
    /// initiator started again) — one X25519 and at most 17 chain steps each.
    @Test func aFirstReplyReachesAnySessionAwaitingOne() throws {
        var s = try ManyUnanswered()
        #expect(s.set.archived.count == Limits.maxArchivedSessions)
        // The recipient answers the oldest session, whose first message arrived last.
        var (oldest, hello) = try s.recipient.acceptSession(from: s.firstMessages[0])
        #expect(hello == Array("first 0".utf8))
        let work = RatchetWork()
        let reply = try oldest.encrypt(Array("reply".utf8))
        let pt = try RatchetWork.$current.withValue(work) { try s.set.decrypt(reply, account: &s.account) }
        #expect(pt == Array("reply".utf8))
        // Each tried once; the new sending chain waits for the next send.
        #expect(work.diffieHellmans == Limits.maxArchivedSessions + 1)
        #expect(s.set.current?.baseKey == oldest.baseKey && s.set.current?.awaitingReply == false)
    }

    /// The worst forged message for an initiator: PN = 0 (what a first reply
    /// carries) against 41 sessions awaiting a reply, N as large as lets all 41
    /// try within the shared budget. Bounded, nothing stored, nothing changed;
    /// one step more and fewer sessions try.
    @Test func aForgedFirstReplyCostsAtMostOneDiffieHellmanPerSession() throws {
        var s = try ManyUnanswered()
        let before = s.set.serialized()
        func forged(n: UInt32) -> [UInt8] {
            var header = [UInt8]()
            MessageHeader(ratchetKey: X25519.PrivateKey().publicKey, previousCounter: 0, counter: n).encode(into: &header)
            return [WireMessage.version, MessageType.ratchet.rawValue] + header + [UInt8](repeating: 0x5A, count: 30)
        }
        let sessions = Limits.maxArchivedSessions + 1
        let n = Limits.maxSkip / UInt32(sessions - 1) - 1          // 24: the 40 others fit the budget
        let work = RatchetWork()
        #expect(throws: ReceiveError.decrypt(.authenticationFailure)) {
            try RatchetWork.$current.withValue(work) { try s.set.decrypt(forged(n: n), account: &s.account) }
        }
        #expect(work.diffieHellmans == sessions && work.chainSteps == sessions * Int(n + 1))
        #expect(work.storedKeys == 0 && s.set.serialized() == before)
        let beyond = RatchetWork()
        #expect(throws: ReceiveError.decrypt(.authenticationFailure)) {
            try RatchetWork.$current.withValue(beyond) { try s.set.decrypt(forged(n: n + 1), account: &s.account) }
        }
        #expect(beyond.diffieHellmans == 1 + Int(Limits.maxSkip) / Int(n + 2))
        #expect(beyond.chainSteps <= Int(n + 2) + Int(Limits.maxSkip))
        #expect(s.set.serialized() == before)
    }
}
