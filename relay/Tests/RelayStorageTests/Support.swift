import E2EE
import Foundation
import Logging
import PostgresNIO
import RelayProtocol
import Testing
@testable import RelayStorage

/// The PostgreSQL server the PostgreSQL variants run on (scripts/relay-test.sh
/// starts one and sets it); without it only SQLite runs, and `postgresIsThereInCI` fails in CI.
let testPostgresURL = ProcessInfo.processInfo.environment["E2EE_RELAY_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

/// Logs of the stores under test: errors only.
let quietLogger: Logger = {
    var logger = Logger(label: "relay-store-test")
    logger.logLevel = .error
    return logger
}()

/// A backend every generic test runs on.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var available: [Backend] { testPostgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
    var testDescription: String { rawValue }
}

/// Opens stores of one backend on one fresh database (SQLite: a file; PostgreSQL:
/// a schema of its own, so tests running at once do not see each other), and
/// closes them and deletes the database at the end.
final class StoreOpener: @unchecked Sendable {
    // @unchecked: used by one test task at a time.
    let backend: Backend
    private let path: String
    private let url: String?
    private let schema: String
    private var sqlite: [SQLiteRelayStore] = []
    private var postgres: [(store: PostgresRelayStore, run: Task<Void, any Error>)] = []

    init(_ backend: Backend) throws {
        self.backend = backend
        path = FileManager.default.temporaryDirectory.appendingPathComponent("relay-store-\(UUID().uuidString).sqlite").path
        schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        if backend == .postgres {
            let base = try #require(testPostgresURL, "E2EE_RELAY_TEST_POSTGRES is not set")
            url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        } else {
            url = nil
        }
    }

    /// A store on this opener's database, ready for calls.
    func open() async throws -> any RelayStore {
        switch backend {
        case .sqlite:
            let store = try SQLiteRelayStore(path: path)
            sqlite.append(store)
            return store
        case .postgres:
            return try await openPostgres()
        }
    }

    func openPostgres(url override: String? = nil) async throws -> PostgresRelayStore {
        // A long wait for the schema: the whole suite runs at once on a small machine.
        let store = try PostgresRelayStore(url: override ?? url ?? "", logger: quietLogger, readyTimeout: .seconds(60))
        let run = Task { try await store.run() }
        postgres.append((store, run))
        try await store.waitUntilReady()
        return store
    }

    /// The URL of this opener's PostgreSQL schema.
    var postgresURL: String? { url }

    /// Closes `store` (later calls on it fail).
    func close(_ store: any RelayStore) async {
        if let store = store as? SQLiteRelayStore { store.close() }
        if let index = postgres.firstIndex(where: { $0.store === (store as AnyObject) }) {
            postgres[index].run.cancel()
            _ = await postgres[index].run.result
        }
    }

    /// Closes everything and deletes the database.
    func finish() async {
        for store in sqlite { store.close() }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        if let last = postgres.last, !last.run.isCancelled {
            _ = try? await last.store.perform { db in
                try await db.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE", logger: quietLogger).consume()
            }
        } else if backend == .postgres, let url {
            // Every store was closed by the test: one more to drop the schema.
            if let cleaner = try? await openPostgres(url: url) {
                _ = try? await cleaner.perform { db in
                    try await db.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE", logger: quietLogger).consume()
                }
            }
        }
        for (_, run) in postgres {
            run.cancel()
            _ = await run.result
        }
    }
}

/// A fresh store of `backend`, and its opener for more stores on the same database.
func withStore(_ backend: Backend, _ body: (any RelayStore, StoreOpener) async throws -> Void) async throws {
    let opener = try StoreOpener(backend)
    do {
        let store = try await opener.open()
        try await body(store, opener)
    } catch {
        await opener.finish()
        throw error
    }
    await opener.finish()
}

/// A store on a fresh file under the temporary directory; the file and its
/// WAL companions are deleted afterwards.
func withStore(_ body: (SQLiteRelayStore, String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("relay-store-\(UUID().uuidString).sqlite").path
    defer {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    let store = try SQLiteRelayStore(path: path)
    defer { store.close() }
    try await body(store, path)
}

func address(_ user: String, _ device: UInt32) -> RelayAddress {
    // Test names are valid by construction; a typo should stop the test loudly.
    try! RelayAddress(userID: user, deviceID: device)
}

/// Fixed keys: the same bytes on every run.
enum Keys {
    static let identity = try! IdentityKey.PrivateKey(seed: [UInt8](repeating: 1, count: 32))
    static let otherIdentity = try! IdentityKey.PrivateKey(seed: [UInt8](repeating: 2, count: 32))

    static func x25519(_ seed: UInt8) -> X25519.PublicKey {
        try! X25519.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32)).publicKey
    }

    /// ML-KEM key generation is the costly part: a dozen keys, made once.
    static let kemKeys: [MLKEM.PublicKey] = (1...12).map {
        try! MLKEM.PrivateKey(seedRepresentation: [UInt8](repeating: UInt8($0), count: 64)).publicKey
    }

    static func kem(id: UInt32, key: Int, by identity: IdentityKey.PrivateKey = identity) -> PreKeyBundle.KEM {
        PreKeyBundle.KEM(id: KEMPreKeyID(rawValue: id), publicKey: kemKeys[key],
                         signature: identity.signature(for: kemKeys[key].encoded))
    }

    static func signedPreKey(id: UInt32, seed: UInt8 = 1, by identity: IdentityKey.PrivateKey = identity) -> KeyUpload.SignedPreKey {
        let key = x25519(seed)
        return KeyUpload.SignedPreKey(id: SignedPreKeyID(rawValue: id), publicKey: key,
                                      signature: identity.signature(for: key.encoded))
    }

    static func oneTime(_ ids: [UInt32]) -> [KeyUpload.OneTimePreKey] {
        ids.map { KeyUpload.OneTimePreKey(id: PreKeyID(rawValue: $0), publicKey: x25519(UInt8(truncatingIfNeeded: $0 &+ 10))) }
    }
}

extension RelayStore {
    /// Adds the device with `Keys.identity`, expecting it to be new.
    func add(_ address: RelayAddress, identity: IdentityKey.PrivateKey = Keys.identity) async throws {
        let result = try await addDevice(address, identity: identity.publicKey, nowMs: 1)
        guard result == .added else { throw RelayStoreError("\(address) was not new") }
    }
}

/// The server ids of a `.queued` result, or nil for a mismatch.
func queuedIDs(_ result: EnqueueResult) -> [UInt32: UInt64]? {
    if case .queued(let ids) = result { return ids }
    return nil
}

/// Holds the writer with a job until `count` more jobs wait, so that those
/// form one batch (one transaction); returns once the holding job runs.
func holdWriter(_ writer: SQLiteWriter, until count: Int) async -> Task<Void, any Error> {
    let (started, startedContinuation) = AsyncStream<Void>.makeStream()
    let holder = Task {
        try await writer.perform { _ throws(RelayStoreError) in
            startedContinuation.yield()
            let deadline = Date().addingTimeInterval(20)
            while writer.waitingCount < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        }
    }
    for await _ in started { break }
    return holder
}
