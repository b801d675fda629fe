import E2EE

/// The seed corpora: valid inputs of every kind for every target, made with
/// deterministic randomness so that `make-corpus` always writes the same
/// bytes. File names say what each seed is.
public enum SeedCorpus {
    public static func files(for target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        switch target {
        case .bundle: return bundles()
        case .prekeyMessage: return messages().filter { $0.bytes[1] == MessageType.preKey.rawValue }
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

    static func bundles() -> [(name: String, bytes: [UInt8])] {
        let b = Fixtures.bobBundles.map(\.serialized)
        var out: [(String, [UInt8])] = [
            ("opk1", b[0]), ("opk2", b[1]), ("opk3", b[2]), ("no-opk", b[3]),
        ]
        // With an ML-KEM-1024 prekey (flag bit 1): the key is filler bytes, as
        // the parser only checks its length, but the signature over it is real.
        let bob = Fixtures.identity("bob identity")
        for (name, base) in [("opk1-kem", b[0]), ("no-opk-kem", b[3])] {
            var bytes = base
            bytes[1] |= 0x02
            let kem = DeterministicRandom(seed: "kem prekey").bytes(64)
            var pub = [UInt8]()
            while pub.count < 1568 { pub += kem }
            pub = Array(pub.prefix(1568))
            bytes += [0, 0, 0, 7] + pub + bob.signature(for: [0x0A] + pub)
            out.append((name, bytes))
        }
        var badSignature = b[3]
        badSignature[100] ^= 0x01
        out.append(("bad-signature", badSignature))
        var carol = Fixtures.account("carol", oneTimePreKeys: 1)
        out.append(("carol-opk", carol.publishBundle().serialized))
        out.append(("carol-no-opk", carol.publishBundle().serialized))
        return out
    }

    // MARK: Messages

    /// PreKeyMessages and RatchetMessages of several sessions and sizes.
    static func messages() -> [(name: String, bytes: [UInt8])] {
        var out = DecryptFixture.built.messages.map { ($0.name, $0.wire) }
        // A session to Bob's bundle with one-time prekey 2: first messages of
        // several sizes, then a reply and ratchet messages of several sizes.
        let ra = DeterministicRandom(seed: "corpus messages alice")
        let rb = DeterministicRandom(seed: "corpus messages bob")
        var alice = try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobBundles[1], random: ra)
        var account = Fixtures.bobAccount
        let sizes = [0, 1, 100, 1000]
        var first: [UInt8] = []
        for n in sizes {
            let m = try! alice.encrypt(filler(n), random: ra)
            if first.isEmpty { first = m }
            out.append(("prekey-opk2-\(n)", m))
        }
        var (bob, _) = try! account.acceptSession(from: first, random: rb)
        let reply = try! bob.encrypt(Array("reply".utf8), random: rb)
        _ = try! alice.decrypt(reply, random: ra)
        for n in sizes {
            out.append(("ratchet-\(n)", try! alice.encrypt(filler(n), random: ra)))
        }
        // A first message without a one-time prekey.
        let rc = DeterministicRandom(seed: "corpus messages alice no opk")
        var other = try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobBundles[3], random: rc)
        out.append(("prekey-no-opk", try! other.encrypt(filler(16), random: rc)))
        return out
    }

    // MARK: Records

    /// A conversation that leaves many kinds of state behind.
    struct Conversation {
        let ra: DeterministicRandom
        let rb: DeterministicRandom
        var alice: Session
        var bob: Session?
        var account = Fixtures.bobAccount

        init(bundle: Int, seed: String) {
            ra = DeterministicRandom(seed: "\(seed) alice")
            rb = DeterministicRandom(seed: "\(seed) bob")
            alice = try! Session.initiate(identity: Fixtures.alice, bundle: Fixtures.bobBundles[bundle], random: ra)
        }

        mutating func aliceSends(_ n: Int) -> [[UInt8]] {
            (0..<n).map { i in try! alice.encrypt(filler(i), random: ra) }
        }

        mutating func bobSends(_ n: Int) -> [[UInt8]] {
            (0..<n).map { i in try! bob!.encrypt(filler(i), random: rb) }
        }

        mutating func bobReceives(_ m: [UInt8]) {
            if bob == nil {
                bob = try! account.acceptSession(from: m, random: rb).session
            } else {
                _ = try! bob!.decrypt(m, random: rb)
            }
        }

        mutating func aliceReceives(_ m: [UInt8]) { _ = try! alice.decrypt(m, random: ra) }
    }

    static func sessionRecords() -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = [
            ("decrypt-fixture-recipient", DecryptFixture.built.sessionRecord),
            ("initiator-fresh-opk", Interaction.firstSessions[0].serialized()),
            ("initiator-fresh-no-opk", Interaction.firstSessions[1].serialized()),
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
        return out
    }

    static func accountRecords() -> [(name: String, bytes: [UInt8])] {
        var published = Fixtures.bobAccount
        _ = published.publishBundle()
        _ = published.publishBundle()
        return [
            ("bob-3-opk", Fixtures.bobAccountRecord),
            ("alice-no-opk", Fixtures.aliceAccount.serialized()),
            ("bob-after-first-message", DecryptFixture.built.accountRecord),
            ("bob-2-published", published.serialized()),
            ("dave-20-opk", Fixtures.accountRecord("dave", oneTimePreKeys: 20)),
        ]
    }

    static func sessionSetRecords() -> [(name: String, bytes: [UInt8])] {
        let fixed = DecryptFixture.built.session
        let fresh = Interaction.firstSessions
        var c = Conversation(bundle: 3, seed: "corpus sets")
        c.bobReceives(c.aliceSends(1)[0])
        return [
            ("empty", SessionSet().serialized()),
            ("current-only", SessionSet(current: fixed).serialized()),
            ("current-and-archived", SessionSet(current: c.bob!, archived: [fixed]).serialized()),
            ("archived-only", SessionSet(current: nil, archived: [fixed, c.bob!]).serialized()),
            ("initiator", SessionSet(current: fresh[0], archived: [fresh[1]]).serialized()),
        ]
    }

    // MARK: Interaction scripts

    static func interactionScripts() -> [(name: String, bytes: [UInt8])] {
        typealias A = Interaction.Action
        let pingPong: [A] = (0..<4).flatMap { _ in
            [A.send(from: .alice), .deliver(from: .alice), .send(from: .bob), .deliver(from: .bob)]
        }
        let scripts: [(String, Bool, [A])] = [
            ("empty", true, []),
            ("empty-no-opk", false, []),
            ("ping-pong", true, pingPong),
            ("ping-pong-no-opk", false, pingPong),
            ("lost-first-messages", true, [
                .send(from: .alice, count: 3), .drop(from: .alice), .drop(from: .alice), .deliver(from: .alice),
                .send(from: .bob), .deliver(from: .bob),
            ]),
            ("reorder", true, [
                .send(from: .alice, count: 5, length: 20), .deliver(from: .alice, index: 3), .deliver(from: .alice, index: 1),
                .send(from: .bob, count: 3), .deliver(from: .bob, index: 2), .send(from: .alice, count: 2),
                .deliver(from: .alice, index: 4), .flush(from: .alice), .flush(from: .bob),
            ]),
            ("old-chain-after-ratchet", true, [
                .send(from: .alice, count: 3), .deliver(from: .alice), .send(from: .bob), .deliver(from: .bob),
                .send(from: .alice, count: 2), .deliver(from: .alice, index: 2), .send(from: .bob), .deliver(from: .bob),
                .send(from: .alice), .flush(from: .alice),
            ]),
            ("duplicates", true, [
                .send(from: .alice, count: 2), .deliver(from: .alice), .duplicate(from: .alice),
                .send(from: .bob), .deliver(from: .bob), .duplicate(from: .bob), .deliver(from: .alice),
                .duplicate(from: .alice, index: 1), .duplicate(from: .alice, index: 0),
            ]),
            ("tamper-modes", true, [
                .send(from: .alice, count: 2), .tamper(from: .alice, index: 0, mode: 0, position: 90, mask: 0x40),
                .tamper(from: .alice, index: 0, mode: 1, position: 60, mask: 0),
                .tamper(from: .alice, index: 1, mode: 2, position: 120, mask: 0xAA),
                .tamper(from: .alice, index: 1, mode: 3, position: 3, mask: 5),
                .deliver(from: .alice), .send(from: .bob), .tamper(from: .bob, index: 0, mode: 0, position: 10, mask: 1),
                .tamper(from: .bob, index: 0, mode: 3, position: 50, mask: 7), .deliver(from: .bob),
            ]),
            ("tamper-prefix-fields", false, [
                .send(from: .alice), .tamper(from: .alice, index: 0, mode: 0, position: 5, mask: 0x10),
                .tamper(from: .alice, index: 0, mode: 0, position: 40, mask: 0x01),
                .tamper(from: .alice, index: 0, mode: 0, position: 69, mask: 0x02),
                .tamper(from: .alice, index: 0, mode: 0, position: 73, mask: 0x01),
                .deliver(from: .alice),
                .tamper(from: .alice, index: 0, mode: 0, position: 40, mask: 0x01),
            ]),
            ("reload", true, [
                .send(from: .alice, count: 3), .deliver(from: .alice, index: 1), .reload(.bob), .reload(.alice),
                .send(from: .bob, count: 2), .deliver(from: .bob, index: 1), .reload(.alice), .flush(from: .alice),
                .reload(.bob), .flush(from: .bob),
            ]),
            ("reinitiate", true, [
                .send(from: .alice, count: 2), .deliver(from: .alice), .send(from: .bob), .reinitiate(bundle: 0),
                .send(from: .alice, count: 2), .deliver(from: .alice, index: 1), .deliver(from: .bob),
                .reinitiate(bundle: 2), .send(from: .alice), .flush(from: .alice), .send(from: .bob), .flush(from: .bob),
            ]),
            ("reinitiate-all", false, [
                .send(from: .alice), .reinitiate(bundle: 0), .send(from: .alice), .reinitiate(bundle: 1),
                .send(from: .alice), .reinitiate(bundle: 2), .send(from: .alice), .deliver(from: .alice, index: 3),
                .deliver(from: .alice, index: 0), .send(from: .bob), .deliver(from: .bob), .flush(from: .alice),
                .reload(.bob), .send(from: .bob), .flush(from: .bob),
            ]),
            ("both-initiate", true, [
                .send(from: .alice), .bobInitiates, .send(from: .bob), .deliver(from: .alice), .deliver(from: .bob),
                .send(from: .alice), .send(from: .bob), .flush(from: .alice), .flush(from: .bob), .reload(.alice),
                .send(from: .bob), .deliver(from: .bob),
            ]),
            ("long-gap", true, [
                .send(from: .alice), .deliver(from: .alice), .send(from: .bob), .deliver(from: .bob),
                .send(from: .alice, count: 16), .send(from: .alice, count: 16), .send(from: .alice, count: 16),
                .deliver(from: .alice, index: 47), .drop(from: .alice, index: 5), .reload(.bob), .flush(from: .alice),
            ]),
            ("everything", true, [
                .send(from: .alice, count: 4, length: 0), .deliver(from: .alice, index: 2), .send(from: .bob, count: 2),
                .drop(from: .bob), .deliver(from: .bob), .duplicate(from: .bob),
                .tamper(from: .bob, index: 1, mode: 1, position: 44, mask: 0), .reload(.alice),
                .send(from: .alice, count: 3, length: 200), .deliver(from: .alice, index: 4), .reinitiate(bundle: 1),
                .send(from: .alice), .deliver(from: .alice, index: 5), .send(from: .bob), .flush(from: .bob),
                .duplicate(from: .alice, index: 1), .flush(from: .alice), .reload(.bob),
            ]),
        ]
        return scripts.map { ($0.0, Interaction.script(firstBundleHasOneTimePreKey: $0.1, $0.2)) }
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
