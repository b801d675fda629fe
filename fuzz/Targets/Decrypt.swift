import E2EE

/// The fixed recipient state the decrypt harness attacks, built by a scripted
/// conversation with deterministic randomness. Its record is committed as
/// `fuzz/decrypt/session.record` (and the account as `account.record`); the
/// corpus replay checks that the build still gives exactly those bytes.
///
/// The conversation leaves Bob's session with skipped keys on two chains of
/// Alice's, a partly used receiving chain and a sending chain of his own, so
/// that every branch of the receiving code has a valid message to start from:
///
///     Alice a0 a1 a2 (PQPreKeyMessages: PQXDH with one-time prekey 1 and
///     one-time KEM prekey 2, a captured session)
///                                              Bob receives a1 (skips a0), sends b0 b1
///     Alice receives b0, sends a3 a4 a5 a6     Bob receives a4 (skips a2, a3), sends b2
///     -- Bob's state is fixed here --
///     Alice receives b2, sends a7 a8 (a new chain)
///     Alice' starts a second session (PQXDH, last-resort KEM prekey, no one-time prekey), sends c0 c1
///     Alice'' starts a classical one (no one-time prekey), sends d0
///
/// and copies that must be refused: a2 with a ciphertext byte flipped, a2
/// without its KEM part (a classical message with the same fields), c0 with
/// a ciphertext byte flipped.
public enum DecryptFixture {
    /// What the fixed session must do with a fixture message.
    public enum Expect: Sendable, Equatable {
        case plaintext([UInt8])
        /// Refused by the session itself (already received, Bob's own, or another session's).
        case refused
    }

    public struct Message: Sendable {
        public let name: String
        public let wire: [UInt8]
        public let expect: Expect
    }

    public struct Built: Sendable {
        public let session: Session
        public let sessionRecord: [UInt8]
        public let account: Account
        public let accountRecord: [UInt8]
        public let messages: [Message]
    }

    public static let built: Built = build()

    static func build() -> Built {
        let ra = DeterministicRandom(seed: "decrypt fixture alice")
        let rb = DeterministicRandom(seed: "decrypt fixture bob")
        var alice = PQCapture.session(PQCapture.bobLabel(0))
        var account = Fixtures.bobAccount
        func a(_ name: String) -> [UInt8] { try! alice.encrypt(Array(name.utf8), random: ra) }

        let a0 = a("a0"), a1 = a("a1"), a2 = a("a2")
        var (bob, _) = try! account.acceptSession(from: a1, random: rb)
        func b(_ name: String) -> [UInt8] { try! bob.encrypt(Array(name.utf8), random: rb) }
        let b0 = b("b0"), b1 = b("b1")
        _ = try! alice.decrypt(b0, random: ra)
        let a3 = a("a3"), a4 = a("a4"), a5 = a("a5"), a6 = a("a6")
        _ = try! bob.decrypt(a4, random: rb)
        let b2 = b("b2")
        let fixed = bob
        _ = try! alice.decrypt(b2, random: ra)
        let a7 = a("a7"), a8 = a("a8")

        let rc = DeterministicRandom(seed: "decrypt fixture alice 2")
        var other = PQCapture.session(PQCapture.bobLabel(4))
        let c0 = try! other.encrypt(Array("c0".utf8), random: rc)
        let c1 = try! other.encrypt(Array("c1".utf8), random: rc)
        let rd = DeterministicRandom(seed: "decrypt fixture alice 3")
        var classical = try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobClassicalBundles[3], random: rd,
                                              allowClassical: true)
        let d0 = try! classical.encrypt(Array("d0".utf8), random: rd)

        func flipCiphertext(_ wire: [UInt8]) -> [UInt8] {
            var out = wire
            out[ParserChecks.ciphertextAt + 700] ^= 0x20
            return out
        }
        var a2Classical: [UInt8] = [a2[0], MessageType.preKey.rawValue]
        a2Classical += a2[2..<ParserChecks.kemIDAt]
        a2Classical += a2[ParserChecks.pqHeaderAt...]

        func ok(_ name: String, _ wire: [UInt8]) -> Message { Message(name: name, wire: wire, expect: .plaintext(Array(name.utf8))) }
        func no(_ name: String, _ wire: [UInt8]) -> Message { Message(name: name, wire: wire, expect: .refused) }
        let messages = [
            ok("a0", a0), no("a1", a1), ok("a2", a2), ok("a3", a3), no("a4", a4), ok("a5", a5), ok("a6", a6),
            ok("a7", a7), ok("a8", a8), no("b0", b0), no("b1", b1), no("b2", b2), no("c0", c0), no("c1", c1),
            no("d0-classical", d0), no("a2-ct-flipped", flipCiphertext(a2)), no("a2-without-kem-part", a2Classical),
            no("c0-ct-flipped", flipCiphertext(c0)),
        ]
        return Built(session: fixed, sessionRecord: fixed.serialized(), account: account,
                     accountRecord: account.serialized(), messages: messages)
    }
}

enum DecryptChecks {
    /// Feeds `data` as a message to the fixed session, directly and through a
    /// ``SessionSet`` holding it with the fixed account. Asserts:
    /// - a failed decryption leaves session, set and account byte-for-byte unchanged;
    /// - a successful one changes the session, and the same bytes are then refused
    ///   (with nothing changed again);
    /// - both routes agree on every message that belongs to the session;
    /// - the fixture messages decrypt to their plaintexts or are refused, as scripted;
    /// - every state reached re-serialises idempotently.
    static func decrypt(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let fx = DecryptFixture.built

        var session = fx.session
        let direct = Result { () throws(DecryptError) in try session.decrypt(data, random: DeterministicRandom(seed: "decrypt")) }
        switch direct {
        case .failure(let e):
            try c.require(session.serialized() == fx.sessionRecord, "a failed decryption (\(e)) changed the session")
        case .success(let plaintext):
            let after = session.serialized()
            try c.require(after != fx.sessionRecord, "a successful decryption left the session as it was: it would accept a replay")
            try c.require(plaintext.count <= Limits.defaultMaxPlaintext, "a plaintext above the limit")
            let replay = Result { () throws(DecryptError) in try session.decrypt(data, random: DeterministicRandom(seed: "replay")) }
            if case .success = replay { throw c.fail("the same message decrypted twice") }
            try c.require(session.serialized() == after, "a refused replay changed the session")
            try ParserChecks.recordRoundTrip(after, Session.init(serialized:), { $0.serialized() }, c)
        }

        if let known = fx.messages.first(where: { $0.wire == data }) {
            switch (known.expect, direct) {
            case (.plaintext(let p), .success(let q)):
                try c.require(p == q, "fixture message \(known.name) decrypted to other bytes")
            case (.plaintext, .failure(let e)):
                throw c.fail("fixture message \(known.name) was refused: \(e)")
            case (.refused, .success):
                throw c.fail("fixture message \(known.name) was accepted")
            case (.refused, .failure):
                break
            }
        }

        // The same message through session routing, with the account behind it.
        // PQXDH is the default: a classical first message for no session of the
        // set is refused (postQuantumRequired, nothing changed), then taken
        // with classical setup allowed.
        let message = try? WireMessage(serialized: data)
        let belongs: Bool
        var classicalFirst = false
        switch message {
        case .ratchet?: belongs = true
        case .preKey(let m)?:
            belongs = m.baseKey == fx.session.baseKey
            classicalFirst = !belongs && !m.isPostQuantum
            if case .success = direct {
                // §2b: the setup fields of a first message routed to its session are not malleable.
                guard case .preKey(let genuine)? = try? WireMessage(serialized: fx.messages[0].wire) else {
                    throw c.fail("fixture message a0 is not a PreKeyMessage")
                }
                try c.require(m.identityKey == genuine.identityKey && m.signedPreKeyID == genuine.signedPreKeyID
                              && m.oneTimePreKeyID == genuine.oneTimePreKeyID && m.kem == genuine.kem,
                              "a first message with other setup fields than the session's was decrypted by it")
            }
        case .senderKey?, .senderKeyDistribution?, .groupUpdate?, nil: belongs = false
        }
        var set = SessionSet(current: fx.session)
        let setRecord = set.serialized()
        var account = fx.account
        if classicalFirst {
            let refused = Result { () throws(ReceiveError) in
                try set.decrypt(data, account: &account, random: DeterministicRandom(seed: "decrypt"))
            }
            guard case .failure(let e) = refused, e == .setup(.postQuantumRequired) else {
                throw c.fail("a classical first message was not refused with postQuantumRequired by default: \(refused)")
            }
            try c.require(set.serialized() == setRecord && account.serialized() == fx.accountRecord,
                          "a classical first message refused by default changed the set or the account")
        }
        let routed = Result { () throws(ReceiveError) in
            try set.decrypt(data, account: &account, random: DeterministicRandom(seed: "decrypt"), allowClassical: classicalFirst)
        }
        switch routed {
        case .failure(let e):
            try c.require(set.serialized() == setRecord, "a refused message (\(e)) changed the session set")
            try c.require(account.serialized() == fx.accountRecord, "a refused message (\(e)) changed the account")
            if case .success = direct { throw c.fail("the session decrypted a message that its session set refused (\(e))") }
        case .success(let plaintext):
            if belongs {
                guard case .success(let p) = direct else { throw c.fail("the session set decrypted a message its session refused") }
                try c.require(p == plaintext, "session and session set decrypted to different plaintexts")
                try c.require(set.current?.serialized() == session.serialized() && set.archived.isEmpty,
                              "session and session set reached different states")
                try c.require(account.serialized() == fx.accountRecord, "a message of an existing session changed the account")
            } else {
                // A new first message: a new current session, the fixed one archived.
                guard case .preKey(let m)? = message else { throw c.fail("a non-PreKeyMessage started a session") }
                try c.require(set.current?.baseKey == m.baseKey && set.archived.count == 1
                              && set.archived[0].serialized() == fx.sessionRecord,
                              "a new session was not made current with the old one archived")
                try c.require(set.current?.isPostQuantum == m.isPostQuantum && set.current?.kemPreKeyID == m.kem?.id,
                              "a new session's setup does not match its first message")
                let consumed = Set(fx.account.oneTimePreKeys.map(\.id)).subtracting(account.oneTimePreKeys.map(\.id))
                try c.require(consumed == Set(m.oneTimePreKeyID.map { [$0] } ?? []),
                              "a new session consumed other one-time prekeys than the one named")
                try c.require(account.oneTimeKEMPreKeys.map(\.id) == fx.account.oneTimeKEMPreKeys.map(\.id).filter { $0 != m.kem?.id }
                              && account.lastResortKEMPreKeys.map(\.id) == fx.account.lastResortKEMPreKeys.map(\.id),
                              "a new session consumed other KEM prekeys than the one-time one named")
            }
            try ParserChecks.recordRoundTrip(set.serialized(), SessionSet.init(serialized:), { $0.serialized() }, c)
            try ParserChecks.recordRoundTrip(account.serialized(), Account.init(serialized:), { $0.serialized() }, c)
        }
    }
}
