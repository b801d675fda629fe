import Synchronization
import Testing
import ToolSupport
@testable import E2EE

func member(_ n: Int) -> ProtocolAddress { ProtocolAddress(userID: "m\(n)", deviceID: 1) }

/// Member n's identity, from a fixed seed (cached: 64 participants at most).
private let identities: [IdentityKey.PrivateKey] = (0..<64).map { n in
    try! IdentityKey.PrivateKey(seed: [UInt8](repeating: UInt8(n + 1), count: 32))
}
func identity(_ n: Int) -> IdentityKey.PublicKey { identities[n].publicKey }
func entry(_ n: Int, admin: Bool = false) -> GroupMember {
    GroupMember(address: member(n), identityKey: identity(n), isAdmin: admin)
}

/// Member 0 creates the group (its admin) with 1..<n, each of them joins from
/// the invitation, and every member stores every other member's chain — as
/// the pairwise sessions would carry them (the manager tests cover that part).
func makeGroup(_ n: Int, id: DistributionID = .random()) throws -> [GroupSession] {
    let admin = try GroupSession(distributionID: id, local: member(0), identity: identity(0),
                                 members: (1..<n).map { entry($0) })
    var groups = [admin]
    for i in 1..<n {
        groups.append(try GroupSession(invitation: admin.snapshot, from: member(0), senderIdentity: identity(0),
                                       local: member(i), identity: identity(i)))
    }
    for i in 0..<n {
        for j in 0..<n where j != i { try groups[j].process(groups[i].distribution, from: member(i), identity: identity(i)) }
        groups[i].markDistributed(to: groups[i].members)
    }
    return groups
}

/// A reproducible source: byte n of the stream is `n mod 251`.
private final class CountingRandom: RandomSource {
    private let n = Mutex(0)
    func makePrivateKey() -> X25519.PrivateKey { X25519.PrivateKey() }
    func makeReuseGuard() -> [UInt8]? { nil }
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        n.withLock { n in
            for i in buffer.indices { buffer[i] = UInt8(n % 251); n += 1 }
        }
    }
}

@Suite("Sender-key groups")
struct GroupTests {
    @Test func everyoneReadsEveryone() throws {
        var g = try makeGroup(4)
        for sender in 0..<4 {
            let m = try g[sender].encrypt(Array("from \(sender)".utf8))
            for r in 0..<4 where r != sender {
                #expect(try g[r].decrypt(m, from: member(sender)) == Array("from \(sender)".utf8))
            }
        }
    }

    @Test func outOfOrderDuplicatesAndUnchangedStateOnFailure() throws {
        var g = try makeGroup(2)
        let ms = try (0..<10).map { try g[0].encrypt([UInt8($0)]) }
        for i in [9, 3, 0, 5, 1, 2, 8, 4, 7, 6] { #expect(try g[1].decrypt(ms[i], from: member(0)) == [UInt8(i)]) }
        let before = g[1].serialized()
        #expect(throws: GroupError.duplicate(iteration: 4)) { try g[1].decrypt(ms[4], from: member(0)) }
        var badSig = try g[0].encrypt([1]); badSig[badSig.count - 1] ^= 1
        #expect(throws: GroupError.invalidSignature) { try g[1].decrypt(badSig, from: member(0)) }
        var badBody = badSig; badBody[badBody.count - 1] ^= 1; badBody[30] ^= 1
        #expect(throws: GroupError.invalidSignature) { try g[1].decrypt(badBody, from: member(0)) }
        #expect(throws: GroupError.noSenderKey(member(5), chainID: g[0].own.chainID)) {
            try g[1].decrypt(ms[0], from: member(5))
        }
        for n in [0, 25, 26, 45, 110, ms[0].count - 1] {
            #expect(throws: GroupError.self) { try g[1].decrypt(Array(ms[0].prefix(n)), from: member(0)) }
        }
        #expect(g[1].serialized() == before)
        // Every single-byte change of a message is rejected, state unchanged.
        let fresh = try g[0].encrypt(Array("tamper".utf8))
        for i in fresh.indices {
            var bad = fresh; bad[i] ^= 0x10
            #expect(throws: GroupError.self, "byte \(i)") { try g[1].decrypt(bad, from: member(0)) }
        }
        #expect(g[1].serialized() == before)
        #expect(try g[1].decrypt(fresh, from: member(0)) == Array("tamper".utf8))
    }

    @Test func limits() throws {
        var g = try makeGroup(2)
        // 25,000 ahead is accepted, 25,001 is not.
        _ = try g[0].own.chainKey.messageKeys(count: 25_000)
        g[0].own.iteration = 25_000
        let far = try g[0].encrypt([1])
        var copy = g[1]
        #expect(try copy.decrypt(far, from: member(0)) == [1])
        #expect(copy.senders[member(0)]![0].skipped.count == Limits.maxSenderKeySkipped)
        _ = try g[0].own.chainKey.messageKeys(count: 25_000)
        g[0].own.iteration = 25_001 + 25_001
        let tooFar = try g[0].encrypt([2])
        let before = copy.serialized()
        #expect(throws: GroupError.tooFarAhead(got: 25_001, max: 25_000)) { try copy.decrypt(tooFar, from: member(0)) }
        #expect(copy.serialized() == before)
    }

    @Test func fiveChainsPerSenderSurviveRotation() throws {
        var g = try makeGroup(2)
        var old = [[UInt8]]()
        for _ in 0..<6 {
            old.append(try g[0].encrypt([7]))           // sent just before a rotation
            try g[1].process(g[0].rotate(), from: member(0), identity: identity(0))
        }
        // Seven chains were distributed (the first and six rotations); the newest five remain.
        #expect(g[1].senders[member(0)]!.count == Limits.maxChainsPerSender)
        for m in old[0...1] { #expect(throws: GroupError.self) { try g[1].decrypt(m, from: member(0)) } }
        for m in old[2...] { #expect(try g[1].decrypt(m, from: member(0)) == [7]) }
    }

    @Test func newMembersCannotReadEarlierMessages() throws {
        var g = try makeGroup(3)
        let early = try g[0].encrypt(Array("before you joined".utf8))
        let update = try g[0].changeMembers(adding: [entry(3)])
        #expect(g[0].pendingDistribution == [member(3)])
        var late = try GroupSession(invitation: update, from: member(0), senderIdentity: identity(0),
                                    local: member(3), identity: identity(3))
        for i in 1...2 { _ = try g[i].apply(update, from: member(0), identity: identity(0)) }
        try late.process(g[0].distribution, from: member(0), identity: identity(0))
        #expect(throws: GroupError.duplicate(iteration: 0)) { try late.decrypt(early, from: member(0)) }
        let now = try g[0].encrypt(Array("welcome".utf8))
        #expect(try late.decrypt(now, from: member(0)) == Array("welcome".utf8))
    }

    /// One admin removes a member; everyone else learns it from the update and
    /// replaces its own chain. The removed member, holding its full state, reads
    /// nothing sent afterwards by anyone, and cannot get back in by sending its
    /// chain again.
    @Test func removedMembersReadNothingNew() throws {
        var g = try makeGroup(4)
        let removed = g[3]
        let update = try g[0].changeMembers(removing: [member(3)])
        for j in 1...3 {
            let change = try g[j].apply(update, from: member(0), identity: identity(0))
            #expect(change.removed == (j == 3 ? [] : [member(3)]) && change.removedLocal == (j == 3) && change.rotated == (j != 3))
        }
        #expect(!g[3].isMember && g[3].senders.isEmpty)
        for i in 0..<3 {
            #expect(g[i].pendingDistribution == (0..<3).filter { $0 != i }.map(member))
            for j in 0..<3 where j != i { try g[j].process(g[i].distribution, from: member(i), identity: identity(i)) }
        }
        for i in 0..<3 {
            #expect(g[i].senders[member(3)] == nil)
            let m = try g[i].encrypt(Array("after".utf8))
            for ghost in [removed, g[3]] {   // the full state from before, and the tombstone
                var copy = ghost
                #expect(throws: GroupError.self) { try copy.decrypt(m, from: member(i)) }
            }
            for j in 0..<3 where j != i { #expect(try g[j].decrypt(m, from: member(i)) == Array("after".utf8)) }
            let before = g[i].serialized()
            #expect(throws: GroupError.notAMember(member(3))) {
                try g[i].process(removed.distribution, from: member(3), identity: identity(3))
            }
            #expect(g[i].serialized() == before)
        }
        // The removed member cannot send either.
        var tomb = g[3]
        #expect(throws: GroupError.notInGroup) { try tomb.encrypt([1]) }
    }

    @Test func backlogAgreesWithOneByOneAndIsolatesBadMessages() throws {
        var g = try makeGroup(2)
        // More than Limits.maxSenderKeySkipped messages: a batch must not lose keys to eviction.
        var backlog = try (0..<2500).map { try g[0].encrypt(Array("msg \($0)".utf8)) }
        backlog[10][backlog[10].count - 3] ^= 1                  // bad signature
        backlog[20] = Array(backlog[20].prefix(30))              // truncated
        backlog.append(backlog[30])                              // duplicate within the batch
        var rng = SplitMix64(state: 5)
        let order = Array(backlog.indices).shuffled(using: &rng)
        var one = g[1], batch = g[1]
        let shuffled = order.map { backlog[$0] }
        let results = batch.decryptBacklog(shuffled, from: member(0))
        var seen = Set<Int>()
        for (k, i) in order.enumerated() {
            let single = Result { () throws(GroupError) in try one.decrypt(shuffled[k], from: member(0)) }
            // One by one, a shuffled backlog of 2500 overflows the 2000 skipped keys
            // and loses some (they become duplicates); the batch needs no skipped
            // keys for what it holds, so it reads all of them. Otherwise they agree.
            switch (results[k], single) {
            case (.success(let a), .success(let b)): #expect(a == b)
            case (.failure, .failure): break
            case (.success, .failure(.duplicate)): break
            default: Issue.record("batch and single disagree on message \(i): \(results[k]) vs \(single)")
            }
            let origin = i == 2500 ? 30 : i
            if case .success = results[k] { #expect(seen.insert(origin).inserted) }
        }
        #expect(seen.count == 2498)
        // Exactly the keys of the two messages not read (bad signature, truncated) stay available.
        #expect(batch.senders[member(0)]![0].skipped.map(\.iteration).sorted() == [10, 20])
        // After the batch, every message is a duplicate; the state moved on once.
        for m in backlog.prefix(5) { #expect(throws: GroupError.self) { try batch.decrypt(m, from: member(0)) } }
        #expect(try batch.decrypt(try g[0].encrypt([1]), from: member(0)) == [1])
    }

    @Test func recordsRoundTrip() throws {
        var g = try makeGroup(3)
        _ = try g[1].decrypt(try g[0].encrypt([1]), from: member(0))
        let m = try g[0].encrypt([2]); _ = try g[0].encrypt([3]); let m3 = try g[0].encrypt([4])
        _ = try g[1].decrypt(m3, from: member(0))
        var loaded = try GroupSession(serialized: g[1].serialized())
        #expect(loaded.serialized() == g[1].serialized())
        #expect(try loaded.decrypt(m, from: member(0)) == [2])
        let bytes = g[1].serialized()
        for n in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: RecordError.self) { try GroupSession(serialized: Array(bytes.prefix(n))) }
        }
    }

    /// Each record has one encoding: lists the writer keeps sorted and distinct,
    /// skipped keys behind their chain in order, UTF-8 addresses. Anything else
    /// is refused rather than loaded into a group that breaks its invariants.
    @Test func recordsHaveOneEncoding() throws {
        let g = try makeGroup(3)[0]
        func load(_ tweak: (inout GroupSession) -> Void) -> RecordError? {
            var copy = g
            tweak(&copy)
            do { _ = try GroupSession(serialized: copy.serialized()); return nil } catch { return error }
        }
        #expect(load { _ in } == nil)
        #expect(load { $0.roster.reverse() } == .malformed("roster not sorted"))
        #expect(load { $0.roster[1] = $0.roster[2] } == .malformed("roster not sorted"))
        #expect(load { $0.pendingDistribution = [member(2), member(1)] } == .malformed("pending distribution"))
        #expect(load { $0.pendingDistribution = [member(7)] } == .malformed("pending distribution"))
        #expect(load { $0.senders[member(7)] = $0.senders[member(1)] } == .malformed("senders not sorted members"))
        #expect(load { $0.roster.removeAll { $0.address == member(0) } } == .malformed("tombstone with chains"))
        let sender = member(1)
        let chain = g.senders[sender]![0]
        #expect(load { $0.senders[sender] = [chain, chain] } == .malformed("duplicate chain id"))
        func withSkipped(_ its: [UInt32], iteration: UInt32) -> RecordError? {
            load { grp in
                var c = ReceiverChain(chainID: chain.chainID, signingKey: chain.signingKey, iteration: iteration, chainKey: chain.chainKey)
                c.skipped = its.map { (iteration: $0, key: MessageKey(bytes: SecureBytes(randomCount: 32))) }
                grp.senders[sender] = [c]
            }
        }
        #expect(withSkipped([1, 3], iteration: 4) == nil)
        #expect(withSkipped([3, 1], iteration: 4) == .malformed("skipped iterations out of order"))
        #expect(withSkipped([1, 1], iteration: 4) == .malformed("skipped iterations out of order"))
        #expect(withSkipped([1, 4], iteration: 4) == .malformed("skipped iterations out of order"))
        // An address that is not UTF-8 would come back as other bytes.
        var bytes = g.serialized()
        let name = Array("m1".utf8)
        let at = try #require((0...(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
        bytes[at + 1] = 0xff
        #expect(throws: RecordError.malformed("address is not UTF-8")) { try GroupSession(serialized: bytes) }
    }

    /// Chain ids, chain keys and signing keys come from the injected source:
    /// the same source gives the same group, to the byte, and rotation too.
    @Test func injectedRandomnessMakesGroupsReproducible() throws {
        let id = DistributionID.random()
        func make() -> (GroupSession, SenderKeyDistribution) {
            let r = CountingRandom()
            var g = try! GroupSession(distributionID: id, local: member(0), identity: identity(0), members: [entry(1)], random: r)
            let d = g.rotate(random: r)
            return (g, d)
        }
        let (a, da) = make(), (b, db) = make()
        #expect(a.serialized() == b.serialized())
        #expect(da == db)
        // The default draws from the CSPRNG: two groups differ.
        func fresh() throws -> SenderKeyDistribution {
            try GroupSession(distributionID: id, local: member(0), identity: identity(0), members: []).distribution
        }
        #expect(try fresh() != fresh())
    }

    /// A member can sign a body that does not open (its own signing key is all
    /// it takes). In a backlog its key is taken, then given back: in order and
    /// within the 2000-key bound, so the record still loads and the genuine
    /// message still decrypts.
    @Test func backlogWithAMaliciousSignerKeepsTheRecordLoadable() throws {
        func forged(_ sender: GroupSession, iteration: UInt32) -> [UInt8] {
            var m: [UInt8] = [WireMessage.version, MessageType.senderKey.rawValue] + sender.distributionID.rawValue
            m.appendU32(sender.own.chainID)
            m.appendU32(iteration)
            m += [UInt8](repeating: 0xA5, count: AEADv1.overhead + 8)
            return m + sender.own.signingKey.signature(for: m)
        }
        for (top, bad) in [(UInt32(4), UInt32(2)), (2005, 3), (2005, 1500)] {
            var g = try makeGroup(2)
            let genuine = try (0...top).map { _ in try g[0].encrypt([7]) }
            let results = g[1].decryptBacklog([genuine[Int(top)], forged(g[0], iteration: bad)], from: member(0), parallelism: .serial)
            #expect(try results[0].get() == [7])
            #expect(results[1] == .failure(.authenticationFailure))
            var loaded = try GroupSession(serialized: g[1].serialized())
            let skipped = loaded.senders[member(0)]![0].skipped.map(\.iteration)
            #expect(skipped.count <= Limits.maxSenderKeySkipped && zip(skipped, skipped.dropFirst()).allSatisfy { $0 < $1 })
            // The genuine message with the forged one's iteration still decrypts, unless evicted as the oldest.
            let kept = top - bad < UInt32(Limits.maxSenderKeySkipped)
            #expect(((try? loaded.decrypt(genuine[Int(bad)], from: member(0))) == [7]) == kept, "top \(top), bad \(bad)")
        }
    }
}
