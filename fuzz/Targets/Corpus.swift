import E2EE

/// The seed corpora: valid inputs of every kind for every target, made with
/// deterministic randomness so that `make-corpus` always writes the same
/// bytes. File names say what each seed is.
public enum SeedCorpus {
    public static func files(for target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        switch target {
        case .bundle: return bundles()
        case .prekeyMessage: return messages().filter { $0.bytes[1] == MessageType.preKey.rawValue }
        case .pqPreKeyMessage: return pqMessages()
        case .ratchetMessage: return messages().filter { $0.bytes[1] == MessageType.ratchet.rawValue }
        case .sessionRecord: return sessionRecords()
        case .accountRecord: return accountRecords()
        case .sessionSetRecord: return sessionSetRecords()
        case .decrypt: return DecryptFixture.built.messages.map { ("\($0.name)-\($0.expect == .refused ? "refused" : "ok")", $0.wire) }
        case .interaction: return interactionScripts()
        case .senderKeyMessage:
            return GroupFixture.built.messages.map { ("\($0.name)-\($0.decrypts ? "ok" : "refused")", $0.wire) }
        case .senderKeyDistribution: return distributions()
        case .groupRecord: return groupRecords()
        case .groupInteraction: return groupInteractionScripts()
        case .groupUpdate: return groupUpdates()
        }
    }

    // MARK: Bundles

    /// Bob's bundles (every kind of ``Fixtures/bobBundles``, named by their
    /// prekey ids, and his classical ones), another account's, and bundles
    /// that must fail: bad signatures, ML-KEM keys that are not keys, flags
    /// that disagree with the parts present.
    static func bundles() -> [(name: String, bytes: [UInt8])] {
        let b = Fixtures.bobBundles.map(\.serialized)
        let classical = Fixtures.bobClassicalBundles.map(\.serialized)
        var out: [(String, [UInt8])] = [
            ("opk1-kem2", b[0]), ("opk2-kem3", b[1]), ("opk3-kem1", b[2]), ("no-opk-kem4", b[3]), ("no-opk-kem1", b[4]),
            ("classical-opk1", classical[0]), ("classical-opk3", classical[2]), ("classical-no-opk", classical[3]),
        ]
        let bob = Fixtures.bobIdentity
        let kemAt = ParserChecks.bundleKEMAt(b[0])
        let keyAt = kemAt + 4, sigAt = keyAt + MLKEM.publicKeyByteCount
        /// b[0] with its KEM key replaced by `key` and signed again by Bob.
        func withKEMKey(_ key: [UInt8]) -> [UInt8] {
            var bytes = b[0]
            bytes.replaceSubrange(keyAt..<sigAt, with: key)
            bytes.replaceSubrange(sigAt..<(sigAt + 64), with: bob.signature(for: [0x0A] + key))
            return bytes
        }
        let goodKey = Array(b[0][keyAt..<sigAt])
        // The first coefficient (12 bits, little-endian in bytes 0 and 1) set to q - 1 (valid) and q = 3329 (not).
        func firstCoefficient(_ v: UInt16) -> [UInt8] {
            var key = goodKey
            key[0] = UInt8(truncatingIfNeeded: v)
            key[1] = key[1] & 0xF0 | UInt8(v >> 8)
            return key
        }
        out.append(("opk1-kem2-coefficient-q-minus-1", withKEMKey(firstCoefficient(3328))))
        out.append(("malformed-kem-coefficient-q", withKEMKey(firstCoefficient(3329))))
        out.append(("malformed-kem-all-ff", withKEMKey([UInt8](repeating: 0xFF, count: MLKEM.publicKeyByteCount))))
        var badSignature = b[4]
        badSignature[100] ^= 0x01
        out.append(("no-opk-kem1-bad-signature", badSignature))
        var badKEMSignature = b[0]
        badKEMSignature[sigAt + 10] ^= 0x04
        out.append(("opk1-kem2-bad-kem-signature", badKEMSignature))
        // Bob's KEM key relabelled (ids are not signed): it verifies, but is not Bob's key of that id.
        out.append(("relabelled-opk1-kem3", ParserChecks.withU32(b[0], at: kemAt, 3)))
        // Flags and parts that disagree.
        var kemFlagOnly = classical[0]
        kemFlagOnly[1] |= 0x02
        out.append(("malformed-kem-flag-without-part", kemFlagOnly))
        var partWithoutFlag = b[0]
        partWithoutFlag[1] &= ~0x02
        out.append(("malformed-kem-part-without-flag", partWithoutFlag))
        out.append(("malformed-kem-truncated", Array(b[0].dropLast(40))))
        var opkFlagCleared = b[0]
        opkFlagCleared[1] &= ~0x01
        out.append(("malformed-opk-flag-cleared-kem", opkFlagCleared))
        var unknownFlag = b[4]
        unknownFlag[1] |= 0x04
        out.append(("malformed-flag-bit-2", unknownFlag))
        var carol = Fixtures.account("carol", oneTimePreKeys: 1, oneTimeKEMPreKeys: 1)
        out.append(("carol-opk1-kem2", carol.publishBundle().serialized))
        out.append(("carol-no-opk-kem1", carol.publishBundle().serialized))
        return out
    }

    // MARK: Messages

    /// Classical PreKeyMessages (to Bob's classical bundle with one-time
    /// prekey 2, several sizes, and one without a one-time prekey), the
    /// decrypt fixture's messages (PQPreKeyMessages and RatchetMessages), and
    /// RatchetMessages of several sizes.
    static func messages() -> [(name: String, bytes: [UInt8])] {
        var out = DecryptFixture.built.messages.map { ($0.name, $0.wire) }
        let ra = DeterministicRandom(seed: "corpus messages alice")
        let rb = DeterministicRandom(seed: "corpus messages bob")
        var alice = try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobClassicalBundles[1], random: ra,
                                          allowClassical: true)
        var account = Fixtures.bobAccount
        let sizes = [0, 1, 100, 1000]
        var first: [UInt8] = []
        for n in sizes {
            let m = try! alice.encrypt(filler(n), random: ra)
            if first.isEmpty { first = m }
            out.append(("prekey-opk2-\(n)", m))
        }
        var (bob, _) = try! account.acceptSession(from: first, random: rb, allowClassical: true)
        let reply = try! bob.encrypt(Array("reply".utf8), random: rb)
        _ = try! alice.decrypt(reply, random: ra)
        for n in sizes {
            out.append(("ratchet-\(n)", try! alice.encrypt(filler(n), random: ra)))
        }
        let rc = DeterministicRandom(seed: "corpus messages alice no opk")
        var other = try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobClassicalBundles[3], random: rc,
                                          allowClassical: true)
        out.append(("prekey-no-opk", try! other.encrypt(filler(16), random: rc)))
        return out
    }

    /// PQPreKeyMessages to Bob's fixed account: through each kind of his
    /// bundles (one-time prekey or not, one-time or last-resort KEM prekey),
    /// several sizes, the decrypt fixture's, and copies that must be refused:
    /// truncated at each part, a ciphertext byte flipped, an unknown KEM id,
    /// another KEM prekey's id, the tag cut short. (The KEM part dropped, a
    /// classical message, is the decrypt fixture's `a2-without-kem-part` in
    /// the prekey_message corpus.)
    static func pqMessages() -> [(name: String, bytes: [UInt8])] {
        var out = DecryptFixture.built.messages.filter { $0.wire[1] == MessageType.pqPreKey.rawValue }.map { ("decrypt-\($0.name)", $0.wire) }
        let r = DeterministicRandom(seed: "corpus pq messages")
        let kinds = [(1, "opk2-kem3"), (2, "opk3-kem1"), (3, "no-opk-kem4"), (4, "no-opk-kem1")]
        var lastResort: [UInt8] = []
        for (bundle, name) in kinds {
            var s = PQCapture.session(PQCapture.bobLabel(bundle))
            for n in bundle == 1 ? [0, 1, 100, 1000] : [16] {
                let m = try! s.encrypt(filler(n), random: r)
                out.append(("pq-\(name)-\(n)", m))
                if bundle == 4 { lastResort = m }
            }
        }
        // Each first message above is accepted by Bob's fixture account; check it here once.
        for (name, m) in out where name.hasPrefix("pq-") {
            var account = Fixtures.bobAccount
            _ = try! account.acceptSession(from: m, random: DeterministicRandom(seed: "corpus check"))
        }
        let m = lastResort
        let kemAt = ParserChecks.kemIDAt, ctAt = ParserChecks.ciphertextAt, headerAt = ParserChecks.pqHeaderAt
        var flipped = m
        flipped[ctAt + 1000] ^= 0x80
        out += [
            ("refused-ct-flipped-no-opk-kem1", flipped),
            ("refused-unknown-kem99-no-opk", ParserChecks.withU32(m, at: kemAt, 99)),
            ("refused-other-kem2-no-opk", ParserChecks.withU32(m, at: kemAt, 2)),
            ("truncated-before-kem-id", Array(m.prefix(kemAt))),
            ("truncated-in-ct", Array(m.prefix(ctAt + 800))),
            ("truncated-in-header", Array(m.prefix(headerAt + 20))),
            ("refused-tag-cut-no-opk-kem1", Array(m.dropLast(5))),
        ]
        // A classical first message made into a PQPreKeyMessage (type 0x05): far too short.
        var upgraded = messages().first { $0.name == "prekey-no-opk" }!.bytes
        upgraded[1] = MessageType.pqPreKey.rawValue
        out.append(("truncated-classical-as-pq", upgraded))
        return out
    }

    // MARK: Records

    /// A conversation that leaves many kinds of state behind: PQXDH from a
    /// captured session, or classical with `allowClassical`.
    struct Conversation {
        let ra: DeterministicRandom
        let rb: DeterministicRandom
        let classical: Bool
        var alice: Session
        var bob: Session?
        var account = Fixtures.bobAccount

        init(bundle: Int, seed: String, classical: Bool = false) {
            ra = DeterministicRandom(seed: "\(seed) alice")
            rb = DeterministicRandom(seed: "\(seed) bob")
            self.classical = classical
            alice = Fixtures.initiatorSession(PQCapture.bobLabel(bundle), classical: classical)
        }

        mutating func aliceSends(_ n: Int) -> [[UInt8]] {
            (0..<n).map { i in try! alice.encrypt(filler(i), random: ra) }
        }

        mutating func bobSends(_ n: Int) -> [[UInt8]] {
            (0..<n).map { i in try! bob!.encrypt(filler(i), random: rb) }
        }

        mutating func bobReceives(_ m: [UInt8]) {
            if bob == nil {
                bob = try! account.acceptSession(from: m, random: rb, allowClassical: classical).session
            } else {
                _ = try! bob!.decrypt(m, random: rb)
            }
        }

        mutating func aliceReceives(_ m: [UInt8]) { _ = try! alice.decrypt(m, random: ra) }
    }

    static func sessionRecords() -> [(name: String, bytes: [UInt8])] {
        let fresh = Interaction.firstSessions
        var out: [(String, [UInt8])] = [
            ("decrypt-fixture-recipient", DecryptFixture.built.sessionRecord),
            ("initiator-fresh-opk1-kem2", fresh[0].serialized()),
            ("initiator-fresh-no-opk-kem1", fresh[3].serialized()),
            ("classical-initiator-fresh-opk1", fresh[4].serialized()),
        ]
        var c = Conversation(bundle: 1, seed: "corpus records")
        let first = c.aliceSends(3)
        c.bobReceives(first[2])
        out.append(("recipient-two-skipped", c.bob!.serialized()))
        c.aliceReceives(c.bobSends(1)[0])
        out.append(("initiator-after-reply", c.alice.serialized()))
        // Many skipped keys, then several ratchet turns so that previous
        // ratchet keys accumulate.
        let burst = c.aliceSends(60)
        c.bobReceives(burst[59])
        out.append(("recipient-many-skipped", c.bob!.serialized()))
        for _ in 0..<7 {
            c.aliceReceives(c.bobSends(2)[1])
            c.bobReceives(c.aliceSends(2)[1])
        }
        out.append(("recipient-previous-keys", c.bob!.serialized()))
        out.append(("initiator-previous-keys", c.alice.serialized()))
        var k = Conversation(bundle: 3, seed: "corpus classical records", classical: true)
        k.bobReceives(k.aliceSends(2)[1])
        out.append(("classical-recipient-one-skipped", k.bob!.serialized()))
        return out
    }

    static func accountRecords() -> [(name: String, bytes: [UInt8])] {
        var published = Fixtures.bobAccount
        _ = published.publishBundle()
        _ = published.publishBundle()
        var allKEMPublished = Fixtures.bobAccount
        for _ in 0..<4 { _ = allKEMPublished.publishBundle() }
        var classicalPublished = Fixtures.bobAccount
        _ = classicalPublished.publishClassicalBundle()
        return [
            ("bob-3-opk-3-kem", Fixtures.bobAccountRecord),
            ("alice-no-opk", Fixtures.aliceAccount.serialized()),
            ("bob-after-first-message", DecryptFixture.built.accountRecord),
            ("bob-2-published", published.serialized()),
            ("bob-all-kem-published", allKEMPublished.serialized()),
            ("bob-classical-published", classicalPublished.serialized()),
            ("dave-20-opk-5-kem", Fixtures.accountRecord("dave", oneTimePreKeys: 20, oneTimeKEMPreKeys: 5)),
            ("legacy-bob-no-kem-section", Fixtures.accountRecord("bob", oneTimePreKeys: 3, withKEMSection: false)),
        ]
    }

    static func sessionSetRecords() -> [(name: String, bytes: [UInt8])] {
        let fixed = DecryptFixture.built.session
        let fresh = Interaction.firstSessions
        var c = Conversation(bundle: 4, seed: "corpus sets")
        c.bobReceives(c.aliceSends(1)[0])
        return [
            ("empty", SessionSet().serialized()),
            ("current-only", SessionSet(current: fixed).serialized()),
            ("current-and-archived", SessionSet(current: c.bob!, archived: [fixed]).serialized()),
            ("archived-only", SessionSet(current: nil, archived: [fixed, c.bob!]).serialized()),
            ("initiator", SessionSet(current: fresh[0], archived: [fresh[3]]).serialized()),
            ("classical-initiator", SessionSet(current: fresh[4], archived: [fresh[0]]).serialized()),
        ]
    }

    // MARK: Interaction scripts

    static func interactionScripts() -> [(name: String, bytes: [UInt8])] {
        typealias A = Interaction.Action
        let pingPong: [A] = (0..<4).flatMap { _ in
            [A.send(from: .alice), .deliver(from: .alice), .send(from: .bob), .deliver(from: .bob)]
        }
        let scripts: [(String, Int, Bool, [A])] = [
            ("empty", 0, false, []),
            ("empty-no-opk-last-resort", 3, false, []),
            ("empty-opk-last-resort", 1, false, []),
            ("empty-no-opk-one-time-kem", 2, false, []),
            ("ping-pong", 0, false, pingPong),
            ("ping-pong-no-opk-last-resort", 3, false, pingPong),
            ("classical-ping-pong", 0, true, pingPong),
            ("classical-ping-pong-no-opk", 3, true, pingPong),
            ("lost-first-messages", 0, false, [
                .send(from: .alice, count: 3), .drop(from: .alice), .drop(from: .alice), .deliver(from: .alice),
                .send(from: .bob), .deliver(from: .bob),
            ]),
            ("reorder", 0, false, [
                .send(from: .alice, count: 5, length: 20), .deliver(from: .alice, index: 3), .deliver(from: .alice, index: 1),
                .send(from: .bob, count: 3), .deliver(from: .bob, index: 2), .send(from: .alice, count: 2),
                .deliver(from: .alice, index: 4), .flush(from: .alice), .flush(from: .bob),
            ]),
            ("old-chain-after-ratchet", 0, false, [
                .send(from: .alice, count: 3), .deliver(from: .alice), .send(from: .bob), .deliver(from: .bob),
                .send(from: .alice, count: 2), .deliver(from: .alice, index: 2), .send(from: .bob), .deliver(from: .bob),
                .send(from: .alice), .flush(from: .alice),
            ]),
            ("duplicates", 0, false, [
                .send(from: .alice, count: 2), .deliver(from: .alice), .duplicate(from: .alice),
                .send(from: .bob), .deliver(from: .bob), .duplicate(from: .bob), .deliver(from: .alice),
                .duplicate(from: .alice, index: 1), .duplicate(from: .alice, index: 0),
            ]),
            ("tamper-modes", 0, false, [
                .send(from: .alice, count: 2), .tamper(from: .alice, index: 0, mode: 0, position: 90, mask: 0x40),
                .tamper(from: .alice, index: 0, mode: 1, position: 60, mask: 0),
                .tamper(from: .alice, index: 1, mode: 2, position: 120, mask: 0xAA),
                .tamper(from: .alice, index: 1, mode: 3, position: 3, mask: 5),
                .deliver(from: .alice), .send(from: .bob), .tamper(from: .bob, index: 0, mode: 0, position: 10, mask: 1),
                .tamper(from: .bob, index: 0, mode: 3, position: 50, mask: 7), .deliver(from: .bob),
            ]),
            ("tamper-prefix-fields", 3, false, [
                .send(from: .alice), .tamper(from: .alice, index: 0, mode: 0, position: 5, mask: 0x10),
                .tamper(from: .alice, index: 0, mode: 0, position: 40, mask: 0x01),
                .tamper(from: .alice, index: 0, mode: 0, position: 69, mask: 0x02),
                .tamper(from: .alice, index: 0, mode: 0, position: 73, mask: 0x01),
                .deliver(from: .alice),
                .tamper(from: .alice, index: 0, mode: 0, position: 40, mask: 0x01),
            ]),
            ("reload", 0, false, [
                .send(from: .alice, count: 3), .deliver(from: .alice, index: 1), .reload(.bob), .reload(.alice),
                .send(from: .bob, count: 2), .deliver(from: .bob, index: 1), .reload(.alice), .flush(from: .alice),
                .reload(.bob), .flush(from: .bob),
            ]),
            ("reinitiate", 0, false, [
                .send(from: .alice, count: 2), .deliver(from: .alice), .send(from: .bob), .reinitiate(bundle: 0),
                .send(from: .alice, count: 2), .deliver(from: .alice, index: 1), .deliver(from: .bob),
                .reinitiate(bundle: 2), .send(from: .alice), .flush(from: .alice), .send(from: .bob), .flush(from: .bob),
            ]),
            ("reinitiate-all", 3, false, [
                .send(from: .alice), .reinitiate(bundle: 0), .send(from: .alice), .reinitiate(bundle: 1),
                .send(from: .alice), .reinitiate(bundle: 2), .send(from: .alice), .deliver(from: .alice, index: 3),
                .deliver(from: .alice, index: 0), .send(from: .bob), .deliver(from: .bob), .flush(from: .alice),
                .reload(.bob), .send(from: .bob), .flush(from: .bob),
            ]),
            ("both-initiate", 0, false, [
                .send(from: .alice), .bobInitiates, .send(from: .bob), .deliver(from: .alice), .deliver(from: .bob),
                .send(from: .alice), .send(from: .bob), .flush(from: .alice), .flush(from: .bob), .reload(.alice),
                .send(from: .bob), .deliver(from: .bob),
            ]),
            ("long-gap", 0, false, [
                .send(from: .alice), .deliver(from: .alice), .send(from: .bob), .deliver(from: .bob),
                .send(from: .alice, count: 16), .send(from: .alice, count: 16), .send(from: .alice, count: 16),
                .deliver(from: .alice, index: 47), .drop(from: .alice, index: 5), .reload(.bob), .flush(from: .alice),
            ]),
            ("everything", 0, false, [
                .send(from: .alice, count: 4, length: 0), .deliver(from: .alice, index: 2), .send(from: .bob, count: 2),
                .drop(from: .bob), .deliver(from: .bob), .duplicate(from: .bob),
                .tamper(from: .bob, index: 1, mode: 1, position: 44, mask: 0), .reload(.alice),
                .send(from: .alice, count: 3, length: 200), .deliver(from: .alice, index: 4), .reinitiate(bundle: 1),
                .send(from: .alice), .deliver(from: .alice, index: 5), .send(from: .bob), .flush(from: .bob),
                .duplicate(from: .alice, index: 1), .flush(from: .alice), .reload(.bob),
            ]),
            ("pq-first-message-replays", 0, false, [
                .send(from: .alice, count: 3), .deliver(from: .alice, index: 1), .duplicate(from: .alice),
                .deliver(from: .alice), .duplicate(from: .alice, index: 1), .send(from: .bob), .deliver(from: .bob),
                .duplicate(from: .alice, index: 0), .deliver(from: .alice), .duplicate(from: .alice, index: 2), .reload(.bob),
                .duplicate(from: .alice, index: 1),
            ]),
            ("pq-ciphertext-tamper", 0, false, [
                .send(from: .alice, count: 2), .tamper(from: .alice, index: 0, mode: 0, position: 83, mask: 0x10),
                .tamper(from: .alice, index: 0, mode: 3, position: 1000, mask: 3),
                .tamper(from: .alice, index: 1, mode: 0, position: 77, mask: 0x01),
                .tamper(from: .alice, index: 1, mode: 1, position: 900, mask: 0),
                .tamper(from: .alice, index: 1, mode: 2, position: 1645, mask: 0x33),
                .deliver(from: .alice),
                .tamper(from: .alice, index: 1, mode: 0, position: 1645, mask: 0x80),
                .tamper(from: .alice, index: 0, mode: 3, position: 78, mask: 0),
                .deliver(from: .alice),
            ]),
            ("pq-setup-tampers", 1, false, [
                .send(from: .alice), .reinitiate(bundle: 2), .send(from: .alice),
                .tamperSetup(from: .alice, index: 0, mode: 0), .tamperSetup(from: .alice, index: 0, mode: 1, position: 3),
                .tamperSetup(from: .alice, index: 0, mode: 2, position: 1), .tamperSetup(from: .alice, index: 1, mode: 1, position: 1),
                .tamperSetup(from: .alice, index: 0, mode: 3), .tamperSetup(from: .alice, index: 1, mode: 3),
                .deliver(from: .alice), .deliver(from: .alice),
                .tamperSetup(from: .alice, index: 0, mode: 0), .tamperSetup(from: .alice, index: 1, mode: 2),
                .tamperSetup(from: .alice, index: 1, mode: 3), .tamperSetup(from: .alice, index: 0, mode: 1, position: 4),
            ]),
            ("pq-downgrade-type", 2, false, [
                .send(from: .alice, count: 2), .tamper(from: .alice, index: 0, mode: 0, position: 1, mask: 0x07),
                .tamperSetup(from: .alice, index: 1, mode: 3), .deliver(from: .alice),
                .tamper(from: .alice, index: 1, mode: 0, position: 1, mask: 0x07), .tamperSetup(from: .alice, index: 0, mode: 3),
                .bobInitiates, .send(from: .bob), .tamperSetup(from: .bob, index: 1, mode: 3),
                .tamperSetup(from: .bob, index: 1, mode: 1, position: 1), .deliver(from: .bob, index: 1), .flush(from: .bob),
            ]),
            ("one-time-kem-reinitiate", 0, false, [
                .send(from: .alice), .reinitiate(bundle: 0), .send(from: .alice), .reinitiate(bundle: 2), .send(from: .alice),
                .reinitiate(bundle: 1), .send(from: .alice, count: 2), .deliver(from: .alice, index: 2),
                .deliver(from: .alice, index: 0), .reload(.bob), .flush(from: .alice), .send(from: .bob), .flush(from: .bob),
            ]),
            ("last-resort-reinitiate", 3, false, [
                .send(from: .alice), .reinitiate(bundle: 3), .send(from: .alice), .reinitiate(bundle: 0),
                .reinitiate(bundle: 3), .send(from: .alice, count: 2), .deliver(from: .alice, index: 3),
                .deliver(from: .alice, index: 1), .duplicate(from: .alice), .flush(from: .alice), .send(from: .bob),
                .flush(from: .bob), .duplicate(from: .alice, index: 2),
            ]),
            ("classical-tampers", 0, true, [
                .send(from: .alice, count: 2), .tamperSetup(from: .alice, index: 0, mode: 3, position: 0, mask: 1),
                .tamperSetup(from: .alice, index: 0, mode: 0), .tamper(from: .alice, index: 1, mode: 0, position: 1, mask: 0x07),
                .deliver(from: .alice), .tamperSetup(from: .alice, index: 1, mode: 3, position: 0, mask: 2),
                .duplicate(from: .alice), .send(from: .bob), .deliver(from: .bob),
            ]),
            ("classical-everything", 1, true, [
                .send(from: .alice, count: 4, length: 0), .deliver(from: .alice, index: 2), .send(from: .bob, count: 2),
                .drop(from: .bob), .deliver(from: .bob), .duplicate(from: .bob), .bobInitiates, .send(from: .bob),
                .tamper(from: .bob, index: 1, mode: 1, position: 44, mask: 0), .reload(.alice),
                .send(from: .alice, count: 3, length: 200), .deliver(from: .alice, index: 4), .reinitiate(bundle: 1),
                .send(from: .alice), .deliver(from: .alice, index: 5), .send(from: .bob), .flush(from: .bob),
                .duplicate(from: .alice, index: 1), .flush(from: .alice), .reload(.bob),
            ]),
        ]
        return scripts.map { ($0.0, Interaction.script(firstBundle: $0.1, classical: $0.2, $0.3)) }
    }

    // MARK: Groups

    static func distributions() -> [(name: String, bytes: [UInt8])] {
        let f = GroupFixture.built
        func fresh(_ id: DistributionID, _ seed: String) -> [UInt8] {
            try! GroupSession(distributionID: id, local: GroupFixture.dave, identity: GroupFixture.identity(GroupFixture.dave),
                              members: [], random: DeterministicRandom(seed: seed)).distribution.serialized
        }
        return [
            ("alice-chain1", f.aliceDistributions[0].serialized),
            ("alice-chain2", f.aliceDistributions[1].serialized),
            ("carol", f.carolDistribution.serialized),
            ("bob-own", f.bob.distribution.serialized),
            ("new-chain", fresh(GroupFixture.distributionID, "corpus new chain")),
            ("other-group", fresh(GroupFixture.otherDistributionID, "corpus other group")),
        ]
    }

    static func groupRecords() -> [(name: String, bytes: [UInt8])] {
        let f = GroupFixture.built
        let id = GroupFixture.distributionID
        // Five chains from one sender (the most kept), with skipped keys on each.
        let dave = GroupFixture.dave, daveID = GroupFixture.identity(dave)
        var bob = try! GroupSession(distributionID: id, local: GroupFixture.bob, identity: GroupFixture.identity(GroupFixture.bob),
                                    members: [GroupFixture.member(dave)], random: DeterministicRandom(seed: "corpus bob"))
        var sender = try! GroupSession(invitation: bob.snapshot, from: GroupFixture.bob, senderIdentity: GroupFixture.identity(GroupFixture.bob),
                                       local: dave, identity: daveID, random: DeterministicRandom(seed: "corpus dave"))
        let r = DeterministicRandom(seed: "corpus dave messages")
        for chain in 0..<6 {
            if chain > 0 { sender.rotate(random: r) }
            try! bob.process(sender.distribution, from: dave, identity: daveID)
            let sent = (0..<4).map { i in try! sender.encrypt(filler(i), random: r) }
            _ = try! bob.decrypt(sent[3], from: dave)
            _ = try! bob.decrypt(sent[1], from: dave)
        }
        let many = (0..<40).map { i in
            GroupMember(address: ProtocolAddress(userID: "member \(i)", deviceID: UInt32(i % 3)),
                        identityKey: Fixtures.identity("corpus member \(i)").publicKey, isAdmin: i % 7 == 0)
        }
        // Bob removed by Alice: a tombstone at revision 2.
        var alice = f.aliceGroup
        let removal = try! alice.changeMembers(removing: [GroupFixture.bob], random: DeterministicRandom(seed: "corpus removal"))
        var tombstone = f.bob
        _ = try! tombstone.apply(removal, from: GroupFixture.alice, identity: GroupFixture.identity(GroupFixture.alice),
                                 random: DeterministicRandom(seed: "corpus tombstone"))
        return [
            ("bob-fixture", f.bobRecord),
            ("alice-after-sending", f.aliceRecord),
            ("alice-after-removing-bob", alice.serialized()),
            ("bob-tombstone", tombstone.serialized()),
            ("fresh-no-members", try! GroupSession(distributionID: id, local: GroupFixture.alice, identity: GroupFixture.identity(GroupFixture.alice),
                                                  members: [], random: DeterministicRandom(seed: "corpus fresh")).serialized()),
            ("five-chains-skipped", bob.serialized()),
            ("forty-members", try! GroupSession(distributionID: id, local: GroupFixture.alice, identity: GroupFixture.identity(GroupFixture.alice),
                                               members: many, random: DeterministicRandom(seed: "corpus many")).serialized()),
        ]
    }

    /// GroupUpdates for Bob's fixed group: the admin's changes made through the
    /// API, a member leaving, and snapshots that §5b refuses.
    static func groupUpdates() -> [(name: String, bytes: [UInt8])] {
        let f = GroupFixture.built
        let id = GroupFixture.distributionID
        let r = DeterministicRandom(seed: "corpus updates")
        func change(adding: [GroupMember] = [], removing: [ProtocolAddress] = []) -> [UInt8] {
            var alice = f.aliceGroup
            return try! alice.changeMembers(adding: adding, removing: removing, random: r).serialized
        }
        func update(_ revision: UInt32, _ members: [GroupMember], id: DistributionID = id) -> [UInt8] {
            try! GroupUpdate(distributionID: id, revision: revision, members: members).serialized
        }
        let roster = f.invitation.members
        let (alice, bob, carol) = (GroupFixture.alice, GroupFixture.bob, GroupFixture.carol)
        let many = (0..<40).map { i in
            GroupMember(address: ProtocolAddress(userID: "member \(i)", deviceID: UInt32(i)),
                        identityKey: Fixtures.identity("corpus member \(i)").publicKey, isAdmin: i == 0)
        }
        return [
            ("snapshot-r1", f.invitation.serialized),
            ("add-dave-r2", change(adding: [GroupFixture.member(GroupFixture.dave)])),
            ("add-dave-admin-r2", change(adding: [GroupFixture.member(GroupFixture.dave, admin: true)])),
            ("remove-carol-r2", change(removing: [carol])),
            ("remove-bob-r2", change(removing: [bob])),
            ("remove-bob-carol-add-dave-r2", change(adding: [GroupFixture.member(GroupFixture.dave)], removing: [bob, carol])),
            ("carol-leaves-r2", update(2, roster.filter { $0.address != carol })),
            ("carol-leaves-r1", update(1, roster.filter { $0.address != carol })),
            ("carol-admin-r1", update(1, roster.map { GroupFixture.member($0.address, admin: $0.address != bob) })),
            ("alice-not-admin-r1", update(1, roster.map { GroupFixture.member($0.address) })),
            ("carol-admin-r3", update(3, roster.map { GroupFixture.member($0.address, admin: $0.address != bob) })),
            ("bob-other-identity-r2", update(2, roster.map { $0.address == bob ? GroupMember(address: bob, identityKey: GroupFixture.identity(GroupFixture.dave)) : $0 })),
            ("carol-new-identity-r2", update(2, roster.map { $0.address == carol ? GroupMember(address: carol, identityKey: GroupFixture.identity(GroupFixture.dave)) : $0 })),
            ("stale-r0", update(0, roster)),
            ("other-group-r2", update(2, roster, id: GroupFixture.otherDistributionID)),
            ("forty-members-r9", update(9, many + [GroupFixture.member(alice, admin: true), GroupFixture.member(bob)])),
            ("max-revision", update(UInt32.max, roster)),
        ]
    }

    static func groupInteractionScripts() -> [(name: String, bytes: [UInt8])] {
        typealias A = GroupInteraction.Action
        let scripts: [(String, [A])] = [
            ("empty", []),
            ("round", [.send(from: 0), .send(from: 1), .send(from: 2), .deliver(to: 0), .deliver(to: 1), .deliver(to: 2),
                       .deliver(to: 0), .deliver(to: 1), .deliver(to: 2)]),
            ("reorder-drop", [.send(from: 0, count: 6, length: 30), .deliver(to: 1, index: 4), .deliver(to: 1, index: 1),
                              .drop(to: 2, index: 2), .deliver(to: 2, index: 3), .send(from: 1, count: 2), .deliver(to: 0, index: 1)]),
            ("duplicates", [.send(from: 2, count: 3), .deliver(to: 0), .deliver(to: 0, index: 1), .duplicate(to: 0),
                            .duplicate(to: 0, index: 1), .deliver(to: 1), .duplicate(to: 1)]),
            ("tamper-modes", [.send(from: 0, count: 2, length: 40),
                              .tamper(to: 1, index: 0, mode: 0, position: 5, mask: 0x20),
                              .tamper(to: 1, index: 0, mode: 0, position: 20, mask: 0x01),
                              .tamper(to: 1, index: 1, mode: 1, position: 60, mask: 0),
                              .tamper(to: 2, index: 1, mode: 2, position: 30, mask: 0x55),
                              .tamper(to: 2, index: 0, mode: 3, position: 100, mask: 3),
                              .deliver(to: 1), .deliver(to: 2)]),
            ("remove-member", [.send(from: 0, count: 2), .send(from: 2), .membership(2), .send(from: 0), .send(from: 1),
                               .deliver(to: 2), .deliver(to: 2), .deliver(to: 1, index: 2), .membership(2), .send(from: 2)]),
            ("add-outsider", [.send(from: 1), .membership(3), .send(from: 3, count: 2), .send(from: 1), .deliver(to: 3),
                              .deliver(to: 0, index: 1), .rotate(3), .send(from: 3)]),
            ("rotations", [.send(from: 0), .rotate(0), .send(from: 0), .rotate(0), .rotate(0), .rotate(0), .rotate(0),
                           .send(from: 0), .deliver(to: 1, index: 2), .deliver(to: 1), .deliver(to: 2, index: 1)]),
            ("reload", [.send(from: 0, count: 3), .deliver(to: 1, index: 2), .reload(1), .deliver(to: 1), .reload(0),
                        .send(from: 0), .membership(1), .reload(1), .reload(3)]),
            ("backlog", [.send(from: 0, count: 8, length: 12), .send(from: 1, count: 2), .deliver(to: 2, index: 5),
                         .deliverBacklog(to: 2), .rotate(0), .send(from: 0, count: 3), .deliverBacklog(to: 1, extras: true),
                         .duplicate(to: 1, index: 3), .deliverBacklog(to: 2, index: 1, extras: true)]),
            ("everything", [.send(from: 0, count: 4, length: 0), .membership(3), .send(from: 3, count: 2, length: 200),
                            .deliver(to: 0, index: 3), .duplicate(to: 0), .tamper(to: 2, index: 4, mode: 1, position: 44, mask: 0),
                            .leave(1), .send(from: 1), .rotate(2), .send(from: 2, count: 3), .drop(to: 1, index: 1),
                            .reload(2), .deliver(to: 0), .membership(1), .send(from: 0), .membership(3), .reload(3)]),
            ("leave-rejoin", [.send(from: 2, count: 2), .leave(2), .send(from: 0), .send(from: 1), .deliver(to: 2),
                              .deliver(to: 0), .reload(2), .membership(2), .send(from: 2), .deliver(to: 1), .leave(2), .leave(1),
                              .send(from: 0), .membership(1), .membership(2)]),
            ("remove-everyone", [.membership(3), .send(from: 3), .membership(1), .membership(2), .membership(3), .send(from: 0),
                                 .membership(0), .membership(3), .send(from: 3), .deliver(to: 0)]),
        ]
        return scripts.map { ($0.0, GroupInteraction.script($0.1)) }
    }

    // MARK: C differential harness

    /// Seeds for fuzz/c/aead_diff.c, in the layout its header describes.
    public static func aeadDiff() -> [(name: String, bytes: [UInt8])] {
        let r = DeterministicRandom(seed: "aead diff")
        func chain(_ group: Bool, _ steps: UInt16) -> [UInt8] {
            [1, group ? 1 : 0, UInt8(steps >> 8), UInt8(truncatingIfNeeded: steps)] + r.bytes(32)
        }
        /// One AEAD item: flags, key, guard, lengths, plaintext, AD, tamper operands.
        func item(flags: UInt8, pt: Int, ad: Int, tamperAt: UInt16 = 0, mask: UInt8 = 1) -> [UInt8] {
            var out = [flags] + r.bytes(32) + r.bytes(4)
            out += flags & 0x80 != 0 ? [UInt8(pt >> 8), UInt8(truncatingIfNeeded: pt)] : [UInt8(pt)]
            out.append(UInt8(ad))
            out += filler(pt) + filler(ad).map { $0 ^ 0x5c }
            if flags & 0x10 != 0 { out += [UInt8(tamperAt >> 8), UInt8(truncatingIfNeeded: tamperAt)] }
            out.append(mask)
            return out
        }
        let eight = (0..<8).flatMap { i in
            item(flags: [0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x80, 0x90][i], pt: [0, 1, 17, 63, 40, 5, 1000, 300][i],
                 ad: [0, 106, 3, 127, 106, 0, 66, 1][i], tamperAt: [0, 0, 0, 0, 30, 2, 0, 310][i], mask: 0x80)
        }
        return [
            ("chain-ratchet-0", chain(false, 0)),
            ("chain-ratchet-1", chain(false, 1)),
            ("chain-ratchet-1000", chain(false, 1000)),
            ("chain-group-25", chain(true, 25)),
            ("aead-empty-batch", [0, 0]),
            ("aead-one", [0, 1] + item(flags: 0, pt: 10, ad: 106)),
            ("aead-one-random-guard", [0, 1] + item(flags: 1, pt: 33, ad: 0)),
            ("aead-one-tampered", [0, 1] + item(flags: 0x10, pt: 12, ad: 20, tamperAt: 4, mask: 0x01)),
            ("aead-one-long", [0, 1] + item(flags: 0x80, pt: 4000, ad: 106)),
            ("aead-eight-mixed", [0, 8] + eight),
        ]
    }

    static func filler(_ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    }
}
