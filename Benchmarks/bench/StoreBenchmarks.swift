#if canImport(Glibc)
import Glibc
#endif
import CBenchRaw
import E2EE
import E2EEStore

// Storage and session management: SQLite (WAL, synchronous=NORMAL) next to
// the same work without persistence, so the ratio is what durability costs.

func storeComparisons() -> [Comparison] {
    [
        Comparison("SQLite session save + load (sealed)", ours: { try StoreRoundTrip(sqlite: true) },
                   baseline: { try StoreRoundTrip(sqlite: false) }),
        Comparison("atomic receive 100 B (SQLite, WAL, synchronous=NORMAL)", ours: { try AtomicReceive() },
                   baseline: { try SessionDecryptOurs(size: Sizes.small) }),
        Comparison("batched receive 1,000 × 100 B (SQLite, per message)", kind: .speedup,
                   ours: { try QueueReceive(batched: true) }, baseline: { try QueueReceive(batched: false) }),
        Comparison("multi-device send to 10 devices (SQLite)", kind: .speedup,
                   ours: { try FanOut(batched: true) }, baseline: { try FanOut(batched: false) }),
    ]
}

/// A temporary SQLite store, removed on deinit.
final class TempSQLite {
    let directory: String
    let store: SQLiteStore

    init() throws {
        var template = Array("/tmp/e2ee-bench-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BenchError.rawFailure("mkdtemp")
        }
        directory = String(cString: dir)
        store = try SQLiteStore(path: directory + "/bench.sqlite", key: StorageKey())
    }

    deinit {
        store.close()
        for suffix in ["", "-wal", "-shm"] { unlink(directory + "/bench.sqlite" + suffix) }
        rmdir(directory)
    }
}

final class StoreRoundTrip: BenchCase {
    let name: String
    private let db: TempSQLite?
    private let store: any E2EEStore
    private let set: SessionSet
    private let address = ProtocolAddress(userID: "peer", deviceID: 1)

    init(sqlite: Bool) throws {
        db = sqlite ? try TempSQLite() : nil
        store = db?.store ?? MemoryStore()
        name = sqlite ? "ours" : "MemoryStore (serialise, no sealing, no disk)"
        set = SessionSet(current: try SessionPair().bob)
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            var changes = StoreChanges()
            changes.sessions[address] = set
            try store.commit(changes)
            acc &+= UInt64(try store.loadSessions(for: address)?.archived.count ?? 1)
        }
        return acc
    }
}

/// Receives in-order 100 B messages through a SessionManager over SQLite: decrypt,
/// then one transaction with the session and the sealed plaintext.
final class AtomicReceive: BenchCase {
    let name = "ours"
    private let db: TempSQLite
    private let manager: SessionManager
    private var alice: Session
    private let aliceAddress = ProtocolAddress(userID: "alice", deviceID: 1)
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 31)

    init() throws {
        db = try TempSQLite()
        try SessionManager.createAccount(store: db.store)
        manager = try SessionManager(store: db.store, localAddress: ProtocolAddress(userID: "bob", deviceID: 1))
        alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: manager.publishBundle())
        try manager.receive(try alice.encrypt([0]), from: aliceAddress)
        _ = try alice.decrypt(try manager.encrypt([0], to: aliceAddress))
    }

    private var messages: [[UInt8]] = []

    func prepare(iterations: Int) throws {
        messages.removeAll(keepingCapacity: true)
        for _ in 0..<iterations { messages.append(try alice.encrypt(plaintext)) }
        try db.store.acknowledgeInbound(through: UInt64.max >> 1)
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for m in messages { acc &+= UInt64(try manager.receive(m, from: aliceAddress).plaintext![0]) }
        return acc
    }
}

/// A queue of 1,000 in-order 100 B messages drained at login: one transaction
/// per 256 messages (`receive(batch:)`), against a transaction per message.
final class QueueReceive: BenchCase {
    let name: String
    let opsPerIteration = 1000
    private let batched: Bool
    private let db: TempSQLite
    private let manager: SessionManager
    private var alice: Session
    private let aliceAddress = ProtocolAddress(userID: "alice", deviceID: 1)
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 33)
    private var queues: [[SessionManager.QueuedMessage]] = []

    init(batched: Bool) throws {
        self.batched = batched
        name = batched ? "ours: receive(batch:), commitEvery 256" : "1,000 × receive(_:from:), a commit each"
        db = try TempSQLite()
        try SessionManager.createAccount(store: db.store)
        manager = try SessionManager(store: db.store, localAddress: ProtocolAddress(userID: "bob", deviceID: 1))
        alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: manager.publishBundle())
        try manager.receive(try alice.encrypt([0]), from: aliceAddress)
        _ = try alice.decrypt(try manager.encrypt([0], to: aliceAddress))
    }

    func prepare(iterations: Int) throws {
        queues = try (0..<iterations).map { _ in
            try (0..<opsPerIteration).map { _ in (try alice.encrypt(plaintext), aliceAddress) }
        }
        try db.store.acknowledgeInbound(through: UInt64.max >> 1)
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for queue in queues {
            if batched {
                for case .success(let r) in manager.receive(batch: queue) { acc &+= UInt64(r.plaintext![0]) }
            } else {
                for (m, from) in queue { acc &+= UInt64(try manager.receive(m, from: from).plaintext![0]) }
            }
        }
        return acc
    }
}

/// One plaintext to 10 devices: one batched AEAD call and one commit, against
/// 10 single encrypts with a commit each.
final class FanOut: BenchCase {
    let name: String
    private let db: TempSQLite
    private let manager: SessionManager
    private let batched: Bool
    private let devices: [ProtocolAddress]
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 32)

    init(batched: Bool) throws {
        self.batched = batched
        name = batched ? "ours: encrypt(toUser:) → 10" : "10 × encrypt(to:), a commit each"
        db = try TempSQLite()
        try SessionManager.createAccount(store: db.store)
        manager = try SessionManager(store: db.store, localAddress: ProtocolAddress(userID: "alice", deviceID: 1))
        var addresses = [ProtocolAddress]()
        for d in 1...10 {
            var account = Account()
            account.generateOneTimePreKeys(count: 1)
            let address = ProtocolAddress(userID: "bob", deviceID: UInt32(d))
            try manager.startSession(with: address, bundle: account.publishBundle())
            addresses.append(address)
        }
        devices = addresses
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            if batched {
                for (_, m) in try manager.encrypt(plaintext, toUser: "bob", includeOwnDevices: false) {
                    acc &+= UInt64(m[m.count - 1])
                }
            } else {
                for d in devices { acc &+= UInt64(try manager.encrypt(plaintext, to: d).last!) }
            }
        }
        return acc
    }
}

/// Facts: bytes per idle session in the store (sealed record) and in RAM.
func storeFacts() throws -> [(String, Int)] {
    let p = try SessionPair()
    let sealed = sealedSessionRecordSize(SessionSet(current: p.bob))
    // RAM: heap growth while holding 1000 loaded sessions.
    let record = p.bob.serialized()
    let before = bench_heap_in_use()
    var held = [Session]()
    held.reserveCapacity(1000)
    for _ in 0..<1000 { held.append(try Session(serialized: record)) }
    let after = bench_heap_in_use()
    let perSession = Int(after - before) / held.count
    return [("idle session in the SQLite store, sealed record (bytes)", sealed),
            ("idle session in RAM, heap per loaded session (bytes)", perSession)]
}

/// Bytes of a session set's record as the store keeps it: serialised, sealed
/// under a storage key with the address as associated data.
func sealedSessionRecordSize(_ set: SessionSet) -> Int {
    StorageKey().seal(set.serialized(), authenticating: Array("sessions\0peer".utf8)).count
}
