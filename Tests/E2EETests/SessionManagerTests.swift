import Synchronization
import Testing
@testable import E2EE

/// A settable clock for expiry and rotation tests.
final class TestClock: Sendable {
    private let now = Mutex<UInt64>(1_800_000_000)
    func read() -> UInt64 { now.withLock { $0 } }
    func advance(by seconds: UInt64) { now.withLock { $0 += seconds } }
    var closure: @Sendable () -> UInt64 { { [self] in read() } }
}

/// A device: its own store and manager.
struct Device {
    let address: ProtocolAddress
    let store: MemoryStore
    let manager: SessionManager

    init(_ user: String, _ device: UInt32 = 1, clock: TestClock = TestClock(), allowClassical: Bool = false) throws {
        address = ProtocolAddress(userID: user, deviceID: device)
        store = MemoryStore()
        try SessionManager.createAccount(store: store, now: clock.read())
        manager = try SessionManager(store: store, localAddress: address, clock: clock.closure,
                                     allowClassical: allowClassical)
    }

    func send(_ text: String, to other: Device) throws -> [UInt8] {
        try manager.encrypt(Array(text.utf8), to: other.address)
    }
}

@Suite("Session manager")
struct SessionManagerTests {
    @Test func conversationAndInboundTable() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        for i in 0..<5 {
            #expect(try bob.manager.receive(alice.send("a\(i)", to: bob), from: alice.address) == Array("a\(i)".utf8))
            #expect(try alice.manager.receive(bob.send("b\(i)", to: alice), from: bob.address) == Array("b\(i)".utf8))
        }
        let inbound = try bob.store.inboundMessages(after: 0, limit: 100)
        #expect(inbound.map { String(decoding: $0.plaintext, as: UTF8.self) } == (0..<5).map { "a\($0)" })
        #expect(inbound.allSatisfy { $0.sender == alice.address })
        #expect(inbound.map(\.sequence) == [1, 2, 3, 4, 5])
        try bob.store.acknowledgeInbound(through: 3)
        #expect(try bob.store.inboundMessages(after: 0, limit: 100).map(\.sequence) == [4, 5])
        // The first message used one of Bob's one-time prekeys, and maintenance reports it.
        let upload = try bob.manager.maintainPreKeys()
        #expect(upload.consumedOneTimePreKeyIDs.count == 1)
    }

    @Test func failedReceiveChangesNothing() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        var first = try alice.send("hello", to: bob)
        first[first.count - 1] ^= 1
        let accountBefore = try bob.store.loadAccount()!.serialized()
        #expect(throws: MessagingError.setup(.firstMessageRejected(.authenticationFailure))) {
            try bob.manager.receive(first, from: alice.address)
        }
        #expect(try bob.store.loadAccount()!.serialized() == accountBefore)
        #expect(try bob.store.loadSessions(for: alice.address) == nil)
        #expect(try bob.store.loadIdentity(for: alice.address) == nil)
        #expect(try bob.store.inboundMessages(after: 0, limit: 10).isEmpty)
        // A replay of a received message is a duplicate and stores nothing.
        first[first.count - 1] ^= 1
        try bob.manager.receive(first, from: alice.address)
        #expect(throws: MessagingError.decrypt(.duplicate(index: 0))) { try bob.manager.receive(first, from: alice.address) }
        #expect(try bob.store.inboundMessages(after: 0, limit: 10).count == 1)
    }

    @Test func identityChangeNeedsAcceptance() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        try bob.manager.receive(alice.send("hi", to: bob), from: alice.address)
        // Alice reinstalls: same address, new identity.
        let alice2 = try Device("alice")
        try alice2.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        let m = try alice2.send("it's me", to: bob)
        #expect(throws: MessagingError.untrustedIdentity(alice.address)) { try bob.manager.receive(m, from: alice.address) }
        let old = try bob.manager.safetyNumber(for: alice.address)
        try bob.manager.acceptIdentity(alice2.manager.identity.publicKey, for: alice.address)
        #expect(try bob.manager.receive(m, from: alice.address) == Array("it's me".utf8))
        let new = try bob.manager.safetyNumber(for: alice.address)
        #expect(old != nil && new != nil && old != new)
        // Both sides compute the same number.
        try alice2.manager.receive(bob.send("welcome back", to: alice2), from: bob.address)
        #expect(try alice2.manager.safetyNumber(for: bob.address) == new)
        // And a bundle with a changed identity is refused too.
        let bob2 = try Device("bob")
        #expect(throws: MessagingError.untrustedIdentity(bob.address)) {
            try alice2.manager.startSession(with: bob.address, bundle: bob2.manager.publishBundle())
        }
    }

    @Test func simultaneousInitiationConverges() throws {
        for _ in 0..<8 {   // base keys are random: exercise both orders
            let alice = try Device("alice"), bob = try Device("bob")
            try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
            try bob.manager.startSession(with: alice.address, bundle: alice.manager.publishBundle())
            let a1 = try alice.send("a1", to: bob), b1 = try bob.send("b1", to: alice)
            #expect(a1[1] == MessageType.pqPreKey.rawValue && b1[1] == MessageType.pqPreKey.rawValue)
            #expect(try bob.manager.receive(a1, from: alice.address) == Array("a1".utf8))
            #expect(try alice.manager.receive(b1, from: bob.address) == Array("b1".utf8))
            // The tie-break: both sides already agree on one pair, before any further message.
            let early = (try alice.store.loadSessions(for: bob.address)?.current?.baseKey,
                         try bob.store.loadSessions(for: alice.address)?.current?.baseKey)
            #expect(early.0 != nil && early.0 == early.1, "both sides picked the same pair at once")
            for i in 0..<4 {
                #expect(try bob.manager.receive(alice.send("a\(i)", to: bob), from: alice.address) == Array("a\(i)".utf8))
                #expect(try alice.manager.receive(bob.send("b\(i)", to: alice), from: bob.address) == Array("b\(i)".utf8))
            }
            let sa = try #require(try alice.store.loadSessions(for: bob.address)?.current)
            let sb = try #require(try bob.store.loadSessions(for: alice.address)?.current)
            #expect(sa.baseKey == sb.baseKey, "both sides settled on one pair")
            #expect(sa.role != sb.role)
            #expect(!sa.awaitingReply && !sb.awaitingReply)
        }
    }

    @Test func unacknowledgedSessionsExpire() throws {
        let clock = TestClock()
        let alice = try Device("alice", clock: clock), bob = try Device("bob", clock: clock)
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        _ = try alice.send("anyone there?", to: bob)
        clock.advance(by: Limits.maxUnacknowledgedSessionAge + 1)
        #expect(throws: MessagingError.sessionExpired(bob.address)) { try alice.send("hello?", to: bob) }
        // A fresh bundle starts a new session; a replied-to session never expires.
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        try bob.manager.receive(alice.send("again", to: bob), from: alice.address)
        try alice.manager.receive(bob.send("here", to: alice), from: bob.address)
        clock.advance(by: 10 * Limits.maxUnacknowledgedSessionAge)
        #expect(try bob.manager.receive(alice.send("great", to: bob), from: alice.address) == Array("great".utf8))
        #expect(try alice.store.loadSessions(for: bob.address)?.archived.count == 1)
    }

    @Test func archivedSessionsDecryptAndAreBounded() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        var held = [[UInt8]]()
        // Alice restarts her session 45 times (e.g. lost state); Bob keeps the last 41.
        // In each, both sides ratchet once and Alice sends two more messages: Bob
        // reads the second and holds a skipped key for the first.
        for i in 0..<45 {
            try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
            try bob.manager.receive(try alice.send("s\(i)", to: bob), from: alice.address)
            try alice.manager.receive(try bob.send("r\(i)", to: alice), from: bob.address)
            held.append(try alice.send("held \(i)", to: bob))
            #expect(try bob.manager.receive(try alice.send("t\(i)", to: bob), from: alice.address) == Array("t\(i)".utf8))
        }
        let set = try #require(try bob.store.loadSessions(for: alice.address))
        #expect(set.archived.count == Limits.maxArchivedSessions)
        // The 4 oldest sessions are gone: their held messages cannot decrypt.
        for i in 0..<4 { #expect(throws: MessagingError.self) { try bob.manager.receive(held[i], from: alice.address) } }
        // A held message of an archived session decrypts there (a skipped key), and promotes it.
        #expect(try bob.manager.receive(held[10], from: alice.address) == Array("held 10".utf8))
        let promoted = try #require(try bob.store.loadSessions(for: alice.address)?.current)
        // A new message on an archived session of Alice's, on the chain Bob knows, also decrypts and promotes it.
        var aliceSet = try #require(try alice.store.loadSessions(for: bob.address))
        let older = try #require(aliceSet.archived.firstIndex { $0.baseKey == set.archived[24].baseKey })
        let late = try aliceSet.archived[older].encrypt(Array("late".utf8))
        #expect(try bob.manager.receive(late, from: alice.address) == Array("late".utf8))
        let now = try #require(try bob.store.loadSessions(for: alice.address))
        #expect(now.current?.baseKey == set.archived[24].baseKey && now.archived.first?.baseKey == promoted.baseKey)
        #expect(now.archived.count == Limits.maxArchivedSessions)
    }

    @Test func preKeyLifecycle() throws {
        let clock = TestClock()
        let bob = try Device("bob", clock: clock)
        var ids = Set<UInt32>()
        for _ in 0..<85 { ids.insert(try bob.manager.publishBundle().oneTimePreKey!.id.rawValue) }
        #expect(ids.count == 85)
        let upload = try bob.manager.maintainPreKeys()
        #expect(upload.newOneTimePreKeys.count == 85)       // 15 left < 20: refilled to 100
        #expect(upload.newSignedPreKey == nil)
        let newIDs = Set(upload.newOneTimePreKeys.map(\.id.rawValue))
        #expect(newIDs.isDisjoint(with: ids))
        #expect(try bob.manager.maintainPreKeys().isEmpty)
        // Rotation after a week; the old signed prekey stays for the grace period.
        let spk1 = try bob.store.loadAccount()!.currentSignedPreKey.id
        clock.advance(by: 7 * 24 * 3600)
        let rotated = try bob.manager.maintainPreKeys()
        let spk2 = try #require(rotated.newSignedPreKey?.id)
        #expect(spk2 != spk1)
        #expect(try bob.store.loadAccount()!.signedPreKeys.map(\.id) == [spk1, spk2])
        // A message made for the old signed prekey still sets up a session.
        let stale = try #require(try bob.store.loadAccount())
        var staleAccount = stale
        staleAccount.signedPreKeys = [stale.signedPreKeys[0]]
        let alice = try Device("alice", clock: clock)
        try alice.manager.startSession(with: bob.address, bundle: staleAccount.publishBundle())
        #expect(try bob.manager.receive(alice.send("old spk", to: bob), from: alice.address) == Array("old spk".utf8))
        clock.advance(by: 30 * 24 * 3600)
        let later = try bob.manager.maintainPreKeys()
        #expect(later.removedSignedPreKeyIDs == [spk1])
        #expect(try bob.store.loadAccount()!.signedPreKeys.map(\.id).contains(spk1) == false)
    }

    @Test func multiDeviceSend() throws {
        let alice = try Device("alice", 1), aliceTablet = try Device("alice", 2)
        let bobs = try (1...3).map { try Device("bob", UInt32($0)) }
        for d in bobs + [aliceTablet] {
            try alice.manager.startSession(with: d.address, bundle: d.manager.publishBundle())
        }
        let out = try alice.manager.encrypt(Array("to everyone".utf8), toUser: "bob")
        #expect(Set(out.map(\.address)) == Set(bobs.map(\.address) + [aliceTablet.address]))
        for (address, message) in out {
            let device = (bobs + [aliceTablet]).first { $0.address == address }!
            #expect(try device.manager.receive(message, from: alice.address) == Array("to everyone".utf8))
        }
        // The sessions moved on: a second fan-out decrypts too.
        for (address, message) in try alice.manager.encrypt(Array("again".utf8), toUser: "bob") {
            let device = (bobs + [aliceTablet]).first { $0.address == address }!
            #expect(try device.manager.receive(message, from: alice.address) == Array("again".utf8))
        }
    }

    @Test func thousandAddressesInParallel() async throws {
        let bob = try Device("bob")
        try bob.store.commit({ var c = StoreChanges(); var a = try bob.store.loadAccount()!
                               a.generateOneTimePreKeys(count: 1000); c.account = a; return c }())
        var clients = [(ProtocolAddress, Session)]()
        for i in 0..<1000 {
            let bundle = try bob.manager.publishBundle()
            clients.append((ProtocolAddress(userID: "user\(i)", deviceID: 1),
                            try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bundle)))
        }
        let manager = bob.manager
        let finished = try await withThrowingTaskGroup(of: (Int, Session?).self) { group in
            for (n, (address, session)) in clients.enumerated() {
                group.addTask {
                    var s = session
                    // Three messages per address, sent concurrently with every other address.
                    for i in 0..<3 {
                        let m = try s.encrypt([UInt8(i)])
                        guard try manager.receive(m, from: address) == [UInt8(i)] else { return (n, nil) }
                    }
                    let reply = try manager.encrypt([9], to: address)
                    return (n, try s.decrypt(reply) == [9] ? s : nil)
                }
            }
            var done = [Int: Session]()
            for try await (n, s) in group { done[n] = s }
            return done
        }
        #expect(finished.count == 1000)
        #expect(finished.values.allSatisfy { !$0.awaitingReply })
        #expect(try bob.store.inboundMessages(after: 0, limit: 10_000).count == 3000)
        // One address from many tasks at once: calls serialise, every message is received once.
        let address = clients[0].0
        var s = try #require(finished[0])
        var messages = [[UInt8]]()
        for i in 0..<50 { messages.append(try s.encrypt([UInt8(i)])) }
        let received = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for m in messages { group.addTask { try manager.receive(m, from: address).plaintext ?? [] } }
            var all = [[UInt8]]()
            for try await r in group { all.append(r) }
            return all
        }
        #expect(Set(received) == Set((0..<50).map { [UInt8($0)] }))
    }
}
