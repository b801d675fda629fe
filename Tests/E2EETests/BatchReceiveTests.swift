import Foundation
import Synchronization
import Testing
@testable import E2EE
import E2EEStore

/// Reproducible randomness (SplitMix64): two receivers given the same seed
/// draw the same ratchet keys, so their session records can be compared byte for byte.
private final class SeededRandom: RandomSource {
    private let state: Mutex<UInt64>

    init(seed: UInt64) { state = Mutex(seed) }

    private func next() -> UInt64 {
        state.withLock { s in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func makePrivateKey() -> X25519.PrivateKey {
        var raw = [UInt8](repeating: 0, count: 32)
        raw.withUnsafeMutableBytes { fill($0) }
        return try! X25519.PrivateKey(rawRepresentation: raw)   // any 32 bytes are a key (clamped)
    }

    func makeReuseGuard() -> [UInt8]? { nil }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: next()) }
    }
}

/// A SQLite store in a directory of its own, removed on deinit.
private final class TempSQLite {
    let directory: URL
    let store: SQLiteStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("BatchReceiveTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path, key: StorageKey())
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Forwards to a store, counts commits, and fails commit number `failingCommit`
/// after the inner store has written it: only the enclosing exclusive section
/// (its rollback) can then keep the chunk from being visible.
private final class FailingStore: E2EEStore {
    let inner: any E2EEStore
    private let failingCommit: Int?
    private let count = Mutex(0)

    init(_ inner: any E2EEStore, failingCommit: Int? = nil) {
        self.inner = inner
        self.failingCommit = failingCommit
    }

    var commits: Int { count.withLock { $0 } }

    func loadAccount() throws(StorageError) -> Account? { try inner.loadAccount() }
    func loadSessions(for address: ProtocolAddress) throws(StorageError) -> SessionSet? { try inner.loadSessions(for: address) }
    func deviceIDs(of userID: String) throws(StorageError) -> [UInt32] { try inner.deviceIDs(of: userID) }
    func loadIdentity(for address: ProtocolAddress) throws(StorageError) -> IdentityKey.PublicKey? { try inner.loadIdentity(for: address) }
    func loadGroup(_ id: DistributionID) throws(StorageError) -> GroupSession? { try inner.loadGroup(id) }
    func inboundMessages(after: UInt64, limit: Int) throws(StorageError) -> [InboundMessage] {
        try inner.inboundMessages(after: after, limit: limit)
    }
    func acknowledgeInbound(through: UInt64) throws(StorageError) { try inner.acknowledgeInbound(through: through) }

    func commit(_ changes: StoreChanges) throws(StorageError) {
        let n = count.withLock { c in c += 1; return c }
        try inner.commit(changes)
        if n == failingCommit { throw .backend("injected failure of commit \(n)") }
    }

    func exclusively<R, E: Error>(_ body: () throws(E) -> R, storageError: (StorageError) -> E) throws(E) -> R {
        try inner.exclusively(body, storageError: storageError)
    }
}

/// Copies the account and the records of `addresses` into another store (not the inbox).
private func copyState(of from: any E2EEStore, to: any E2EEStore, addresses: [ProtocolAddress]) throws {
    var c = StoreChanges()
    c.account = try from.loadAccount()
    for a in addresses {
        if let s = try from.loadSessions(for: a) { c.sessions[a] = s }
        if let k = try from.loadIdentity(for: a) { c.identities[a] = k }
    }
    try to.commit(c)
}

private let bobAddress = ProtocolAddress(userID: "bob", deviceID: 1)
private let fixedClock: @Sendable () -> UInt64 = { 1_800_000_000 }

private func text(_ s: String) -> [UInt8] { Array(s.utf8) }

private func tampered(_ m: [UInt8]) -> [UInt8] {
    var t = m
    t[t.count - 1] ^= 1
    return t
}

private func inbox(_ store: any E2EEStore) throws -> [String] {
    try store.inboundMessages(after: 0, limit: 10_000).map { String(decoding: $0.plaintext, as: UTF8.self) }
}

/// Bob over `store`, with an answered session from alice.
private func bobWithAlice(_ store: any E2EEStore) throws -> (bob: SessionManager, alice: Device) {
    try SessionManager.createAccount(store: store, now: fixedClock())
    let bob = try SessionManager(store: store, localAddress: bobAddress, clock: fixedClock)
    let alice = try Device("alice")
    try alice.manager.startSession(with: bobAddress, bundle: bob.publishBundle())
    try bob.receive(alice.manager.encrypt(text("hello"), to: bobAddress), from: alice.address)
    try alice.manager.receive(bob.encrypt(text("hi"), to: alice.address), from: bobAddress)
    try store.acknowledgeInbound(through: UInt64.max >> 1)
    return (bob, alice)
}

@Suite("Batched receive")
struct BatchReceiveTests {
    /// The same queue received one by one and in batches of several sizes
    /// (1, a few, the whole queue, more than the queue) gives the same outcomes,
    /// the same inbox and the same final records, byte for byte.
    @Test func batchEqualsOneByOne() throws {
        let base = try TempSQLite()
        let (bob, alice) = try bobWithAlice(base.store)
        let carol = try Device("carol")
        try carol.manager.startSession(with: bobAddress, bundle: bob.publishBundle())
        // A reply alice reads only after a0…a2: a3…a5 come on her next chain.
        let reply = try bob.encrypt(text("r"), to: alice.address)
        let a0 = try alice.toBob("a0"), a1 = try alice.toBob("a1"),
            a2 = try alice.toBob("a2")
        try alice.manager.receive(reply, from: bobAddress)
        let a3 = try alice.toBob("a3"), a4 = try alice.toBob("a4"),
            a5 = try alice.toBob("a5")
        let c0 = try carol.toBob("c0"), c1 = try carol.toBob("c1"),
            c2 = try carol.toBob("c2")
        let queue: [SessionManager.QueuedMessage] = [
            (a3, alice.address), (c0, carol.address), (a0, alice.address), (a0, alice.address),
            (tampered(a1), alice.address), (a1, alice.address), ([1, 2, 3], alice.address), (c1, carol.address),
            (c0, alice.address),   // carol's first message claimed by alice: untrusted identity
            (a4, alice.address), (c1, carol.address), (a2, alice.address), (tampered(c2), carol.address),
            (a5, alice.address), (c2, carol.address),
        ]
        let addresses = [alice.address, carol.address]

        func receiver(_ store: any E2EEStore) throws -> SessionManager {
            try copyState(of: base.store, to: store, addresses: addresses)
            return try SessionManager(store: store, localAddress: bobAddress, random: SeededRandom(seed: 42), clock: fixedClock)
        }
        let single = try TempSQLite()
        let one = try receiver(single.store)
        let expected = queue.map { item in Result { () throws(MessagingError) in try one.receive(item.message, from: item.from) } }
        // The queue exercises every kind of outcome.
        #expect(expected.filter(\.isFailure).count == 6)
        #expect(try inbox(single.store) == ["a3", "c0", "a0", "a1", "c1", "a4", "a2", "a5", "c2"])

        for every in [1, 4, queue.count, 100] {
            let batched = try TempSQLite()
            let results = try receiver(batched.store).receive(batch: queue, commitEvery: every)
            #expect(results == expected, "commitEvery \(every)")
            #expect(try batched.store.inboundMessages(after: 0, limit: 100) == single.store.inboundMessages(after: 0, limit: 100))
            for a in addresses {
                #expect(try batched.store.loadSessions(for: a)?.serialized() == single.store.loadSessions(for: a)?.serialized())
                #expect(try batched.store.loadIdentity(for: a) == single.store.loadIdentity(for: a))
            }
            #expect(try batched.store.loadAccount()?.serialized() == single.store.loadAccount()?.serialized())
        }
    }

    @Test func duplicatesInsideAndAcrossBatches() throws {
        let db = try TempSQLite()
        let (bob, alice) = try bobWithAlice(db.store)
        let m = try (0..<3).map { try alice.toBob("m\($0)") }
        let first = bob.receive(batch: [(m[0], alice.address), (m[1], alice.address), (m[0], alice.address),
                                        (m[1], alice.address)])
        #expect(first == [.success(.message(text("m0"))), .success(.message(text("m1"))),
                          .failure(.decrypt(.duplicate(index: 0))), .failure(.decrypt(.duplicate(index: 1)))])
        let second = bob.receive(batch: [(m[1], alice.address), (m[2], alice.address), (m[2], alice.address)])
        #expect(second == [.failure(.decrypt(.duplicate(index: 1))), .success(.message(text("m2"))),
                           .failure(.decrypt(.duplicate(index: 2)))])
        #expect(try inbox(db.store) == ["m0", "m1", "m2"])
    }

    /// A tampered message between good ones fails alone and leaves nothing:
    /// its genuine copy, later in the same chunk, is still received.
    @Test func tamperedMessageSpoilsNothing() throws {
        let db = try TempSQLite()
        let (bob, alice) = try bobWithAlice(db.store)
        let dave = try Device("dave")
        try dave.manager.startSession(with: bobAddress, bundle: bob.publishBundle())
        let d0 = try dave.toBob("d0")
        let m = try (0..<3).map { try alice.toBob("m\($0)") }
        let accountBefore = try db.store.loadAccount()!.serialized()
        let results = bob.receive(batch: [(m[0], alice.address), (tampered(m[1]), alice.address), (tampered(d0), dave.address),
                                          (m[1], alice.address), (m[2], alice.address)])
        #expect(results.map(\.isFailure) == [false, true, true, false, false])
        #expect(results[1] == .failure(.decrypt(.authenticationFailure)))
        #expect(try inbox(db.store) == ["m0", "m1", "m2"])
        // The tampered first message left no identity, no session, no account change.
        #expect(try db.store.loadIdentity(for: dave.address) == nil)
        #expect(try db.store.loadSessions(for: dave.address) == nil)
        #expect(try db.store.loadAccount()!.serialized() == accountBefore)
        // The genuine one is still accepted.
        #expect(bob.receive(batch: [(d0, dave.address)]) == [.success(.message(text("d0")))])
    }

    @Test func outOfOrderWithinABatch() throws {
        let db = try TempSQLite()
        let (bob, alice) = try bobWithAlice(db.store)
        let m = try (0..<6).map { try alice.toBob("m\($0)") }
        let order = [4, 1, 5, 0, 3, 2]
        let results = bob.receive(batch: order.map { (m[$0], alice.address) }, commitEvery: 2)
        #expect(results == order.map { .success(.message(text("m\($0)"))) })
        #expect(try inbox(db.store) == order.map { "m\($0)" })
        // Every skipped key was used: replays are duplicates.
        let replays = bob.receive(batch: m.map { ($0, alice.address) })
        #expect(replays.allSatisfy { $0.isFailure })
    }

    /// First messages and their follow-ups in one chunk; two first messages
    /// share the account (both one-time prekeys consumed); a base key is
    /// accepted once, and an identity pinned earlier in the chunk holds.
    @Test func firstMessagesAndFollowUpsInOneBatch() throws {
        let db = try TempSQLite()
        try SessionManager.createAccount(store: db.store, now: fixedClock())
        let bob = try SessionManager(store: db.store, localAddress: bobAddress, clock: fixedClock)
        let carol = try Device("carol"), dave = try Device("dave"), mallory = try Device("mallory")
        let carolBundle = try bob.publishBundle(), daveBundle = try bob.publishBundle()
        try carol.manager.startSession(with: bobAddress, bundle: carolBundle)
        try dave.manager.startSession(with: bobAddress, bundle: daveBundle)
        // mallory claims to be carol, with her own identity.
        try mallory.manager.startSession(with: bobAddress, bundle: bob.publishBundle())
        let c = try (0..<3).map { try carol.toBob("c\($0)") }
        let d = try (0..<2).map { try dave.toBob("d\($0)") }
        let forged = try mallory.toBob("x")
        let results = bob.receive(batch: [(c[0], carol.address), (d[0], dave.address), (c[1], carol.address),
                                          (forged, carol.address), (c[0], ProtocolAddress(userID: "eve", deviceID: 1)),
                                          (d[1], dave.address), (c[2], carol.address)])
        #expect(results == [.success(.message(text("c0"))), .success(.message(text("d0"))), .success(.message(text("c1"))),
                            .failure(.untrustedIdentity(carol.address)), .failure(.setup(.baseKeyAlreadyAccepted)),
                            .success(.message(text("d1"))), .success(.message(text("c2")))])
        #expect(try inbox(db.store) == ["c0", "d0", "c1", "d1", "c2"])
        let account = try db.store.loadAccount()!
        #expect(account.acceptedBaseKeyCount == 2)
        let consumed = [carolBundle.oneTimePreKey?.id, daveBundle.oneTimePreKey?.id].compactMap { $0 }
        #expect(consumed.count == 2)
        #expect(try Set(bob.maintainPreKeys().consumedOneTimePreKeyIDs) == Set(consumed))
        #expect(try db.store.loadIdentity(for: carol.address) == carol.manager.identity.publicKey)
    }

    /// An invitation, the sender's chain and its group messages in one batch:
    /// each sees the group state the one before left.
    @Test func groupDistributionThenGroupMessages() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        try bob.manager.receive(alice.send("hi", to: bob), from: alice.address)
        try alice.manager.receive(bob.send("hi", to: alice), from: bob.address)
        let (id, created) = try alice.manager.createGroup(members: [bob.address])
        let g = try (0..<3).map { try alice.manager.groupEncrypt(text("g\($0)"), to: id) }
        let queue = created.map { ($0.message, alice.address) } + [(g[1], alice.address), (g[0], alice.address),
                                                                   (g[1], alice.address), (g[2], alice.address)]
        let results = bob.manager.receive(batch: queue, commitEvery: 3)
        #expect(results.count == 6)
        if case .success(.groupUpdate(let uid, let change)) = results[0] {
            #expect(uid == id && change.joined)
        } else {
            Issue.record("first outcome: \(results[0])")
        }
        #expect(results[1] == .success(.senderKey(id, from: alice.address)))
        #expect(Array(results[2...]) == [.success(.message(text("g1"))), .success(.message(text("g0"))),
                                         .failure(.group(.duplicate(iteration: 1))), .success(.message(text("g2")))])
        // The inbox has the group messages and nothing of the control messages.
        #expect(try inbox(bob.store) == ["hi", "g1", "g0", "g2"])
        #expect(try bob.manager.groupInfo(id).isMember)
    }

    /// Commit 2 fails after writing: chunk 1 stays, nothing of chunk 2 is
    /// visible, every later message reports the failure; the queue
    /// redelivered later gives chunk 1 as duplicates and the rest as new.
    @Test func failedCommitKeepsEarlierChunksOnly() throws {
        let db = try TempSQLite()
        let (_, alice) = try bobWithAlice(db.store)
        let failing = FailingStore(db.store, failingCommit: 2)
        // Seeded alike, so that the probe takes bob's ratchet step with the same key.
        let bob = try SessionManager(store: failing, localAddress: bobAddress, random: SeededRandom(seed: 9), clock: fixedClock)
        let m = try (0..<8).map { try alice.toBob("m\($0)") }
        let queue = m.map { ($0, alice.address) }
        let sessionsAfterChunk1: [UInt8]
        do {
            let probe = try TempSQLite()
            try copyState(of: db.store, to: probe.store, addresses: [alice.address])
            let manager = try SessionManager(store: probe.store, localAddress: bobAddress, random: SeededRandom(seed: 9),
                                             clock: fixedClock)
            _ = manager.receive(batch: Array(queue.prefix(3)))
            sessionsAfterChunk1 = try probe.store.loadSessions(for: alice.address)!.serialized()
        }
        let results = bob.receive(batch: queue, commitEvery: 3)
        #expect(failing.commits == 2)
        #expect(results.prefix(3).allSatisfy { !$0.isFailure })
        #expect(results.dropFirst(3).allSatisfy { $0 == .failure(.storage(.backend("injected failure of commit 2"))) })
        #expect(try inbox(db.store) == ["m0", "m1", "m2"])
        #expect(try db.store.loadSessions(for: alice.address)!.serialized() == sessionsAfterChunk1)
        let again = try SessionManager(store: db.store, localAddress: bobAddress, clock: fixedClock).receive(batch: queue)
        #expect(again.prefix(3).allSatisfy { if case .failure(.decrypt(.duplicate)) = $0 { true } else { false } })
        #expect(again.dropFirst(3).allSatisfy { !$0.isFailure })
        #expect(try inbox(db.store) == m.indices.map { "m\($0)" })
    }

    @Test(arguments: [(0, 7), (1, 7), (3, 3), (7, 1), (100, 1)])
    func commitEveryBoundsTheChunk(every: Int, commits: Int) throws {
        let db = try TempSQLite()
        let (_, alice) = try bobWithAlice(db.store)
        let counting = FailingStore(db.store)
        let bob = try SessionManager(store: counting, localAddress: bobAddress, clock: fixedClock)
        let m = try (0..<7).map { try alice.toBob("m\($0)") }
        let results = bob.receive(batch: m.map { ($0, alice.address) }, commitEvery: every)
        #expect(results.allSatisfy { !$0.isFailure })
        #expect(counting.commits == commits)
        #expect(try inbox(db.store).count == 7)
        #expect(bob.receive(batch: []).isEmpty)
        #expect(counting.commits == commits)
    }

    /// Batches and single receives of one queue (pairwise and group messages)
    /// from several threads at once: the address and group locks (and, on
    /// SQLite, the exclusive section) keep every message exactly once.
    @Test(arguments: [false, true])
    func concurrentBatchesReceiveEachMessageOnce(sqlite: Bool) throws {
        let db = sqlite ? try TempSQLite() : nil
        let store: any E2EEStore = db?.store ?? MemoryStore()
        let (bob, alice) = try bobWithAlice(store)
        let (id, created) = try alice.manager.createGroup(members: [bobAddress])
        for (_, m) in created { try bob.receive(m, from: alice.address) }
        let pairwise = try (0..<150).map { try alice.toBob("m\($0)") }
        let group = try (0..<150).map { try alice.manager.groupEncrypt(text("g\($0)"), to: id) }
        let queue = zip(pairwise, group).flatMap { [($0, alice.address), ($1, alice.address)] }
        // Four threads at once: batches walking the queue forwards and
        // backwards, single pairwise receives, single group decrypts.
        let counts = Mutex([Int](repeating: 0, count: 4))
        let work: [@Sendable () -> Int] = [
            { bob.receive(batch: queue, commitEvery: 5).filter { !$0.isFailure }.count },
            { bob.receive(batch: queue.reversed(), commitEvery: 8).filter { !$0.isFailure }.count },
            { pairwise.reduce(0) { n, m in ((try? bob.receive(m, from: alice.address)) != nil) ? n + 1 : n } },
            { group.reduce(0) { n, m in ((try? bob.groupDecrypt(m, in: id, from: alice.address)) != nil) ? n + 1 : n } },
        ]
        let done = DispatchGroup()
        for (w, body) in work.enumerated() {
            done.enter()
            Thread {
                let n = body()
                counts.withLock { $0[w] = n }
                done.leave()
            }.start()
        }
        done.wait()
        let received = counts.withLock { $0.reduce(0, +) }
        #expect(received == 300)
        let expected = (pairwise.indices.map { "m\($0)" } + group.indices.map { "g\($0)" }).sorted()
        #expect(try inbox(store).sorted() == expected)
    }
}

extension Device {
    /// Encrypts `s` to bob.
    fileprivate func toBob(_ s: String) throws -> [UInt8] { try manager.encrypt(text(s), to: bobAddress) }
}
