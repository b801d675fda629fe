import E2EE

// Harnesses for the sender-key layer (PROTOCOL.md §4, §5, §6): the
// SenderKeyMessage and SenderKeyDistribution parsers, each fed on to a fixed
// member's group state, and the sender-key (group) record loader.

/// A fixed group seen by Bob (PROTOCOL.md §5b): Alice created it (admin,
/// revision 1) with Bob and Carol, who joined from her invitation. Alice has
/// sent on two chains (the second after a rotation), Carol on one; Bob has
/// read some of Alice's messages out of order, so both of her chains hold
/// skipped keys, and has sent his own chain to both. Dave is outside. Every
/// identity and chain is derived from labels and ``DeterministicRandom``, so
/// the records are the same every run.
public struct GroupFixture: Sendable {
    public struct Message: Sendable {
        public let name: String
        public let sender: ProtocolAddress
        public let plaintext: [UInt8]
        public let wire: [UInt8]
        /// Whether Bob's fixed state decrypts it (else it is refused, unchanged).
        public let decrypts: Bool
    }

    public static let distributionID = try! DistributionID(rawValue: Array(Fixtures.secret("group id").prefix(16)))
    public static let otherDistributionID = try! DistributionID(rawValue: Array(Fixtures.secret("other group").prefix(16)))
    public static let alice = ProtocolAddress(userID: "alice", deviceID: 1)
    public static let bob = ProtocolAddress(userID: "bob", deviceID: 1)
    public static let carol = ProtocolAddress(userID: "carol", deviceID: 1)
    public static let dave = ProtocolAddress(userID: "dave", deviceID: 7)

    /// The identity key each fixture address presents in its pairwise sessions.
    public static func identity(_ a: ProtocolAddress) -> IdentityKey.PublicKey {
        Fixtures.identity("group \(a.userID) identity").publicKey
    }

    public static func member(_ a: ProtocolAddress, admin: Bool = false) -> GroupMember {
        GroupMember(address: a, identityKey: identity(a), isAdmin: admin)
    }

    /// Bob's group record.
    public let bobRecord: [UInt8]
    /// Bob's group, loaded from ``bobRecord``.
    public let bob: GroupSession
    /// Alice's invitation (revision 1: Alice admin, Bob, Carol): also Bob's current snapshot.
    public let invitation: GroupUpdate
    /// Alice's distributions: her first chain, then her chain after rotating.
    public let aliceDistributions: [SenderKeyDistribution]
    /// Carol's distribution.
    public let carolDistribution: SenderKeyDistribution
    /// Messages from Alice and Carol, and what Bob's fixed state makes of each.
    public let messages: [Message]
    /// Alice's group after sending them (the admin: corpus updates start from it).
    public let aliceGroup: GroupSession
    /// Alice's group record (a record seed).
    public let aliceRecord: [UInt8]

    public static let built = GroupFixture()

    init() {
        let id = Self.distributionID
        var alice = try! GroupSession(distributionID: id, local: Self.alice, identity: Self.identity(Self.alice),
                                      members: [Self.member(Self.bob), Self.member(Self.carol)],
                                      random: DeterministicRandom(seed: "group alice"))
        let invitation = alice.snapshot
        func join(_ a: ProtocolAddress) -> GroupSession {
            try! GroupSession(invitation: invitation, from: Self.alice, senderIdentity: Self.identity(Self.alice),
                              local: a, identity: Self.identity(a), random: DeterministicRandom(seed: "group \(a.userID)"))
        }
        var carol = join(Self.carol)
        var bob = join(Self.bob)
        let ra = DeterministicRandom(seed: "group alice messages")
        let rc = DeterministicRandom(seed: "group carol messages")

        var sent: [(name: String, sender: ProtocolAddress, plaintext: [UInt8], wire: [UInt8])] = []
        func send(_ g: inout GroupSession, _ name: String, _ sender: ProtocolAddress, _ n: Int, _ r: DeterministicRandom) {
            let pt = Array("\(name): ".utf8) + SeedCorpus.filler(n)
            sent.append((name, sender, pt, try! g.encrypt(pt, random: r)))
        }
        let first = alice.distribution
        alice.markDistributed(to: alice.pendingDistribution)
        send(&alice, "alice-chain1-it0", Self.alice, 0, ra)
        send(&alice, "alice-chain1-it1", Self.alice, 100, ra)
        send(&alice, "alice-chain1-it2", Self.alice, 1, ra)
        let second = alice.rotate(random: DeterministicRandom(seed: "group alice rotation"))
        alice.markDistributed(to: alice.pendingDistribution)
        for i in 0..<5 { send(&alice, "alice-chain2-it\(i)", Self.alice, [3, 0, 1000, 16, 40][i], ra) }
        let carolFirst = carol.distribution
        send(&carol, "carol-it0", Self.carol, 20, rc)
        send(&carol, "carol-it1", Self.carol, 0, rc)

        try! bob.process(first, from: Self.alice, identity: Self.identity(Self.alice))
        try! bob.process(second, from: Self.alice, identity: Self.identity(Self.alice))
        try! bob.process(carolFirst, from: Self.carol, identity: Self.identity(Self.carol))
        bob.markDistributed(to: bob.pendingDistribution)
        // Out of order: chain 1 iteration 1 (skips 0), chain 2 iteration 2 (skips 0, 1).
        let read: Set<String> = ["alice-chain1-it1", "alice-chain2-it2"]
        for m in sent where read.contains(m.name) { _ = try! bob.decrypt(m.wire, from: m.sender) }

        // Refused by construction: another group's message, and a chain Bob never got.
        var other = try! GroupSession(distributionID: Self.otherDistributionID, local: Self.alice,
                                      identity: Self.identity(Self.alice), members: [Self.member(Self.bob)],
                                      random: DeterministicRandom(seed: "group other"))
        let otherPT = Array("other group".utf8)
        let otherWire = try! other.encrypt(otherPT, random: ra)
        var later = alice
        _ = later.rotate(random: DeterministicRandom(seed: "group alice undistributed"))
        let laterPT = Array("undistributed chain".utf8)
        let laterWire = try! later.encrypt(laterPT, random: ra)

        var messages = sent.map { m in
            Message(name: m.name, sender: m.sender, plaintext: m.plaintext, wire: m.wire, decrypts: !read.contains(m.name))
        }
        messages.append(Message(name: "other-group", sender: Self.alice, plaintext: otherPT, wire: otherWire, decrypts: false))
        messages.append(Message(name: "alice-undistributed", sender: Self.alice, plaintext: laterPT, wire: laterWire, decrypts: false))

        bobRecord = bob.serialized()
        self.bob = try! GroupSession(serialized: bobRecord)
        self.invitation = invitation
        aliceDistributions = [first, second]
        carolDistribution = carolFirst
        self.messages = messages
        aliceGroup = alice
        aliceRecord = alice.serialized()
    }

    /// The scripted message with these bytes from this sender, if any.
    func message(_ wire: [UInt8], from sender: ProtocolAddress) -> Message? {
        messages.first { $0.wire == wire && $0.sender == sender }
    }

    /// A message of this sender that Bob's fixed state decrypts (to check which chains survive a change).
    func readable(from sender: ProtocolAddress) -> Message {
        messages.first { $0.sender == sender && $0.decrypts }!
    }

    /// The chains Bob holds, by sender (his own under his address): id and signing key.
    var heldChains: [(sender: ProtocolAddress, chainID: UInt32, signingKey: IdentityKey.PublicKey)] {
        aliceDistributions.map { (Self.alice, $0.chainID, $0.signingKey) }
            + [(Self.carol, carolDistribution.chainID, carolDistribution.signingKey),
               (Self.bob, bob.distribution.chainID, bob.distribution.signingKey)]
    }
}

enum GroupChecks {
    // MARK: SenderKeyMessage

    /// Parses the input as a SenderKeyMessage, then offers it to Bob's fixed
    /// group as if from Alice and from Carol. Refused ⇒ Bob's record unchanged
    /// to the byte, with an error that matches the input; accepted ⇒ only a
    /// message the sender really signed, to its plaintext, once.
    static func senderKeyMessage(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let small = 64
        let strict = Result { () throws(WireError) in try SenderKeyMessage(serialized: data, maxPlaintext: small) }
        let parsed: SenderKeyMessage?
        do {
            parsed = try SenderKeyMessage(serialized: data)
        } catch {
            try ParserChecks.checkWireError(error, data, c)
            guard case .failure(let e2) = strict, e2 == error else {
                throw c.fail("input refused with \(error) under the default limit but not the same under \(small) bytes")
            }
            parsed = nil
        }
        if let m = parsed {
            try c.require(m.serialized == data, "a parsed SenderKeyMessage re-serialises to other bytes")
            try c.require(data[1] == MessageType.senderKey.rawValue, "type \(data[1]) parsed as a SenderKeyMessage")
            try c.require(m.distributionID.rawValue == Array(data[2..<18]), "distribution_id is not the bytes at 2..<18")
            try c.require(m.chainID == ParserChecks.u32(data, 18) && m.iteration == ParserChecks.u32(data, 22),
                          "chain_id or iteration is not the u32 at 18 / 22")
            let plaintext = data.count - 26 - 64 - AEADv1.overhead
            try c.require(plaintext >= 0 && plaintext <= Limits.defaultMaxPlaintext, "sealed part of a wrong size accepted")
            switch strict {
            case .success(let m2):
                try c.require(m2 == m && plaintext <= small, "the \(small)-byte limit was not applied")
            case .failure(let e2):
                try c.require(e2 == .tooLarge(size: plaintext, max: small), "the \(small)-byte limit refused with \(e2)")
            }
        }
        for sender in [GroupFixture.alice, GroupFixture.carol] {
            try groupDecrypt(data, parsed, from: sender, c)
        }
    }

    static func groupDecrypt(_ data: [UInt8], _ parsed: SenderKeyMessage?, from sender: ProtocolAddress,
                             _ c: Checker) throws(InvariantViolation) {
        let fixture = GroupFixture.built
        var g = fixture.bob
        let known = fixture.message(data, from: sender)
        let result = Result { () throws(GroupError) in try g.decrypt(data, from: sender) }
        switch result {
        case .failure(let e):
            try c.require(g.serialized() == fixture.bobRecord, "a refused group message (\(e)) changed the group")
            try c.require(known.map { !$0.decrypts } ?? true, "scripted message \(known?.name ?? "") was refused: \(e)")
            switch e {
            case .malformed(let w):
                try c.require(parsed == nil, "a parseable message was refused as malformed (\(w))")
            case .wrongGroup(let id):
                try c.require(parsed?.distributionID == id && id != GroupFixture.distributionID, "wrongGroup(\(id)) does not match the input")
            case .noSenderKey(let who, let chainID):
                try c.require(who == sender && parsed?.chainID == chainID, "noSenderKey names another sender or chain")
            case .duplicate(let it):
                try c.require(parsed?.iteration == it, "duplicate(\(it)) names another iteration")
            case .tooFarAhead(_, let max):
                try c.require(max == Limits.maxSenderKeyJump, "tooFarAhead with max \(max)")
            case .invalidSignature, .authenticationFailure:
                try c.require(parsed != nil, "an unparseable message reached verification")
            case .chainExhausted, .notAMember, .notAnAdmin, .staleRevision, .chainClaimed, .notInGroup, .invalidRoster:
                throw c.fail("decryption reported \(e)")
            }
        case .success(let plaintext):
            guard let m = known, m.decrypts else {
                throw c.fail("a message \(sender) never signed was accepted")
            }
            try c.require(plaintext == m.plaintext, "scripted message \(m.name) decrypted to other bytes")
            let after = g.serialized()
            try c.require(after != fixture.bobRecord, "an accepted group message left the group unchanged")
            try ParserChecks.recordRoundTrip(after, GroupSession.init(serialized:), { $0.serialized() }, c)
            let again = Result { () throws(GroupError) in try g.decrypt(data, from: sender) }
            guard case .failure(let e) = again, e == .duplicate(iteration: parsed?.iteration ?? 0) else {
                throw c.fail("a group message was accepted twice (or refused other than as a duplicate: \(again))")
            }
            try c.require(g.serialized() == after, "a refused duplicate changed the group")
        }
    }

    // MARK: SenderKeyDistribution

    /// Parses the input as a SenderKeyDistribution, then hands it to Bob's
    /// fixed group as from each member (Alice, who has two chains there, and
    /// Carol), from Dave (not a member), from Alice presenting Carol's
    /// identity and from Bob himself. The outcome must be exactly what §5b
    /// says: only a member presenting its roster identity, never a chain id or
    /// signing key held for another sender (or Bob's own), never a known chain
    /// rewound; every refusal leaves the record unchanged to the byte.
    static func senderKeyDistribution(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let d: SenderKeyDistribution
        do { d = try SenderKeyDistribution(serialized: data) } catch {
            try ParserChecks.checkWireError(error, data, c)
            return
        }
        try c.require(d.serialized == data, "a parsed distribution re-serialises to other bytes")
        try c.require(data.count == SenderKeyDistribution.byteCount && data[1] == MessageType.senderKeyDistribution.rawValue,
                      "a distribution of \(data.count) bytes or type \(data[1]) parsed")
        try c.require(d.distributionID.rawValue == Array(data[2..<18]), "distribution_id is not the bytes at 2..<18")
        try c.require(d.chainID == ParserChecks.u32(data, 18) && d.iteration == ParserChecks.u32(data, 22),
                      "chain_id or iteration is not the u32 at 18 / 22")
        try c.require(d.signingKey.rawRepresentation == Array(data[58..<90]), "signing_pub is not the bytes at 58..<90")

        let fixture = GroupFixture.built
        let ownGroup = d.distributionID == GroupFixture.distributionID
        for sender in [GroupFixture.alice, GroupFixture.carol] {
            try distribution(d, from: sender, fixture, c)
        }
        // Not a member, a member presenting another's identity, ourselves: refused.
        for (sender, identity) in [(GroupFixture.dave, GroupFixture.identity(GroupFixture.dave)),
                                   (GroupFixture.alice, GroupFixture.identity(GroupFixture.carol)),
                                   (GroupFixture.bob, GroupFixture.identity(GroupFixture.bob))] {
            var h = fixture.bob
            let result = Result { () throws(GroupError) in try h.process(d, from: sender, identity: identity) }
            let expected: GroupError = ownGroup ? .notAMember(sender) : .wrongGroup(d.distributionID)
            guard case .failure(let e) = result, e == expected else {
                throw c.fail("a distribution from \(sender) presenting \(identity) gave \(result), not \(expected)")
            }
            try c.require(h.serialized() == fixture.bobRecord, "a refused distribution (\(e)) changed the group")
        }
    }

    /// `d` from `sender`, a member, over a session presenting its roster identity.
    static func distribution(_ d: SenderKeyDistribution, from sender: ProtocolAddress, _ fixture: GroupFixture,
                             _ c: Checker) throws(InvariantViolation) {
        let held = fixture.heldChains
        let claimed = held.contains { $0.sender != sender && ($0.chainID == d.chainID || $0.signingKey == d.signingKey) }
        let known = held.first { $0.sender == sender && $0.chainID == d.chainID }
        let expected: Result<Void, GroupError>? =
            d.distributionID != GroupFixture.distributionID ? .failure(.wrongGroup(d.distributionID))
            : claimed ? .failure(.chainClaimed(chainID: d.chainID))
            : known.map { $0.signingKey == d.signingKey ? .success(()) : .failure(.invalidSignature) }
        var g = fixture.bob
        let result = Result { () throws(GroupError) in try g.process(d, from: sender, identity: GroupFixture.identity(sender)) }
        let after = g.serialized()
        switch (result, expected) {
        case (.failure(let e), .failure(let x)?):
            try c.require(e == x, "a distribution from \(sender) was refused with \(e), not \(x)")
            try c.require(after == fixture.bobRecord, "a refused distribution (\(e)) changed the group")
        case (.failure(let e), _):
            throw c.fail("a distribution from \(sender) of \(known == nil ? "a new" : "a known") chain was refused: \(e)")
        case (.success, .failure(let x)?):
            throw c.fail("a distribution from \(sender) was accepted, but must be refused with \(x)")
        case (.success, .success?):
            // A chain Bob holds is never rewound or replaced by a distribution.
            try c.require(after == fixture.bobRecord, "a distribution of a known chain changed the group")
        case (.success, nil):
            try c.require(after != fixture.bobRecord, "a new chain left the group unchanged")
            try ParserChecks.recordRoundTrip(after, GroupSession.init(serialized:), { $0.serialized() }, c)
            // Now known: a second copy changes nothing.
            try c.require((try? g.process(d, from: sender, identity: GroupFixture.identity(sender))) != nil
                          && g.serialized() == after, "a repeated distribution changed the group")
            // The sender's newest fixture chain is one of at most five: it still decrypts.
            let m = fixture.messages.last { $0.sender == sender && $0.decrypts }!
            try c.require((try? g.decrypt(m.wire, from: sender)) == m.plaintext, "a new chain evicted or broke the chain before it")
        }
    }

    // MARK: Group records

    /// A sender-key record: loads to exactly itself with its invariants
    /// (roster sorted, pending distributions to members only, a tombstone holds
    /// nothing), states its roster as a GroupUpdate that parses back, and, if
    /// this device is a member, sends messages that a member holding its
    /// distribution reads; a tombstone refuses to send.
    static func groupRecord(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let group: GroupSession
        do { group = try GroupSession(serialized: data) } catch {
            try ParserChecks.checkRecordError(error, data, c)
            return
        }
        try c.require(group.serialized() == data, "a parsed group record re-serialises to other bytes")
        try c.require(zip(group.members, group.members.dropFirst()).allSatisfy { $0 < $1 }, "members are not sorted and distinct")
        let rosterBytes = group.roster.map { Array($0.address.description.utf8) }
        try c.require(zip(rosterBytes, rosterBytes.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) },
                      "the roster is not in address order")
        try c.require(group.pendingDistribution.allSatisfy(group.members.contains), "a pending distribution to a non-member")
        try c.require(group.isMember || group.pendingDistribution.isEmpty, "a tombstone with pending distributions")
        // A roster on the wire carries addresses of at most 255 bytes; so does a record.
        try c.require(rosterBytes.allSatisfy { $0.count <= Int(UInt8.max) }, "a group record loaded a roster address longer than 255 bytes")
        if !group.roster.isEmpty {
            // Records trust stored identity keys (validated when they arrived;
            // sealed at rest), as session records do: a roster holding one that
            // is not a valid point states a snapshot every peer refuses. Nothing
            // else may make it unparseable.
            let snapshot = group.snapshot
            switch Result(catching: { () throws(WireError) in try GroupUpdate(serialized: snapshot.serialized) }) {
            case .success(let again):
                try c.require(again == snapshot, "a loaded group's snapshot parses back to another update")
            case .failure(.invalidKey(field: "IK_pub"))
                where group.roster.contains(where: { (try? IdentityKey.PublicKey(rawRepresentation: $0.identityKey.rawRepresentation)) == nil }):
                break
            case .failure(let e):
                throw c.fail("a loaded group's snapshot does not parse back: \(e)")
            }
        }

        var sender = group
        let d = group.distribution
        let plaintext = Array("group record".utf8)
        let sent = Result { () throws(GroupError) in try sender.encrypt(plaintext, random: DeterministicRandom(seed: "group record")) }
        switch sent {
        case .failure(let e):
            try c.require(group.isMember ? e == .chainExhausted && d.iteration == UInt32.max : e == .notInGroup,
                          "a loaded group could not encrypt: \(e)")
            try c.require(sender.serialized() == data, "a failed encryption changed the group")
        case .success(let wire):
            try c.require(group.isMember, "a group this device is not a member of encrypted")
            guard let m = try? SenderKeyMessage(serialized: wire) else {
                throw c.fail("a loaded group sent a message that does not parse")
            }
            try c.require(m.distributionID == d.distributionID && m.chainID == d.chainID && m.iteration == d.iteration,
                          "a message does not carry the group's chain and iteration")
            try ParserChecks.recordRoundTrip(sender.serialized(), GroupSession.init(serialized:), { $0.serialized() }, c)
            // A group with the record's device as a member, given the distribution first, reads the message.
            let me = ProtocolAddress(userID: group.localAddress.userID == "record reader" ? "record reader 2" : "record reader",
                                     deviceID: 1)
            let owner = GroupMember(address: group.localAddress, identityKey: group.localIdentity)
            let built = Result { () throws(GroupError) in
                try GroupSession(distributionID: d.distributionID, local: me, identity: Fixtures.identity("record reader").publicKey,
                                 members: [owner], random: DeterministicRandom(seed: "group reader"))
            }
            guard case .success(var reader) = built else {
                throw c.fail("a member's address cannot be listed in a roster: \(built)")
            }
            let own = reader.distribution
            let read = Result { () throws(GroupError) in
                try reader.process(d, from: group.localAddress, identity: group.localIdentity)
                return try reader.decrypt(wire, from: group.localAddress)
            }
            switch read {
            case .success(let got):
                try c.require(got == plaintext, "a member read another plaintext")
            case .failure(.chainClaimed) where own.chainID == d.chainID || own.signingKey == d.signingKey:
                break   // the record holds the reader's own chain: refusing it is right
            case .failure:
                throw c.fail("a member holding the distribution could not read the message: \(read)")
            }
        }
        // Receiving through a loaded group: refused ⇒ unchanged.
        let m = GroupFixture.built.messages[0]
        var receiver = group
        if (try? receiver.decrypt(m.wire, from: m.sender)) == nil {
            try c.require(receiver.serialized() == data, "a refused message changed a loaded group")
        }
    }
}
