import E2EE
import E2EERelayClient
import Foundation
import RelayProtocol
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension RelayProcess {
    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
}

/// A fresh database path under the temporary directory.
func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("relay-test-\(UUID().uuidString).sqlite").path
}

/// The PostgreSQL server of the PostgreSQL variants (scripts/relay-test.sh sets it).
let testPostgresURL = ProcessInfo.processInfo.environment["E2EE_RELAY_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

/// A backend the process tests run on: SQLite always, PostgreSQL when a server is given.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var available: [Backend] { testPostgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
    var testDescription: String { rawValue }
}

/// A fresh database of `backend`: a SQLite path, or a PostgreSQL URL naming a
/// schema of its own (the relay creates it), which nodes of one test share.
func temporaryDatabase(_ backend: Backend) -> String {
    switch backend {
    case .sqlite:
        return temporaryDatabase()
    case .postgres:
        let base = testPostgresURL ?? ""
        let schema = "p_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    }
}

/// Removes a database and its WAL files (a PostgreSQL schema goes with the throwaway cluster).
func removeDatabase(_ path: String) {
    if path.hasPrefix("postgres://") { return }
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

/// A device with its own in-memory store, registered on a relay.
struct Peer: Sendable {
    let address: ProtocolAddress
    let store: MemoryStore
    let manager: SessionManager
    let client: RelayClient

    /// `oneTimeKeys`: the account's pools (one-time prekeys and KEM prekeys),
    /// all uploaded at registration; nil for the library's default of 100.
    init(_ user: String, _ device: UInt32 = 1, relay: RelayProcess, approvedBy: Peer? = nil,
         oneTimeKeys: Int? = nil, register: Bool = true) async throws {
        address = ProtocolAddress(userID: user, deviceID: device)
        store = MemoryStore()
        if let oneTimeKeys {
            var account = Account(identity: IdentityKey.PrivateKey(), createdAt: SessionManager.systemClock())
            account.generateOneTimePreKeys(count: oneTimeKeys)
            account.generateOneTimeKEMPreKeys(count: oneTimeKeys)
            var changes = StoreChanges()
            changes.account = account
            try store.commit(changes)
        } else {
            try SessionManager.createAccount(store: store)
        }
        manager = try SessionManager(store: store, localAddress: address)
        client = try RelayClient(server: relay.url, manager: manager)
        if register {
            let policy = PreKeyPolicy(minimumOneTimePreKeys: 0, targetOneTimePreKeys: oneTimeKeys ?? 100,
                                      minimumOneTimeKEMPreKeys: 0, targetOneTimeKEMPreKeys: oneTimeKeys ?? 100)
            try await client.register(approvedBy: approvedBy?.client, policy: policy)
        }
    }

    /// A client of the same device for another relay process (after a restart).
    func reconnected(to relay: RelayProcess) throws -> RelayClient {
        try RelayClient(server: relay.url, manager: manager)
    }

    /// Receives until nothing came for `idle`; returns the deliveries in order.
    func drain(client: RelayClient? = nil, idle: Duration = .milliseconds(500)) async throws -> [Delivery] {
        let got = Collector<Delivery>()
        let end = try await withTimeout(60, "draining \(address)") { [self] in
            try await (client ?? self.client).receive(until: .idle(idle)) { got.append($0) }
        }
        #expect(end == .idle)
        return got.items
    }

    /// The application plaintexts received, as text.
    static func texts(_ deliveries: [Delivery]) -> [String] {
        deliveries.compactMap {
            if case .received(let r) = $0.outcome, let p = r.plaintext { return String(decoding: p, as: UTF8.self) }
            return nil
        }
    }
}

/// Items appended from concurrent tasks.
final class Collector<T: Sendable>: Sendable {
    private let storage = Mutex<[T]>([])
    func append(_ item: T) { storage.withLock { $0.append(item) } }
    var items: [T] { storage.withLock { $0 } }
    var count: Int { storage.withLock { $0.count } }
}

/// A raw HTTP request to the relay, for the refusal tests.
func http(_ method: String, _ relay: RelayProcess, _ path: String, body: [UInt8]? = nil,
          bearer: [UInt8]? = nil, authorization: String? = nil) async throws -> (status: Int, body: [UInt8]) {
    var request = URLRequest(url: URL(string: path, relativeTo: relay.url)!)
    request.httpMethod = method
    if let body { request.httpBody = Data(body) }
    if let bearer { request.setValue("Bearer " + bearer.map { String(format: "%02x", $0) }.joined(), forHTTPHeaderField: "Authorization") }
    if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? -1, Array(data))
}

/// The HTTP status a client call failed with; nil if it succeeded or failed otherwise.
func failureStatus(_ body: () async throws -> Void) async -> Int? {
    do {
        try await body()
        return nil
    } catch {
        if case .status(let code, _)? = error as? RelayClientError { return code }
        return nil
    }
}
