import E2EE

// Harnesses for the sender-key layer (PROTOCOL.md §4, §5, §6): the
// SenderKeyMessage and SenderKeyDistribution parsers, each fed on to a fixed
// member's group state, and the sender-key (group) record loader.

/// A fixed group seen by Bob: Alice has sent on two chains (the second after a
/// rotation), Carol on one; Bob has read some of Alice's messages out of
/// order, so both of her chains hold skipped keys. Everything is derived from
/// labels and ``DeterministicRandom``, so the records are the same every run.
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
    public static let alice = ProtocolAddress(userID: "alice", deviceID: 1)
    public static let bob = ProtocolAddress(userID: "bob", deviceID: 1)
    public static let carol = ProtocolAddress(userID: "carol", deviceID: 1)

    /// Bob's group record.
    public let bobRecord: [UInt8]
    /// Bob's group, loaded from ``bobRecord``.
    public let bob: GroupSession
    /// Alice's distributions: her first chain, then her chain after rotating.
    public let aliceDistributions: [SenderKeyDistribution]
    /// Carol's distribution.
    public let carolDistribution: SenderKeyDistribution
    /// Messages from Alice and Carol, and what Bob's fixed state makes of each.
    public let messages: [Message]
    /// Alice's group after sending them (a record seed).
    public let aliceRecord: [UInt8]

    public static let built = GroupFixture()

    init() {
        let id = Self.distributionID
        var alice = GroupSession(distributionID: id, members: [Self.bob, Self.carol], random: DeterministicRandom(seed: "group alice"))
        var carol = GroupSession(distributionID: id, members: [Self.alice, Self.bob], random: DeterministicRandom(seed: "group carol"))
        var bob = GroupSession(distributionID: id, members: [Self.alice, Self.carol], random: DeterministicRandom(seed: "group bob"))
        let ra = DeterministicRandom(seed: "group alice messages")
        let rc = DeterministicRandom(seed: "group carol messages")

        var sent: [(name: String, sender: ProtocolAddress, plaintext: [UInt8], wire: [UInt8])] = []
        func send(_ g: inout GroupSession, _ name: String, _ sender: ProtocolAddress, _ n: Int, _ r: DeterministicRandom) {
            let pt = Array("\(name): ".utf8) + SeedCorpus.filler(n)
            sent.append((name, sender, pt, try! g.encrypt(pt, random: r)))
        }
        let first = alice.distribution
        send(&alice, "alice-chain1-it0", Self.alice, 0, ra)
        send(&alice, "alice-chain1-it1", Self.alice, 100, ra)
        send(&alice, "alice-chain1-it2", Self.alice, 1, ra)
        let second = alice.rotate(random: DeterministicRandom(seed: "group alice rotation"))
        for i in 0..<5 { send(&alice, "alice-chain2-it\(i)", Self.alice, [3, 0, 1000, 16, 40][i], ra) }
        let carolFirst = carol.distribution
        send(&carol, "carol-it0", Self.carol, 20, rc)
        send(&carol, "carol-it1", Self.carol, 0, rc)

        try! bob.process(first, from: Self.alice)
        try! bob.process(second, from: Self.alice)
        try! bob.process(carolFirst, from: Self.carol)
        // Out of order: chain 1 iteration 1 (skips 0), chain 2 iteration 2 (skips 0, 1).
        let read: Set<String> = ["alice-chain1-it1", "alice-chain2-it2"]
        for m in sent where read.contains(m.name) { _ = try! bob.decrypt(m.wire, from: m.sender) }

        // Refused by construction: another group's message, and a chain Bob never got.
        var other = GroupSession(distributionID: try! DistributionID(rawValue: Array(Fixtures.secret("other group").prefix(16))),
                                 members: [Self.bob], random: DeterministicRandom(seed: "group other"))
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
        aliceDistributions = [first, second]
        carolDistribution = carolFirst
        self.messages = messages
        aliceRecord = alice.serialized()
    }

    /// The scripted message with these bytes from this sender, if any.
    func message(_ wire: [UInt8], from sender: ProtocolAddress) -> Message? {
        messages.first { $0.wire == wire && $0.sender == sender }
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
            case .chainExhausted:
                throw c.fail("decryption reported chainExhausted")
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
    /// fixed group as if from Alice (who has two chains there) and from Dave (a
    /// sender Bob has never heard from).
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
        let known = fixture.aliceDistributions.first { $0.chainID == d.chainID }
        var g = fixture.bob
        let fromAlice = Result { () throws(GroupError) in try g.process(d, from: GroupFixture.alice) }
        let after = g.serialized()
        switch fromAlice {
        case .failure(let e):
            try c.require(after == fixture.bobRecord, "a refused distribution (\(e)) changed the group")
            if d.distributionID != GroupFixture.distributionID {
                try c.require(e == .wrongGroup(d.distributionID), "another group's distribution refused with \(e)")
            } else {
                try c.require(e == .invalidSignature && known != nil && known?.signingKey != d.signingKey,
                              "a distribution was refused with \(e)")
            }
        case .success:
            try c.require(d.distributionID == GroupFixture.distributionID, "another group's distribution was accepted")
            if let k = known {
                // A chain Bob holds is never rewound or replaced by a distribution.
                try c.require(k.signingKey == d.signingKey, "a known chain was accepted with another signing key")
                try c.require(after == fixture.bobRecord, "a distribution of a known chain changed the group")
            } else {
                try c.require(after != fixture.bobRecord, "a new chain left the group unchanged")
                try ParserChecks.recordRoundTrip(after, GroupSession.init(serialized:), { $0.serialized() }, c)
                // Now known: a second copy changes nothing.
                try c.require((try? g.process(d, from: GroupFixture.alice)) != nil && g.serialized() == after,
                              "a repeated distribution changed the group")
                // Alice's newest fixture chain is one of at most five: it still decrypts.
                let m = fixture.messages.first { $0.name == "alice-chain2-it4" }!
                try c.require((try? g.decrypt(m.wire, from: GroupFixture.alice)) == m.plaintext,
                              "a new chain evicted or broke the chain before it")
            }
        }

        let dave = ProtocolAddress(userID: "dave", deviceID: 7)
        var h = fixture.bob
        let fromDave = Result { () throws(GroupError) in try h.process(d, from: dave) }
        switch fromDave {
        case .failure(let e):
            try c.require(e == .wrongGroup(d.distributionID) && d.distributionID != GroupFixture.distributionID,
                          "a new sender's distribution was refused with \(e)")
            try c.require(h.serialized() == fixture.bobRecord, "a refused distribution changed the group")
        case .success:
            try c.require(h.members.contains(dave), "a new sender did not become a member")
            try ParserChecks.recordRoundTrip(h.serialized(), GroupSession.init(serialized:), { $0.serialized() }, c)
        }
    }

    // MARK: Group records

    /// A sender-key record: loads to exactly itself, and the loaded group can
    /// send messages that a member holding its distribution reads.
    static func groupRecord(_ data: [UInt8], _ c: Checker) throws(InvariantViolation) {
        let group: GroupSession
        do { group = try GroupSession(serialized: data) } catch {
            try ParserChecks.checkRecordError(error, data, c)
            return
        }
        try c.require(group.serialized() == data, "a parsed group record re-serialises to other bytes")
        try c.require(zip(group.members, group.members.dropFirst()).allSatisfy { $0 < $1 }, "members are not sorted and distinct")

        var sender = group
        let d = group.distribution
        let plaintext = Array("group record".utf8)
        let sent = Result { () throws(GroupError) in try sender.encrypt(plaintext, random: DeterministicRandom(seed: "group record")) }
        switch sent {
        case .failure(let e):
            try c.require(e == .chainExhausted && d.iteration == UInt32.max, "a loaded group could not encrypt: \(e)")
            try c.require(sender.serialized() == data, "a failed encryption changed the group")
        case .success(let wire):
            guard let m = try? SenderKeyMessage(serialized: wire) else {
                throw c.fail("a loaded group sent a message that does not parse")
            }
            try c.require(m.distributionID == d.distributionID && m.chainID == d.chainID && m.iteration == d.iteration,
                          "a message does not carry the group's chain and iteration")
            try ParserChecks.recordRoundTrip(sender.serialized(), GroupSession.init(serialized:), { $0.serialized() }, c)
            // A member given the distribution first reads the message.
            let me = ProtocolAddress(userID: "record owner", deviceID: 1)
            var reader = GroupSession(distributionID: d.distributionID, members: [me], random: DeterministicRandom(seed: "group reader"))
            let read = Result { () throws(GroupError) in
                try reader.process(d, from: me)
                return try reader.decrypt(wire, from: me)
            }
            guard case .success(let got) = read else {
                throw c.fail("a member holding the distribution could not read the message: \(read)")
            }
            try c.require(got == plaintext, "a member read another plaintext")
        }
        // Receiving through a loaded group: refused ⇒ unchanged.
        let m = GroupFixture.built.messages[0]
        var receiver = group
        if (try? receiver.decrypt(m.wire, from: m.sender)) == nil {
            try c.require(receiver.serialized() == data, "a refused message changed a loaded group")
        }
    }
}
