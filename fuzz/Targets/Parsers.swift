import E2EE

// Harnesses for the parsers of attacker-controlled bytes (PROTOCOL.md §1, §4)
// and of stored records (§6). Every input must either parse or fail with a
// typed error whose details are consistent with the input; whatever parses
// must serialise back (exactly for wire formats, idempotently for records)
// and must be usable without a trap.

enum ParserChecks {
    // MARK: PreKeyBundle

    static func bundle(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let bundle: PreKeyBundle
        do { bundle = try PreKeyBundle(serialized: data) } catch {
            try checkWireError(error, data, c)
            return
        }
        try c.require(bundle.serialized == data, "a parsed bundle re-serialises to other bytes")
        try c.require((try? PreKeyBundle(serialized: bundle.serialized)) == bundle, "a bundle does not re-parse to itself")
        try c.require((data[1] & 0x01 != 0) == (bundle.oneTimePreKey != nil), "flag bit 0 and the one-time prekey disagree")
        try c.require((data[1] & 0x02 != 0) == (bundle.kemPreKey != nil), "flag bit 1 and the KEM prekey disagree")
        try c.require(bundle.identityKey.rawRepresentation == Array(data[2..<34]), "identity key is not the bytes at 2..<34")
        try c.require(bundle.signedPreKey.rawRepresentation == Array(data[38..<70]), "signed prekey is not the bytes at 38..<70")

        // The signature covers Encode(SPK) only, so mutated ids keep it valid:
        // session setup is reached often. PQXDH is the default (§2b): a
        // verified bundle without a KEM prekey is refused unless classical
        // setup is allowed; one with a KEM prekey is never used for X3DH.
        // Either way the first message names exactly this bundle's keys.
        func setup(allowClassical: Bool) -> Result<Session, SessionSetupError> {
            Result { () throws(SessionSetupError) in
                try Session.initiate(identity: Fixtures.alice, bundle: bundle, random: DeterministicRandom(seed: "bundle"),
                                     allowClassical: allowClassical)
            }
        }
        var session: Session
        switch (bundle.verifySignatures(), setup(allowClassical: false)) {
        case (false, .success):
            throw c.fail("a bundle with a bad signature started a session")
        case (false, .failure(let e)):
            try c.require(e == .invalidSignature, "a bad signature was reported as \(e)")
            return
        case (true, .failure(let e)) where bundle.kemPreKey == nil:
            try c.require(e == .postQuantumRequired, "a verified classical bundle was refused with \(e), not postQuantumRequired")
            switch setup(allowClassical: true) {
            case .success(let s): session = s
            case .failure(let e):
                // Keys were validated by the parser; only an all-zero DH may remain.
                try c.require(e == .weakKey, "a verified classical bundle failed an allowed setup with \(e)")
                return
            }
        case (true, .failure(let e)):
            try c.require(e == .weakKey, "a verified bundle failed setup with \(e)")
            return
        case (true, .success(let s)):
            try c.require(bundle.kemPreKey != nil, "a classical bundle started a session without allowClassical")
            session = s
        }
        try c.require(session.isPostQuantum == (bundle.kemPreKey != nil), "a bundle's KEM part and the session's setup disagree")
        try c.require(session.awaitingReply && session.role == .initiator, "a new session is not an initiator awaiting a reply")
        let wire: [UInt8]
        do { wire = try session.encrypt(Array("first".utf8), random: DeterministicRandom(seed: "bundle msg")) } catch {
            throw c.fail("a new session cannot encrypt: \(error)")
        }
        guard case .preKey(let m)? = try? WireMessage(serialized: wire) else {
            throw c.fail("the first message of a session is not a parseable PreKeyMessage")
        }
        try c.require(m.identityKey == Fixtures.alice.publicKey && m.baseKey == session.baseKey
                      && m.signedPreKeyID == bundle.signedPreKeyID && m.oneTimePreKeyID == bundle.oneTimePreKey?.id
                      && m.kem?.id == bundle.kemPreKey?.id && wire[1] == (bundle.kemPreKey == nil ? 0x02 : 0x05),
                      "the first message does not name the bundle's prekeys and the session's base key")
    }

    // MARK: Wire messages

    /// Checks shared by the PreKeyMessage and RatchetMessage harnesses.
    /// Returns the parsed message, if any.
    @discardableResult
    static func wireMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) -> WireMessage? {
        let small = 64
        let strict = Result { () throws(WireError) in try WireMessage(serialized: data, maxPlaintext: small) }
        let message: WireMessage
        do { message = try WireMessage(serialized: data) } catch {
            try checkWireError(error, data, c)
            // A tighter limit can never make a refused message acceptable.
            guard case .failure(let e2) = strict, e2 == error else {
                throw c.fail("input refused with \(error) under the default limit but not the same under \(small) bytes")
            }
            return nil
        }
        try c.require(message.serialized == data, "a parsed message re-serialises to other bytes")
        try c.require((try? WireMessage(serialized: message.serialized)) == message, "a message does not re-parse to itself")

        let prefix: Int
        let header: MessageHeader
        let sealedCount: Int
        switch message {
        case .ratchet(let m):
            try c.require(data[1] == MessageType.ratchet.rawValue, "type \(data[1]) parsed as a RatchetMessage")
            prefix = 2
            header = m.header
            sealedCount = m.payload.sealed.count
        case .preKey(let m):
            try c.require(data[1] == MessageType.preKey.rawValue, "type \(data[1]) parsed as a PreKeyMessage")
            prefix = 2 + 32 + 32 + 4 + 4
            header = m.header
            sealedCount = m.payload.sealed.count
            try c.require(m.identityKey.rawRepresentation == Array(data[2..<34]), "IK_A is not the bytes at 2..<34")
            try c.require(m.baseKey.rawRepresentation == Array(data[34..<66]), "EK_A is not the bytes at 34..<66")
            try c.require(m.signedPreKeyID.rawValue == u32(data, 66), "SPK_id is not the u32 at 66")
            let opk = u32(data, 70)
            try c.require(m.oneTimePreKeyID?.rawValue == (opk == 0xFFFF_FFFF ? nil : opk), "OPK_id is not the u32 at 70")
        }
        try c.require(header.ratchetKey.rawRepresentation == Array(data[prefix..<(prefix + 32)]), "DHs is not the bytes of the header")
        try c.require(header.previousCounter == u32(data, prefix + 32) && header.counter == u32(data, prefix + 36),
                      "PN or N is not the u32 of the header")
        try c.require(sealedCount == data.count - prefix - MessageHeader.byteCount, "sealed part is not the rest of the input")
        try c.require(sealedCount >= AEADv1.overhead, "sealed part shorter than guard and tag")
        try c.require(sealedCount - AEADv1.overhead <= Limits.defaultMaxPlaintext, "plaintext above the default limit accepted")
        switch strict {
        case .success(let m2):
            try c.require(m2 == message && sealedCount - AEADv1.overhead <= small, "the \(small)-byte limit was not applied")
        case .failure(let e2):
            try c.require(e2 == .tooLarge(size: sealedCount - AEADv1.overhead, max: small),
                          "the \(small)-byte limit refused with \(e2)")
        }
        return message
    }

    static func ratchetMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        try wireMessage(data, c)
    }

    /// Also hands every parsed PreKeyMessage to the fixed recipient account:
    /// a refused first message changes nothing, an accepted one consumes
    /// exactly the one-time prekey it names, and its base key only once (§2).
    static func preKeyMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        guard case .preKey(let m)? = try wireMessage(data, c) else { return }
        var account = Fixtures.bobAccount
        let before = Fixtures.bobAccountRecord
        let accepted = Result { () throws(SessionSetupError) in
            try account.acceptSession(from: m, random: DeterministicRandom(seed: "prekey"))
        }
        guard case .success(let (session, _)) = accepted else {
            try c.require(account.serialized() == before, "a refused first message changed the account")
            return
        }
        try c.require(session.role == .recipient && session.baseKey == m.baseKey && session.remoteIdentity == m.identityKey
                      && session.oneTimePreKeyID == m.oneTimePreKeyID && !session.awaitingReply,
                      "an accepted session does not match its first message")
        let left = Set(account.oneTimePreKeys.map(\.id))
        let had = Set(Fixtures.bobAccount.oneTimePreKeys.map(\.id))
        try c.require(left == had.subtracting(m.oneTimePreKeyID.map { [$0] } ?? []),
                      "accepting a session consumed other one-time prekeys than the one named")
        try recordRoundTrip(session.serialized(), Session.init(serialized:), { $0.serialized() }, c)
        // §2: the base key is accepted once per account. The same message, or
        // a copy with its one-time prekey id stripped (the bundle signature does
        // not cover it), starts no second session and changes nothing.
        try c.require(account.hasAccepted(baseKey: m.baseKey)
                      && account.acceptedBaseKeyCount == Fixtures.bobAccount.acceptedBaseKeyCount + 1,
                      "an accepted first message's base key was not recorded once")
        var stripped = data
        stripped.replaceSubrange(70..<74, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let afterFirst = account.serialized()
        for (what, bytes) in [("the same first message", data), ("the first message without its one-time prekey id", stripped)] {
            guard case .preKey(let replay)? = try? WireMessage(serialized: bytes) else {
                throw c.fail("\(what) does not parse")
            }
            var again = account
            let second = Result { () throws(SessionSetupError) in
                try again.acceptSession(from: replay, random: DeterministicRandom(seed: "prekey again"))
            }
            guard case .failure(let e) = second else { throw c.fail("\(what) was accepted twice") }
            try c.require(e == .baseKeyAlreadyAccepted, "\(what), replayed, was refused with \(e)")
            try c.require(again.serialized() == afterFirst, "a refused replay changed the account")
        }
    }

    // MARK: Records

    static func sessionRecord(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let session: Session
        do { session = try Session(serialized: data) } catch {
            try checkRecordError(error, data, c)
            return
        }
        let record = try recordRoundTrip(session.serialized(), Session.init(serialized:), { $0.serialized() }, c)
        try sessionUse(session, record: record, c)
    }

    static func sessionSetRecord(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let set: SessionSet
        do { set = try SessionSet(serialized: data) } catch {
            try checkRecordError(error, data, c)
            return
        }
        try c.require(set.archived.count <= Limits.maxArchivedSessions, "more archived sessions than the limit")
        let record = try recordRoundTrip(set.serialized(), SessionSet.init(serialized:), { $0.serialized() }, c)
        var copy = set
        let sent = Result { () throws(EncryptError) in
            try copy.encrypt(Array("set".utf8), random: DeterministicRandom(seed: "set record"))
        }
        switch sent {
        case .success(let wire):
            try checkOwnMessage(wire, from: set.current!, c)
            try recordRoundTrip(copy.serialized(), SessionSet.init(serialized:), { $0.serialized() }, c)
        case .failure(let e):
            try c.require(copy.serialized() == record, "a failed encryption changed the session set (\(e))")
        }
    }

    /// Account records hold no derived data besides keys, and every field has
    /// one encoding (varints reject overlong forms): a parsed record must
    /// re-serialise to exactly the input.
    static func accountRecord(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let account: Account
        do { account = try Account(serialized: data) } catch {
            try checkRecordError(error, data, c)
            return
        }
        try c.require(account.serialized() == data, "a parsed account re-serialises to other bytes")
        try c.require(account.unpublishedOneTimePreKeyCount >= 0, "more one-time prekeys published than held")
        var copy = account
        let bundle = copy.publishBundle()
        let stored = [bundle.signedPreKey] + (bundle.oneTimePreKey.map { [$0.publicKey] } ?? [])
        let openIssue = c.tolerates(.nonCanonicalStoredKey) && stored.contains { !isCanonical($0.rawRepresentation) }
        try c.require((try? PreKeyBundle(serialized: bundle.serialized)) == bundle || openIssue,
                      "a published bundle does not re-parse")
        try c.require(bundle.signedPreKeyID == account.currentSignedPreKey.id, "the bundle does not carry the current signed prekey")
        try recordRoundTrip(copy.serialized(), Account.init(serialized:), { $0.serialized() }, c)
    }

    // MARK: Shared checks

    /// A loaded session must be usable: encrypting either works and yields a
    /// message of the right kind, or fails and changes nothing.
    static func sessionUse(_ session: Session, record: [UInt8], _ c: Checker) throws(InvariantViolation) {
        var s = session
        let sent = Result { () throws(EncryptError) in
            try s.encrypt(Array("record".utf8), random: DeterministicRandom(seed: "session record"))
        }
        switch sent {
        case .success(let wire):
            guard let m = try checkOwnMessage(wire, from: session, c) else { return }
            switch m {
            case .preKey(let p):
                try c.require(session.awaitingReply && p.baseKey == session.baseKey, "a PreKeyMessage from a session not awaiting a reply")
            case .ratchet:
                try c.require(!session.awaitingReply, "a RatchetMessage from a session awaiting a reply")
            }
            try recordRoundTrip(s.serialized(), Session.init(serialized:), { $0.serialized() }, c)
        case .failure(let e):
            try c.require(s.serialized() == record, "a failed encryption changed the session (\(e))")
        }
    }

    /// A message a loaded session encrypted must parse, unless the record held
    /// an identity key that is not a valid point: records trust stored identity
    /// keys (validated when they first arrived; sealed at rest), so such a
    /// session sends PreKeyMessages that every peer refuses. Nothing else may
    /// make its output unparseable.
    @discardableResult
    static func checkOwnMessage(_ wire: [UInt8], from session: Session, _ c: Checker) throws(InvariantViolation) -> WireMessage? {
        do { return try WireMessage(serialized: wire) } catch {
            let trustedGarbage = (try? IdentityKey.PublicKey(rawRepresentation: session.localIdentity.rawRepresentation)) == nil
            if error == .invalidKey(field: "IK_A") && trustedGarbage { return nil }
            // The wire refuses non-canonical X25519 encodings that records still load.
            let isPreKey = wire.count > 1 && wire[1] == MessageType.preKey.rawValue
            let offsets = ["EK_A": isPreKey ? 34 : -1, "DHs": isPreKey ? 74 : 2]
            if c.tolerates(.nonCanonicalStoredKey), case .invalidKey(let field) = error,
               let at = offsets[field], at >= 0, wire.count >= at + 32, !isCanonical(Array(wire[at..<(at + 32)])) {
                return nil
            }
            throw c.fail("a loaded session encrypted a message its peer cannot parse: \(error)")
        }
    }

    /// `bytes` (a serialisation) must parse, and re-serialise to itself.
    @discardableResult
    static func recordRoundTrip<T, E: Error>(_ bytes: [UInt8], _ parse: ([UInt8]) throws(E) -> T,
                                             _ serialize: (T) -> [UInt8], _ c: Checker) throws(InvariantViolation) -> [UInt8] {
        let again: T
        do { again = try parse(bytes) } catch {
            throw c.fail("the library's own record does not load: \(error)")
        }
        try c.require(serialize(again) == bytes, "record serialisation is not idempotent")
        return bytes
    }

    /// A refusal must describe the input truthfully.
    static func checkWireError(_ error: WireError, _ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        switch error {
        case .truncated(let needed, let available):
            try c.require(needed > 0 && available >= 0 && available < needed && available < data.count + 1,
                          "truncated(needed: \(needed), available: \(available)) for \(data.count) bytes")
        case .trailingBytes(let n):
            try c.require(n > 0 && n < data.count, "trailingBytes(\(n)) for \(data.count) bytes")
        case .unknownVersion(let v):
            try c.require(!data.isEmpty && v == data[0] && v != 0x01, "unknownVersion(\(v))")
        case .unknownType(let t):
            try c.require(data.count > 1 && t == data[1] && MessageType(rawValue: t) == nil, "unknownType(\(t))")
        case .unexpectedType(let t):
            try c.require(data.count > 1 && t == data[1] && MessageType(rawValue: t) != nil, "unexpectedType(\(t))")
        case .invalidFlags(let f):
            try c.require(data.count > 1 && f == data[1] && f & ~0x03 != 0, "invalidFlags(\(f))")
        case .tooLarge(let size, let max):
            try c.require(size > max && size < data.count, "tooLarge(size: \(size), max: \(max)) for \(data.count) bytes")
        case .invalidKey:
            break
        case .invalidField(let name):
            // Only the GroupUpdate layout has fields with disallowed values.
            try c.require(data.count > 1 && data[1] == MessageType.groupUpdate.rawValue, "invalidField(\(name)) for type \(data[1])")
        }
    }

    static func checkRecordError(_ error: RecordError, _ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        switch error {
        case .trailingBytes(let n):
            try c.require(n > 0 && n < data.count, "record trailingBytes(\(n)) for \(data.count) bytes")
        case .unsupportedVersion(let v):
            try c.require(v != 1, "unsupportedVersion(1)")
        case .wrongKind(let expected, let got):
            try c.require(expected != got, "wrongKind with equal kinds")
        case .badMagic, .truncated, .malformed:
            break
        }
    }

    /// Whether an X25519 public key is encoded canonically: bit 255 clear and u < p = 2^255 - 19.
    static func isCanonical(_ k: [UInt8]) -> Bool {
        guard k.count == 32, k[31] & 0x80 == 0 else { return false }
        let atLeastP = k[31] == 0x7f && k[1...30].allSatisfy { $0 == 0xff } && k[0] >= 0xed
        return !atLeastP
    }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
