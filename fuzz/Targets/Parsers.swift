import E2EE

// Harnesses for the parsers of attacker-controlled bytes (PROTOCOL.md §1, §4)
// and of stored records (§6). Every input must either parse or fail with a
// typed error whose details are consistent with the input; whatever parses
// must serialise back (exactly for wire formats, idempotently for records)
// and must be usable without a trap.

enum ParserChecks {
    // MARK: PreKeyBundle

    /// Where the optional parts of a bundle start (§1): the one-time prekey
    /// (u32 id, key) after the 64-byte signature at 70, then the KEM part
    /// (u32 id, ML-KEM-1024 key, signature).
    static let bundleOPKAt = 134
    static func bundleKEMAt(_ data: [UInt8]) -> Int { bundleOPKAt + (data.count > 1 && data[1] & 0x01 != 0 ? 36 : 0) }

    static func bundle(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let kemAt = bundleKEMAt(data)
        let kemKeyRange = (kemAt + 4)..<(kemAt + 4 + MLKEM.publicKeyByteCount)
        let bundle: PreKeyBundle
        do { bundle = try PreKeyBundle(serialized: data) } catch {
            try checkWireError(error, data, c)
            if error == .invalidKey(field: "KEM") {
                // Refused exactly when the bytes at the KEM key's offset are not an ML-KEM-1024 key (FIPS 203 modulus check).
                try c.require(data[1] & 0x02 != 0 && data.count >= kemKeyRange.upperBound
                              && (try? MLKEM.PublicKey(rawRepresentation: Array(data[kemKeyRange]))) == nil,
                              "invalidKey(KEM) for bytes that are a valid ML-KEM key, or no KEM key at all")
            }
            return
        }
        try c.require(bundle.serialized == data, "a parsed bundle re-serialises to other bytes")
        try c.require((try? PreKeyBundle(serialized: bundle.serialized)) == bundle, "a bundle does not re-parse to itself")
        try c.require((data[1] & 0x01 != 0) == (bundle.oneTimePreKey != nil), "flag bit 0 and the one-time prekey disagree")
        try c.require((data[1] & 0x02 != 0) == (bundle.kemPreKey != nil), "flag bit 1 and the KEM prekey disagree")
        try c.require(bundle.isPostQuantum == (bundle.kemPreKey != nil), "isPostQuantum and the KEM prekey disagree")
        try c.require(bundle.identityKey.rawRepresentation == Array(data[2..<34]), "identity key is not the bytes at 2..<34")
        try c.require(bundle.signedPreKey.rawRepresentation == Array(data[38..<70]), "signed prekey is not the bytes at 38..<70")
        if let o = bundle.oneTimePreKey {
            try c.require(o.id.rawValue == u32(data, bundleOPKAt) && o.publicKey.rawRepresentation == Array(data[138..<170]),
                          "the one-time prekey is not the bytes at 134..<170")
        }
        if let k = bundle.kemPreKey {
            try c.require(k.id.rawValue == u32(data, kemAt) && k.publicKey.rawRepresentation == Array(data[kemKeyRange])
                          && k.signature == Array(data[kemKeyRange.upperBound..<(kemKeyRange.upperBound + 64)])
                          && data.count == kemKeyRange.upperBound + 64,
                          "the KEM prekey is not the bytes at \(kemAt)..<\(kemKeyRange.upperBound + 64)")
        } else {
            try c.require(data.count == kemAt, "a bundle without a KEM part is not \(kemAt) bytes")
        }

        // The signature covers Encode(SPK) and EncodeKEM(KEM_pub) only, so
        // mutated ids keep it valid: session setup is reached often. PQXDH is
        // the default (§2b): a verified bundle without a KEM prekey is refused
        // unless classical setup is allowed; one with a KEM prekey is never
        // used for X3DH. Either way the first message names exactly this
        // bundle's keys. (ML-KEM encapsulation draws from the system RNG: only
        // the ciphertext's bytes differ between runs, never the outcome.)
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
        try c.require(session.isPostQuantum == (bundle.kemPreKey != nil) && session.kemPreKeyID == bundle.kemPreKey?.id,
                      "a bundle's KEM part and the session's setup disagree")
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

        // A bundle in Bob's name: his account takes the first message exactly
        // when every key the bundle names by id is his key of that id (ids are
        // not signed, so a relabelled key must fail, and change nothing).
        guard bundle.identityKey == Fixtures.bobIdentity.publicKey else { return }
        let bob = Fixtures.bobAccount
        let his = bob.signedPreKeys.contains { $0.id == bundle.signedPreKeyID && $0.publicKey == bundle.signedPreKey }
            && (bundle.oneTimePreKey.map { o in bob.oneTimePreKeys.contains { $0.id == o.id && $0.publicKey == o.publicKey } } ?? true)
            && (bundle.kemPreKey.map { k in Fixtures.bobKEMPublicKeys[k.id] == k.publicKey } ?? true)
        var account = bob
        let received = Result { () throws(SessionSetupError) in
            try account.acceptSession(from: m, random: DeterministicRandom(seed: "bundle bob"), allowClassical: !bundle.isPostQuantum)
        }
        switch received {
        case .success(let (s, plaintext)):
            try c.require(his, "Bob accepted a first message made from a bundle naming keys that are not his under those ids")
            try c.require(plaintext == Array("first".utf8) && s.isPostQuantum == bundle.isPostQuantum && s.kemPreKeyID == bundle.kemPreKey?.id,
                          "Bob's session from a bundle of his keys does not match it")
        case .failure(let e):
            try c.require(!his, "Bob refused (\(e)) a first message made from a bundle of his own keys")
            try c.require(account.serialized() == Fixtures.bobAccountRecord, "a refused first message (\(e)) changed Bob's account")
        }
    }

    // MARK: Wire messages

    /// Where a PQPreKeyMessage's KEM part and header start (§4).
    static let kemIDAt = 74
    static let ciphertextAt = 78
    static let pqHeaderAt = ciphertextAt + MLKEM.ciphertextByteCount

    /// Checks shared by the PreKeyMessage and RatchetMessage harnesses.
    /// Returns the parsed message, if any.
    @discardableResult
    static func wireMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) -> WireMessage? {
        let small = 64
        let strict = Result { () throws(WireError) in try WireMessage(serialized: data, maxPlaintext: small) }
        let message: WireMessage
        do { message = try WireMessage(serialized: data) } catch {
            // WireMessage hands each group kind's fields to that type's own
            // parser, whose harness checks what its error says.
            if let own = ownParser(data) {
                guard case .failure(let e1) = own, e1 == error else {
                    throw c.fail("WireMessage refused with \(error), the type's own parser gave \(own)")
                }
            } else {
                try checkWireError(error, data, c)
            }
            // A tighter limit can never make a refused message acceptable.
            guard case .failure(let e2) = strict, e2 == error else {
                throw c.fail("input refused with \(error) under the default limit but not the same under \(small) bytes")
            }
            return nil
        }
        try c.require(message.serialized == data, "a parsed message re-serialises to other bytes")
        try c.require((try? WireMessage(serialized: message.serialized)) == message, "a message does not re-parse to itself")

        if let own = ownParser(data) {
            try c.require((try? own.get()) == message, "WireMessage and the type's own parser disagree")
        }
        let prefix: Int
        let header: MessageHeader
        let sealedCount: Int
        switch message {
        case .senderKey, .senderKeyDistribution, .groupUpdate:
            try c.require(message.type.rawValue == data[1], "type \(data[1]) parsed as \(message.type)")
            return message   // their own harnesses check their fields
        case .ratchet(let m):
            try c.require(data[1] == MessageType.ratchet.rawValue, "type \(data[1]) parsed as a RatchetMessage")
            prefix = 2
            header = m.header
            sealedCount = m.payload.sealed.count
        case .preKey(let m):
            let pq = data[1] == MessageType.pqPreKey.rawValue
            try c.require(data[1] == MessageType.preKey.rawValue || pq, "type \(data[1]) parsed as a PreKeyMessage")
            try c.require(m.isPostQuantum == pq && (m.kem != nil) == pq, "type \(data[1]) parsed with\(pq ? "out" : "") a KEM part")
            prefix = pq ? pqHeaderAt : 2 + 32 + 32 + 4 + 4
            header = m.header
            sealedCount = m.payload.sealed.count
            try c.require(m.identityKey.rawRepresentation == Array(data[2..<34]), "IK_A is not the bytes at 2..<34")
            try c.require(m.baseKey.rawRepresentation == Array(data[34..<66]), "EK_A is not the bytes at 34..<66")
            try c.require(m.signedPreKeyID.rawValue == u32(data, 66), "SPK_id is not the u32 at 66")
            let opk = u32(data, 70)
            try c.require(m.oneTimePreKeyID?.rawValue == (opk == 0xFFFF_FFFF ? nil : opk), "OPK_id is not the u32 at 70")
            if let kem = m.kem {
                try c.require(kem.id.rawValue == u32(data, kemIDAt), "KEM_id is not the u32 at 74")
                try c.require(kem.ciphertext == Array(data[ciphertextAt..<pqHeaderAt]), "CT is not the 1568 bytes at 78")
            }
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

    /// The group kinds' own parsers, for the type byte of `data` (nil for the others).
    static func ownParser(_ data: [UInt8]) -> Result<WireMessage, WireError>? {
        guard data.count > 1, data[0] == WireMessage.version, let type = MessageType(rawValue: data[1]) else { return nil }
        switch type {
        case .senderKey:
            return Result { () throws(WireError) in .senderKey(try SenderKeyMessage(serialized: data)) }
        case .senderKeyDistribution:
            return Result { () throws(WireError) in .senderKeyDistribution(try SenderKeyDistribution(serialized: data)) }
        case .groupUpdate:
            return Result { () throws(WireError) in .groupUpdate(try GroupUpdate(serialized: data)) }
        case .ratchet, .preKey, .pqPreKey:
            return nil
        }
    }

    static func ratchetMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        try wireMessage(data, c)
    }

    /// The `prekey_message` and `pq_prekey_message` harnesses (the same
    /// checks; the corpora differ): every parsed PreKeyMessage or
    /// PQPreKeyMessage goes to the fixed recipient account (§2, §2b). A
    /// classical one is refused with `postQuantumRequired` unless classical
    /// setup is allowed, with nothing changed; then (allowed) a refused first
    /// message changes nothing and is refused for the reason the input gives;
    /// an accepted one consumes exactly the one-time prekeys it names (X25519
    /// and KEM; a last-resort KEM prekey stays), and its base key only once.
    static func preKeyMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        guard case .preKey(let m)? = try wireMessage(data, c) else { return }
        let fixture = Fixtures.bobAccount
        let before = Fixtures.bobAccountRecord
        if !m.isPostQuantum {
            var account = fixture
            let refused = Result { () throws(SessionSetupError) in
                try account.acceptSession(from: m, random: DeterministicRandom(seed: "prekey"))
            }
            guard case .failure(let e) = refused, e == .postQuantumRequired else {
                throw c.fail("a classical first message was not refused with postQuantumRequired by default: \(refused)")
            }
            try c.require(account.serialized() == before, "a classical first message refused by default changed the account")
        }
        var account = fixture
        let accepted = Result { () throws(SessionSetupError) in
            try account.acceptSession(from: m, random: DeterministicRandom(seed: "prekey"), allowClassical: !m.isPostQuantum)
        }
        let session: Session
        switch accepted {
        case .failure(let e):
            try c.require(account.serialized() == before, "a first message refused with \(e) changed the account")
            try checkSetupRefusal(e, m, c)
            return
        case .success(let (s, _)):
            session = s
        }
        try c.require(session.role == .recipient && session.baseKey == m.baseKey && session.remoteIdentity == m.identityKey
                      && session.oneTimePreKeyID == m.oneTimePreKeyID && !session.awaitingReply,
                      "an accepted session does not match its first message")
        try c.require(session.isPostQuantum == m.isPostQuantum && session.kemPreKeyID == m.kem?.id,
                      "an accepted session's PQXDH part does not match its first message")
        let left = Set(account.oneTimePreKeys.map(\.id))
        let had = Set(fixture.oneTimePreKeys.map(\.id))
        try c.require(left == had.subtracting(m.oneTimePreKeyID.map { [$0] } ?? []),
                      "accepting a session consumed other one-time prekeys than the one named")
        let kemLeft = account.oneTimeKEMPreKeys.map(\.id), kemHad = fixture.oneTimeKEMPreKeys.map(\.id)
        let oneTimeKEM = m.kem.map { k in kemHad.contains(k.id) } ?? false
        try c.require(kemLeft == kemHad.filter { !oneTimeKEM || $0 != m.kem!.id }
                      && account.consumedKEMPreKeyIDs == (oneTimeKEM ? [m.kem!.id] : []),
                      "accepting a session consumed other one-time KEM prekeys than the one named")
        try c.require(account.lastResortKEMPreKeys.map(\.id) == fixture.lastResortKEMPreKeys.map(\.id),
                      "accepting a session removed a last-resort KEM prekey")
        try recordRoundTrip(session.serialized(), Session.init(serialized:), { $0.serialized() }, c)
        // §2: the base key is accepted once per account. The same message, or
        // a copy with its one-time prekey id stripped or its KEM id changed
        // (the bundle signatures cover neither id), starts no second session
        // and changes nothing.
        try c.require(account.hasAccepted(baseKey: m.baseKey)
                      && account.acceptedBaseKeyCount == fixture.acceptedBaseKeyCount + 1,
                      "an accepted first message's base key was not recorded once")
        var copies = [("the same first message", data), ("the first message without its one-time prekey id", withU32(data, at: 70, 0xFFFF_FFFF))]
        if let kem = m.kem {
            for id in Fixtures.bobKEMPublicKeys.keys.sorted(by: { $0.rawValue < $1.rawValue }) where id != kem.id {
                copies.append(("the first message naming KEM prekey \(id.rawValue)", withU32(data, at: kemIDAt, id.rawValue)))
            }
        }
        let afterFirst = account.serialized()
        for (what, bytes) in copies {
            guard case .preKey(let replay)? = try? WireMessage(serialized: bytes) else {
                throw c.fail("\(what) does not parse")
            }
            var again = account
            let second = Result { () throws(SessionSetupError) in
                try again.acceptSession(from: replay, random: DeterministicRandom(seed: "prekey again"), allowClassical: true)
            }
            guard case .failure(let e) = second else { throw c.fail("\(what) was accepted twice") }
            try c.require(e == .baseKeyAlreadyAccepted, "\(what), replayed, was refused with \(e)")
            try c.require(again.serialized() == afterFirst, "a refused replay changed the account")
        }
        guard let kem = m.kem else { return }
        // §2b: the KEM part is bound. On the account as it was, the same first
        // message with one ciphertext byte changed, naming another KEM prekey
        // Bob holds, or without its KEM part (a classical message, even where
        // classical setup is allowed) fails to authenticate and changes nothing.
        let flipAt = ciphertextAt + Int(u32(data, data.count - 4) % UInt32(MLKEM.ciphertextByteCount))
        var flipped = data
        flipped[flipAt] ^= 0x01
        var forged = [("the first message with CT byte \(flipAt - ciphertextAt) flipped", flipped, true)]
        if let other = Fixtures.bobKEMPublicKeys.keys.sorted(by: { $0.rawValue < $1.rawValue }).first(where: { $0 != kem.id }) {
            forged.append(("the first message relabelled to KEM prekey \(other.rawValue)", withU32(data, at: kemIDAt, other.rawValue), true))
        }
        var downgraded: [UInt8] = [data[0], MessageType.preKey.rawValue]
        downgraded += data[2..<kemIDAt]
        downgraded += data[pqHeaderAt...]
        forged.append(("the first message without its KEM part", downgraded, true))
        forged.append(("the first message without its KEM part, classical setup not allowed", downgraded, false))
        for (what, bytes, allowClassical) in forged {
            guard case .preKey(let f)? = try? WireMessage(serialized: bytes) else { throw c.fail("\(what) does not parse") }
            var fresh = fixture
            let r = Result { () throws(SessionSetupError) in
                try fresh.acceptSession(from: f, random: DeterministicRandom(seed: "prekey forged"), allowClassical: allowClassical)
            }
            let expected: SessionSetupError = allowClassical ? .firstMessageRejected(.authenticationFailure) : .postQuantumRequired
            guard case .failure(let e) = r, e == expected else { throw c.fail("\(what): \(r), not \(expected)") }
            try c.require(fresh.serialized() == before, "\(what) was refused but changed the account")
        }
    }

    /// A first message refused by the fixed account (classical setup allowed)
    /// is refused for the first reason the input gives, in the order the
    /// account checks (§2): signed prekey, one-time prekey, KEM prekey, then
    /// the key agreement and authentication.
    static func checkSetupRefusal(_ e: SessionSetupError, _ m: PreKeyMessage, _ c: Checker) throws(InvariantViolation) {
        let bob = Fixtures.bobAccount
        let spk = bob.signedPreKeys.contains { $0.id == m.signedPreKeyID }
        let opk = m.oneTimePreKeyID.map { id in bob.oneTimePreKeys.contains { $0.id == id } } ?? true
        let kem = m.kem.map { k in Fixtures.bobKEMPublicKeys[k.id] != nil } ?? true
        switch e {
        case .unknownSignedPreKey(let id):
            try c.require(!spk && id == m.signedPreKeyID, "unknownSignedPreKey(\(id)) for a message naming \(m.signedPreKeyID)")
        case .unknownOneTimePreKey(let id):
            try c.require(spk && !opk && id == m.oneTimePreKeyID, "unknownOneTimePreKey(\(id)) for a message naming \(String(describing: m.oneTimePreKeyID))")
        case .unknownKEMPreKey(let id):
            try c.require(spk && opk && !kem && id == m.kem?.id, "unknownKEMPreKey(\(id)) for a message naming \(String(describing: m.kem?.id))")
        case .weakKey, .firstMessageRejected:
            try c.require(spk && opk && kem, "refused with \(e) although it names a prekey Bob does not hold")
        default:
            throw c.fail("a first message was refused with \(e)")
        }
    }

    /// `data` with the u32 at `at` replaced.
    static func withU32(_ data: [UInt8], at: Int, _ v: UInt32) -> [UInt8] {
        var out = data
        out.replaceSubrange(at..<(at + 4), with: [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16),
                                                  UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)])
        return out
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
    /// re-serialise to exactly the input, except that a record from before
    /// PQXDH (no KEM section) is written back with an empty one.
    static func accountRecord(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let account: Account
        do { account = try Account(serialized: data) } catch {
            try checkRecordError(error, data, c)
            return
        }
        let record = account.serialized()
        if record != data {
            let emptyKEMSection: [UInt8] = [0xA0, 0x01, 0x00, 0x00, 0x00, 0x00]
            let at = (0..<min(record.count, data.count)).first { record[$0] != data[$0] } ?? min(record.count, data.count)
            let legacy = account.lastResortKEMPreKeys.isEmpty && account.oneTimeKEMPreKeys.isEmpty
                && account.consumedKEMPreKeyIDs.isEmpty && record.count == data.count + emptyKEMSection.count
                && Array(record[at..<(at + emptyKEMSection.count)]) == emptyKEMSection
                && record[(at + emptyKEMSection.count)...].elementsEqual(data[at...])
            try c.require(legacy, "a parsed account re-serialises to other bytes")
        }
        try recordRoundTrip(record, Account.init(serialized:), { $0.serialized() }, c)
        try c.require(account.unpublishedOneTimePreKeyCount >= 0, "more one-time prekeys published than held")
        try c.require(account.unpublishedKEMPreKeyCount >= 0, "more one-time KEM prekeys published than held")
        var copy = account
        let bundle = copy.publishBundle()
        let stored = [bundle.signedPreKey] + (bundle.oneTimePreKey.map { [$0.publicKey] } ?? [])
        let openIssue = c.tolerates(.nonCanonicalStoredKey) && stored.contains { !isCanonical($0.rawRepresentation) }
        try c.require((try? PreKeyBundle(serialized: bundle.serialized)) == bundle || openIssue,
                      "a published bundle does not re-parse")
        try c.require(bundle.signedPreKeyID == account.currentSignedPreKey.id, "the bundle does not carry the current signed prekey")
        // §2b: a published bundle always offers a KEM prekey, signed now by the
        // identity: the oldest one-time KEM prekey not handed out, else the
        // current last-resort one (made if the account has none).
        guard let kem = bundle.kemPreKey else { throw c.fail("publishBundle() gave a bundle without a KEM prekey") }
        try c.require(account.identity.publicKey.isValidSignature(kem.signature, for: kem.publicKey.encoded),
                      "the KEM prekey of a published bundle is not signed by the account's identity")
        let unpublished = account.unpublishedKEMPreKeyCount
        if unpublished > 0 {
            let next = account.oneTimeKEMPreKeys[account.oneTimeKEMPreKeys.count - unpublished]
            try c.require(kem.id == next.id && copy.unpublishedKEMPreKeyCount == unpublished - 1,
                          "a bundle did not hand out the oldest unpublished one-time KEM prekey")
        } else if let lastResort = account.currentLastResortKEMPreKey {
            try c.require(kem.id == lastResort.id && copy.lastResortKEMPreKeys.map(\.id) == account.lastResortKEMPreKeys.map(\.id),
                          "with no one-time KEM prekey left, a bundle did not offer the current last-resort one")
        } else {
            try c.require(copy.lastResortKEMPreKeys.count == 1 && copy.currentLastResortKEMPreKey?.id == kem.id,
                          "an account without KEM prekeys did not make a last-resort one for its bundle")
        }
        // The classical bundle: the same prekeys, no KEM part, no KEM prekey handed out.
        var classical = account
        let plain = classical.publishClassicalBundle()
        try c.require(plain.kemPreKey == nil && plain.signedPreKeyID == bundle.signedPreKeyID
                      && plain.oneTimePreKey == bundle.oneTimePreKey
                      && classical.unpublishedKEMPreKeyCount == account.unpublishedKEMPreKeyCount,
                      "publishClassicalBundle() differs from publishBundle() by more than the KEM part")
        try accountAfterChange(copy, what: "publishing a bundle", c)

        // Maintenance (small pools, so that a refill costs a few key generations):
        // refills the one-time KEM prekeys, rotates the last-resort one with the
        // signed prekey (or makes one if there is none), signs everything new,
        // and reports the one-time KEM prekeys consumed.
        var maintained = account
        let policy = PreKeyPolicy(minimumOneTimePreKeys: 1, targetOneTimePreKeys: 2, minimumOneTimeKEMPreKeys: 1,
                                  targetOneTimeKEMPreKeys: 2)
        let now = account.currentSignedPreKey.createdAt &+ UInt64(data[data.count - 1]) * 86_400
        let upload = maintained.maintainPreKeys(now: now, policy: policy)
        let signed = upload.newKEMPreKeys + (upload.newLastResortKEMPreKey.map { [$0] } ?? [])
        try c.require(signed.allSatisfy { account.identity.publicKey.isValidSignature($0.signature, for: $0.publicKey.encoded) },
                      "maintenance uploads a KEM prekey its identity did not sign")
        try c.require((upload.newLastResortKEMPreKey != nil) == (upload.newSignedPreKey != nil || account.lastResortKEMPreKeys.isEmpty),
                      "maintenance rotated the last-resort KEM prekey without the signed prekey")
        try c.require(upload.consumedKEMPreKeyIDs == account.consumedKEMPreKeyIDs && maintained.consumedKEMPreKeyIDs.isEmpty,
                      "maintenance did not report the consumed one-time KEM prekeys once")
        try c.require(maintained.unpublishedKEMPreKeyCount >= policy.minimumOneTimeKEMPreKeys
                      && maintained.currentLastResortKEMPreKey != nil,
                      "after maintenance the account lacks one-time or last-resort KEM prekeys")
        try accountAfterChange(maintained, what: "maintenance", c)
    }

    /// An account the library changed: every prekey id is held once (ids are
    /// never handed out again, even by an account whose record's next id is
    /// behind its keys), and the account round-trips.
    static func accountAfterChange(_ account: Account, what: String, _ c: Checker) throws(InvariantViolation) {
        let ids = (account.lastResortKEMPreKeys + account.oneTimeKEMPreKeys).map(\.id)
        guard Set(ids).count == ids.count else {
            throw c.fail("\(what) made a KEM prekey with an id the account already holds: \(ids.map(\.rawValue))")
        }
        let otks = account.oneTimePreKeys.map(\.id)
        guard Set(otks).count == otks.count else {
            throw c.fail("\(what) made a one-time prekey with an id the account already holds")
        }
        try recordRoundTrip(account.serialized(), Account.init(serialized:), { $0.serialized() }, c)
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
                // An initiator repeats its setup: PQXDH ones with their KEM part (§2b).
                try c.require(session.role == .recipient
                              || (p.isPostQuantum == session.isPostQuantum && p.kem?.id == session.kemPreKeyID),
                              "an initiator's PreKeyMessage does not carry its session's KEM part")
            case .ratchet:
                try c.require(!session.awaitingReply, "a RatchetMessage from a session awaiting a reply")
            case .senderKey, .senderKeyDistribution, .groupUpdate:
                throw c.fail("a session encrypted a \(m.type) message")
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
            let type = wire.count > 1 ? wire[1] : 0
            let isPreKey = type == MessageType.preKey.rawValue || type == MessageType.pqPreKey.rawValue
            let headerAt = type == MessageType.pqPreKey.rawValue ? pqHeaderAt : isPreKey ? 74 : 2
            let offsets = ["EK_A": isPreKey ? 34 : -1, "DHs": headerAt]
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
