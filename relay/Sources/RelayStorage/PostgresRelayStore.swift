import E2EE
import Foundation
import Logging
import NIOCore
import PostgresNIO
import RelayProtocol
import ServiceLifecycle
import Synchronization

/// What another relay node on the same database asks of this one (docs/RELAY.md,
/// Several nodes). Delivered by PostgreSQL `LISTEN/NOTIFY`.
public enum RelayStoreEvent: Sendable, Equatable {
    /// A message was queued for the device (by any node, this one included).
    case queued(RelayAddress)
    /// The device authenticated a WebSocket on node `node`.
    case connected(RelayAddress, node: String)
    /// Notifications may have been missed (the listener (re)connected, or the
    /// safety-net poll came round): look at every local device's queue.
    case resync
}

/// ``RelayStore`` on PostgreSQL through a pool of postgres-nio connections.
///
/// A `Service`: `run()` runs the pool, applies the schema migrations (under an
/// advisory lock, so nodes starting together apply each once), then listens for
/// the other nodes' notifications until shutdown. Calls made before the schema is
/// ready wait for it up to `readyTimeout`.
///
/// Each call is one transaction (or one statement) that has committed when it
/// returns. A call that cannot reach the database throws a ``RelayStoreError``
/// with `isUnavailable` set (the server answers 503).
public final class PostgresRelayStore: RelayStore, Service {
    /// The schema this code writes; `schema_version` holds the database's.
    static let schemaVersion: Int64 = 1
    /// Any fixed key: with the schema's name, the lock that serialises migrations across nodes.
    static let migrationLockKey: Int32 = 0x6532_6565

    let client: PostgresClient
    let logger: Logger
    /// This process's name in `connected` notifications.
    public let nodeID: String
    /// The safety net under NOTIFY: every local device's queue is read again this often.
    public let pollInterval: Duration
    /// How long a call waits for the first migration before it fails as unavailable.
    let readyTimeout: Duration
    /// The schema (PostgreSQL namespace) the tables live in; `public` unless the URL says `?schema=`.
    let schema: String?
    /// The notification channel (one per schema, so that test schemas do not hear each other).
    let channel: String
    private let isReady = Atomic<Bool>(false)
    /// Set when the schema cannot be migrated (a newer one): calls fail at once.
    private let isRefused = Atomic<Bool>(false)
    private let handler = HandlerSlot<RelayStoreEvent>()
    /// Devices this node queued for, not yet announced to the other nodes
    /// (``sendNotifications()`` announces them in batches, after the commits).
    private let toNotify = Mutex<Set<RelayAddress>>([])
    private let notifyWake = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    /// Acks, deleted many in one statement (``deleteAcked``).
    private let acks: Batcher<PendingAck, Bool>
    /// Queue reads of many devices in one statement (``readQueues``).
    private let reads: Batcher<QueueRead, [QueuedRow]>

    /// `url`: `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require][&schema=NAME]`.
    public init(url: String, logger: Logger, pollInterval: Duration = .seconds(30),
                readyTimeout: Duration = .seconds(10)) throws(RelayStoreError) {
        let parsed = try Self.configuration(url)
        var configuration = parsed.configuration
        configuration.options.maximumConnections = 50
        if let schema = parsed.schema {
            // A startup parameter is a setting for the whole session, so every pooled connection has it.
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.schema = parsed.schema
        self.channel = "e2ee_relay" + (parsed.schema.map { "_" + $0 } ?? "")
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // Two batches of each at once: one runs while the next fills.
        self.acks = Batcher(maxBatch: 512, maxRunning: 2) { batch in try await Self.deleteAcked(batch, client, logger) }
        self.reads = Batcher(maxBatch: 256, maxRunning: 2) { batch in try await Self.readQueues(batch, client, logger) }
        self.logger = logger
        self.nodeID = UUID().uuidString.lowercased()
        self.pollInterval = pollInterval
        self.readyTimeout = readyTimeout
    }

    /// Parses the URL (credentials never go into an error message).
    static func configuration(_ url: String) throws(RelayStoreError) -> (configuration: PostgresClient.Configuration, schema: String?) {
        guard let parts = URLComponents(string: url), parts.scheme == "postgres" || parts.scheme == "postgresql",
              let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty
        else { throw RelayStoreError("postgres: the URL must look like postgres://user@host:port/database") }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        var tls = PostgresClient.Configuration.TLS.disable
        var schema: String?
        for item in parts.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"): tls = .disable
            case ("sslmode", "prefer"): tls = .prefer(.makeClientConfiguration())
            case ("sslmode", "require"): tls = .require(.makeClientConfiguration())
            case ("schema", let name?) where !name.isEmpty && name.utf8.count <= 40
                && name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }):
                schema = name
            default:
                throw RelayStoreError("postgres: unsupported URL parameter '\(item.name)'")
            }
        }
        let configuration = PostgresClient.Configuration(host: host, port: parts.port ?? 5432, username: user,
                                                         password: parts.password, database: database.isEmpty ? nil : database,
                                                         tls: tls)
        return (configuration, schema)
    }

    /// Where the other nodes' events go (the server sets it once, before `run()`).
    public func setEventHandler(_ body: @escaping @Sendable (RelayStoreEvent) -> Void) {
        handler.set(body)
    }

    private func emit(_ event: RelayStoreEvent) {
        handler(event)
    }

    // MARK: Lifecycle

    /// The pool, the migrations, then the listener and the safety-net poll, until
    /// graceful shutdown (as the first service of the group it stops last, after
    /// the server finished its requests) or cancellation. Throws if the database
    /// cannot be migrated (a newer schema): the relay must not serve it.
    public func run() async throws {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await self.client.run() }
                group.addTask { try await self.migrateUntilDone() }
                group.addTask { await self.listen() }
                group.addTask { await self.sendNotifications() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.pollInterval)
                        if self.isReady.load(ordering: .acquiring) { self.emit(.resync) }
                    }
                }
                // A child, not the body: the body would wait here even after a child failed.
                group.addTask {
                    try? await gracefulShutdown()
                    throw Stop()
                }
            }
        } catch is Stop {
            // Graceful shutdown or cancellation: every child has ended.
        }
    }

    /// Ends `run()`'s task group, which a child can only do by throwing.
    private struct Stop: Error {}

    /// Migrates, retrying while the database is unreachable (a node may start before it).
    private func migrateUntilDone() async throws(RelayStoreError) {
        while !Task.isCancelled {
            do {
                try await migrate()
                isReady.store(true, ordering: .releasing)
                return
            } catch where error.isUnavailable {
                logger.warning("postgres: database unreachable, migration retried", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            } catch {
                isRefused.store(true, ordering: .releasing)
                throw error
            }
        }
    }

    /// Applies the migrations this code knows and the database lacks, in one transaction.
    func migrate() async throws(RelayStoreError) {
        do {
            try await client.withTransaction(logger: logger) { db in
                // Held to the end of the transaction: a second node waits here, then finds the work done.
                // One lock per schema: nodes of one deployment wait for each other, other schemas do not.
                try await db.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey), hashtext(\(schema ?? "public")))",
                                   logger: logger).consume()
                if let schema {
                    try await db.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger).consume()
                }
                try await db.query("CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)", logger: logger).consume()
                var current: Int64 = 0
                for try await version in try await db.query("SELECT coalesce(max(version), 0) FROM schema_version",
                                                            logger: logger).decode(Int64.self) {
                    current = version
                }
                guard current <= Self.schemaVersion else {
                    throw RelayStoreError("postgres: schema version \(current) is newer than this relay's \(Self.schemaVersion)")
                }
                for (version, statements) in Self.migrations where version > current {
                    for statement in statements {
                        try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger).consume()
                    }
                    try await db.query("INSERT INTO schema_version(version) VALUES (\(version))", logger: logger).consume()
                    logger.info("postgres: schema migrated", metadata: ["version": "\(version)"])
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Version → its statements. A released version is never edited: a change is a new version.
    static let migrations: [(Int64, [String])] = [
        (1, [
            """
            CREATE TABLE devices(
                user_id TEXT NOT NULL, device BIGINT NOT NULL, identity BYTEA NOT NULL, created_ms BIGINT NOT NULL,
                PRIMARY KEY (user_id, device))
            """,
            """
            CREATE TABLE tokens(
                hash BYTEA PRIMARY KEY, user_id TEXT NOT NULL, device BIGINT NOT NULL, expires_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX tokens_by_device ON tokens(user_id, device)",
            "CREATE INDEX tokens_by_expiry ON tokens(expires_ms)",
            // One sequence for the keys' upload order: only the order matters, and a
            // sequence needs no read of the device's rows (which concurrent uploads would race on).
            "CREATE SEQUENCE key_order",
            """
            CREATE TABLE signed_prekeys(
                user_id TEXT NOT NULL, device BIGINT NOT NULL, id BIGINT NOT NULL,
                public BYTEA NOT NULL, signature BYTEA NOT NULL, uploaded_ms BIGINT NOT NULL, seq BIGINT NOT NULL,
                PRIMARY KEY (user_id, device, id))
            """,
            """
            CREATE TABLE one_time_prekeys(
                user_id TEXT NOT NULL, device BIGINT NOT NULL, id BIGINT NOT NULL, public BYTEA NOT NULL,
                PRIMARY KEY (user_id, device, id))
            """,
            """
            CREATE TABLE kem_prekeys(
                user_id TEXT NOT NULL, device BIGINT NOT NULL, id BIGINT NOT NULL,
                public BYTEA NOT NULL, signature BYTEA NOT NULL, last_resort BOOLEAN NOT NULL, seq BIGINT NOT NULL,
                PRIMARY KEY (user_id, device, id))
            """,
            // An identity column never hands out a value twice, even after deletes
            // and restarts (a server id is what a client acks).
            """
            CREATE TABLE messages(
                server_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id TEXT NOT NULL, device BIGINT NOT NULL, sender_user TEXT NOT NULL, sender_device BIGINT NOT NULL,
                received_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, body BYTEA NOT NULL)
            """,
            "CREATE INDEX messages_by_device ON messages(user_id, device, server_id)",
            "CREATE INDEX messages_by_expiry ON messages(expires_ms)",
        ]),
    ]

    /// LISTENs on a connection of its own; on loss, waits and listens again. Each
    /// (re)start is followed by a resync: what was sent meanwhile is read from the queues.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await waitUntilReady()
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        emit(.resync)
                        for try await notification in notifications {
                            guard let (node, events) = Self.events(notification.payload) else { continue }
                            for event in events {
                                // This node woke its own connections when it queued.
                                if case .queued = event, node == nodeID { continue }
                                emit(event)
                            }
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("postgres: listener lost, reconnecting", metadata: ["error": "\(Self.storeError(error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// `q <node>` and then a `<device> <user>` line per device queued for, or
    /// `c <node> <device> <user>` (the user id last: it is the only free-form
    /// part, and it holds neither spaces nor newlines). Nil for anything else; a
    /// bad line of a `q` batch is skipped.
    static func events(_ payload: String) -> (node: String, events: [RelayStoreEvent])? {
        var lines = payload.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard let head = lines.popFirst() else { return nil }
        let fields = head.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        switch fields.first {
        case "q" where fields.count == 2 && !fields[1].isEmpty:
            var events = [RelayStoreEvent]()
            for line in lines {
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let device = UInt32(parts[0]),
                      let address = try? RelayAddress(userID: String(parts[1]), deviceID: device)
                else { continue }
                events.append(.queued(address))
            }
            return (String(fields[1]), events)
        case "c" where fields.count == 4 && lines.isEmpty:
            guard let device = UInt32(fields[2]), let address = try? RelayAddress(userID: String(fields[3]), deviceID: device)
            else { return nil }
            return (String(fields[1]), [.connected(address, node: String(fields[1]))])
        default:
            return nil
        }
    }

    /// The `q` payloads that announce `addresses`, each under PostgreSQL's 8,000-byte limit.
    static func queuedPayloads(node: String, _ addresses: some Sequence<RelayAddress>) -> [String] {
        var payloads = [String](), current = "q \(node)"
        for address in addresses {
            let line = "\n\(address.deviceID) \(address.userID)"
            if current.utf8.count + line.utf8.count > 7_000 {
                payloads.append(current)
                current = "q \(node)"
            }
            current += line
        }
        if current.utf8.count > 2 + node.utf8.count { payloads.append(current) }
        return payloads
    }

    /// Tells the other nodes which devices got messages: one statement for all
    /// the devices queued for since the last one, so that sends neither wait for
    /// it nor serialise on NOTIFY's commit lock. A notification lost here (the
    /// database unreachable, or this node killed after the send's commit) is
    /// made up by the other nodes' resync, at most ``pollInterval`` later.
    private func sendNotifications() async {
        for await _ in notifyWake.stream {
            let addresses = toNotify.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            guard !addresses.isEmpty else { continue }
            let payloads = Self.queuedPayloads(node: nodeID, addresses)
            do {
                try await perform { db in
                    try await db.query("SELECT pg_notify(\(channel), p) FROM unnest(\(payloads)::text[]) AS p", logger: logger).consume()
                }
            } catch {
                logger.warning("postgres: notification not sent; the other nodes' resync covers it",
                               metadata: ["devices": "\(addresses.count)", "error": "\(error)"])
            }
        }
    }

    private func announceQueued(_ addresses: some Sequence<RelayAddress>) {
        toNotify.withLock { $0.formUnion(addresses) }
        notifyWake.continuation.yield()
    }

    /// Tells every node that `address` is now connected here (they end their connection of it).
    public func announceConnected(_ address: RelayAddress) async throws(RelayStoreError) {
        let payload = "c \(nodeID) \(address.deviceID) \(address.userID)"
        try await perform { db in
            try await db.query("SELECT pg_notify(\(channel), \(payload))", logger: logger).consume()
        }
    }

    /// Waits for the first migration, or fails as unavailable after ``readyTimeout``.
    func waitUntilReady() async throws(RelayStoreError) {
        let deadline = ContinuousClock.now + readyTimeout
        while !isReady.load(ordering: .acquiring) {
            guard ContinuousClock.now < deadline, !Task.isCancelled, !isRefused.load(ordering: .acquiring) else {
                throw RelayStoreError("postgres: the schema is not ready", isUnavailable: true)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Running queries

    /// One connection from the pool for `body` (statements outside a transaction).
    func perform<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(RelayStoreError) -> T {
        try await waitUntilReady()
        do {
            return try await client.withConnection { try await body($0) }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// `body` in one transaction, committed before this returns.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(RelayStoreError) -> T {
        try await waitUntilReady()
        do {
            return try await client.withTransaction(logger: logger) { try await body($0) }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A postgres-nio error as a store error: its SQLSTATE and the server's message,
    /// never a query's parameters. Unreachable or shutting-down servers are `isUnavailable`.
    static func storeError(_ error: any Error) -> RelayStoreError {
        switch error {
        case let error as RelayStoreError:
            return error
        case let error as PostgresTransactionError:
            // The closure's own error first: it is why the transaction was rolled back.
            if let inner = error.closureError ?? error.beginError ?? error.commitError { return storeError(inner) }
            return RelayStoreError("postgres: transaction failed")
        case let error as PSQLError:
            if let info = error.serverInfo {
                let state = info[.sqlState] ?? "?"
                // 08: connection exceptions; 57P: the server is shutting down or starting.
                let unavailable = state.hasPrefix("08") || state.hasPrefix("57P")
                return RelayStoreError("postgres: \(state) \(info[.message] ?? "")", isUnavailable: unavailable)
            }
            return RelayStoreError("postgres: \(error.code)", isUnavailable: error.code != .tooManyParameters)
        case is CancellationError:
            return RelayStoreError("postgres: cancelled", isUnavailable: true)
        default:
            return RelayStoreError("postgres: \(type(of: error))", isUnavailable: true)
        }
    }

    // MARK: Devices

    public func addDevice(_ address: RelayAddress, identity: IdentityKey.PublicKey, nowMs: UInt64) async throws(RelayStoreError) -> AddDeviceResult {
        let user = address.userID, device = Int64(address.deviceID), key = ByteBuffer(bytes: identity.rawRepresentation)
        let now = Int64(clamping: nowMs)
        return try await transaction { db in
            let inserted = try await db.query("""
                INSERT INTO devices(user_id, device, identity, created_ms) VALUES (\(user), \(device), \(key), \(now))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger).collect()
            if !inserted.isEmpty { return .added }
            // Rows are read to the end before the transaction goes on.
            let stored = try await db.query("SELECT identity FROM devices WHERE user_id = \(user) AND device = \(device)",
                                            logger: logger).collect()
            guard let row = stored.first else { throw RelayStoreError("postgres: \(address) neither inserted nor found") }
            return .exists(sameIdentity: try row.decode(ByteBuffer.self) == key)
        }
    }

    public func identity(of address: RelayAddress) async throws(RelayStoreError) -> IdentityKey.PublicKey? {
        let user = address.userID, device = Int64(address.deviceID)
        let raw = try await perform { db -> [UInt8]? in
            let rows = try await db.query("SELECT identity FROM devices WHERE user_id = \(user) AND device = \(device)",
                                          logger: logger).collect()
            return try rows.first.map { Array(buffer: try $0.decode(ByteBuffer.self)) }
        }
        guard let raw else { return nil }
        return try SQLiteRelayStore.identityKey(raw, of: address)
    }

    public func deviceIDs(ofUser userID: String) async throws(RelayStoreError) -> [UInt32] {
        try await perform { db in try await Self.deviceIDs(userID, db, logger: logger, lock: false) }
    }

    /// `lock`: FOR SHARE, so that no device of the user is removed before the transaction ends.
    static func deviceIDs(_ user: String, _ db: PostgresConnection, logger: Logger, lock: Bool) async throws -> [UInt32] {
        var ids: [UInt32] = []
        let query: PostgresQuery = lock
            ? "SELECT device FROM devices WHERE user_id = \(user) ORDER BY device FOR SHARE"
            : "SELECT device FROM devices WHERE user_id = \(user) ORDER BY device"
        for try await id in try await db.query(query, logger: logger).decode(Int64.self) {
            guard let id = UInt32(exactly: id) else { throw RelayStoreError("stored device id out of range") }
            ids.append(id)
        }
        return ids
    }

    /// Whether the device exists, holding its row until the transaction ends.
    static func lockDevice(_ user: String, _ device: Int64, _ db: PostgresConnection, logger: Logger) async throws -> Bool {
        try await !db.query("SELECT 1 FROM devices WHERE user_id = \(user) AND device = \(device) FOR SHARE",
                            logger: logger).collect().isEmpty
    }

    public func removeDevice(_ address: RelayAddress) async throws(RelayStoreError) -> Bool {
        let user = address.userID, device = Int64(address.deviceID)
        return try await transaction { db in
            let removed = try await db.query("DELETE FROM devices WHERE user_id = \(user) AND device = \(device) RETURNING 1",
                                             logger: logger).collect()
            guard !removed.isEmpty else { return false }
            // Explicit rather than foreign keys, as in SQLite: sends pay no lookup.
            for table in ["tokens", "signed_prekeys", "one_time_prekeys", "kem_prekeys", "messages"] {
                try await db.query("DELETE FROM \(unescaped: table) WHERE user_id = \(user) AND device = \(device)",
                                   logger: logger).consume()
            }
            return true
        }
    }

    // MARK: Tokens

    public func addToken(hash: [UInt8], for address: RelayAddress, expiresMs: UInt64) async throws(RelayStoreError) {
        let user = address.userID, device = Int64(address.deviceID), expires = Int64(clamping: expiresMs)
        let hash = ByteBuffer(bytes: hash)
        try await transaction { db in
            guard try await Self.lockDevice(user, device, db, logger: logger) else {
                throw RelayStoreError("token for unknown device \(address)")
            }
            try await db.query("""
                INSERT INTO tokens(hash, user_id, device, expires_ms) VALUES (\(hash), \(user), \(device), \(expires))
                ON CONFLICT (hash) DO UPDATE SET user_id = excluded.user_id, device = excluded.device, expires_ms = excluded.expires_ms
                """, logger: logger).consume()
        }
    }

    public func tokenOwner(hash: [UInt8], nowMs: UInt64) async throws(RelayStoreError) -> RelayAddress? {
        let hash = ByteBuffer(bytes: hash), now = Int64(clamping: nowMs)
        let row = try await perform { db -> (String, Int64)? in
            let rows = try await db.query("SELECT user_id, device FROM tokens WHERE hash = \(hash) AND expires_ms > \(now)",
                                          logger: logger).collect()
            return try rows.first?.decode((String, Int64).self)
        }
        guard let row else { return nil }
        return try SQLiteRelayStore.address(row.0, row.1)
    }

    // MARK: Mailbox

    public func enqueue(toUser userID: String, from sender: RelayAddress, messages: [UInt32: [UInt8]],
                        nowMs: UInt64, expiresMs: UInt64) async throws(RelayStoreError) -> EnqueueResult {
        if let large = messages.values.first(where: { $0.count > Envelope.maxMessageBytes }) {
            throw RelayStoreError("message of \(large.count) bytes, above \(Envelope.maxMessageBytes)")
        }
        let received = Int64(clamping: nowMs), expires = Int64(clamping: expiresMs)
        let senderUser = sender.userID, senderDevice = Int64(sender.deviceID)
        let named = messages.keys.sorted()
        let devices = named.map { Int64($0) }, bodies = named.map { ByteBuffer(bytes: messages[$0] ?? []) }
        // The sender's own device is never among the recipients (-1 is no device).
        let ownDevice: Int64 = sender.userID == userID ? senderDevice : -1
        // One statement, so one round trip and its own transaction: the user's device
        // rows are read FOR SHARE (none removed before the commit), compared with the
        // devices named, and the messages inserted only if they are the same.
        let (expected, inserted, ids) = try await perform { db in
            var result: ([Int64], [Int64], [Int64]) = ([], [], [])
            for try await row in try await db.query("""
                WITH expected AS (
                    SELECT coalesce(array_agg(device ORDER BY device), '{}'::bigint[]) AS devices
                    FROM (SELECT device FROM devices WHERE user_id = \(userID) FOR SHARE) AS d
                    WHERE device <> \(ownDevice)),
                inserted AS (
                    INSERT INTO messages(user_id, device, sender_user, sender_device, received_ms, expires_ms, body)
                    SELECT \(userID), m.device, \(senderUser), \(senderDevice), \(received), \(expires), m.body
                    FROM unnest(\(devices)::bigint[], \(bodies)::bytea[]) AS m(device, body), expected
                    WHERE expected.devices = \(devices)::bigint[]
                    RETURNING device, server_id)
                SELECT (SELECT devices FROM expected),
                       coalesce((SELECT array_agg(device ORDER BY device) FROM inserted), '{}'::bigint[]),
                       coalesce((SELECT array_agg(server_id ORDER BY device) FROM inserted), '{}'::bigint[])
                """, logger: logger).decode(([Int64], [Int64], [Int64]).self) {
                result = row
            }
            return result
        }
        guard expected == devices else {
            let want = Set(expected.compactMap { UInt32(exactly: $0) }), have = Set(named)
            return .mismatch(missing: want.subtracting(have).sorted(), extra: have.subtracting(want).sorted())
        }
        guard inserted == devices, ids.count == devices.count else { throw RelayStoreError("postgres: insert returned no server id") }
        var queued: [UInt32: UInt64] = [:]
        for (device, id) in zip(named, ids) {
            guard let id = UInt64(exactly: id) else { throw RelayStoreError("postgres: negative server id") }
            queued[device] = id
        }
        announceQueued(named.compactMap { try? RelayAddress(userID: userID, deviceID: $0) })
        return .queued(queued)
    }

    /// Reads of many devices' queues go in one statement when they come together
    /// (every connected device reads its queue when woken).
    public func pending(for address: RelayAddress, after serverID: UInt64, limit: Int,
                        nowMs: UInt64) async throws(RelayStoreError) -> [Envelope] {
        guard limit > 0 else { return [] }
        try await waitUntilReady()
        let read = QueueRead(user: address.userID, device: Int64(address.deviceID), after: Int64(clamping: serverID),
                             limit: Int64(min(limit, 10_000)), now: Int64(clamping: nowMs))
        let rows: [QueuedRow]
        do { rows = try await reads.submit(read) } catch { throw Self.storeError(error) }
        var envelopes: [Envelope] = []
        for (id, received, senderUser, senderDevice, body) in rows.map({ ($0.id, $0.received, $0.senderUser, $0.senderDevice, $0.body) }) {
            let sender = try SQLiteRelayStore.address(senderUser, senderDevice)
            do {
                envelopes.append(try Envelope(serverID: UInt64(id), serverTimeMilliseconds: UInt64(clamping: received),
                                              sender: sender, ciphertext: Array(buffer: body)))
            } catch {
                throw RelayStoreError("stored message \(id) is not an envelope: \(error)")
            }
        }
        return envelopes
    }

    /// Acks are deleted in batches: the ones that arrive while a delete runs go
    /// in the next (every device's connection acks on its own, so one statement
    /// each would cost a commit each). Returns once the row is gone, as before.
    public func acknowledge(_ serverID: UInt64, for address: RelayAddress) async throws(RelayStoreError) -> Bool {
        guard let id = Int64(exactly: serverID) else { return false }
        try await waitUntilReady()
        do {
            return try await acks.submit(PendingAck(id: id, user: address.userID, device: Int64(address.deviceID)))
        } catch {
            throw Self.storeError(error)
        }
    }

    /// One statement for a batch of acks: each deletes its row only if the row is
    /// the acking device's.
    static func deleteAcked(_ batch: [PendingAck], _ client: PostgresClient, _ logger: Logger) async throws -> [Bool] {
        let ids = batch.map(\.id), users = batch.map(\.user), devices = batch.map(\.device)
        var deleted = Set<Int64>()
        try await client.withConnection { db in
            for try await id in try await db.query("""
                DELETE FROM messages AS m
                USING unnest(\(ids)::bigint[], \(users)::text[], \(devices)::bigint[]) AS a(id, user_id, device)
                WHERE m.server_id = a.id AND m.user_id = a.user_id AND m.device = a.device
                RETURNING m.server_id
                """, logger: logger).decode(Int64.self) {
                deleted.insert(id)
            }
        }
        // An id acked twice in one batch was deleted once: the first ack says so.
        return batch.map { deleted.remove($0.id) != nil }
    }

    /// One statement for a batch of queue reads: each device's oldest unexpired
    /// messages after its last id, at most its limit, in order.
    static func readQueues(_ batch: [QueueRead], _ client: PostgresClient, _ logger: Logger) async throws -> [[QueuedRow]] {
        let users = batch.map(\.user), devices = batch.map(\.device), afters = batch.map(\.after)
        let limits = batch.map(\.limit), nows = batch.map(\.now)
        var rows = [[QueuedRow]](repeating: [], count: batch.count)
        try await client.withConnection { db in
            for try await (index, id, received, senderUser, senderDevice, body) in try await db.query("""
                SELECT r.i, m.server_id, m.received_ms, m.sender_user, m.sender_device, m.body
                FROM unnest(\(users)::text[], \(devices)::bigint[], \(afters)::bigint[], \(limits)::bigint[], \(nows)::bigint[])
                     WITH ORDINALITY AS r(user_id, device, after, lim, now, i)
                CROSS JOIN LATERAL (
                    SELECT server_id, received_ms, sender_user, sender_device, body FROM messages
                    WHERE user_id = r.user_id AND device = r.device AND server_id > r.after AND expires_ms > r.now
                    ORDER BY server_id LIMIT r.lim) AS m
                ORDER BY r.i, m.server_id
                """, logger: logger).decode((Int64, Int64, Int64, String, Int64, ByteBuffer).self) {
                guard index >= 1, index <= rows.count else { throw RelayStoreError("postgres: queue read out of range") }
                rows[Int(index) - 1].append(QueuedRow(id: id, received: received, senderUser: senderUser,
                                                      senderDevice: senderDevice, body: body))
            }
        }
        return rows
    }

    public func deleteExpired(nowMs: UInt64) async throws(RelayStoreError) -> Int {
        let now = Int64(clamping: nowMs)
        return try await transaction { db in
            try await db.query("DELETE FROM tokens WHERE expires_ms <= \(now)", logger: logger).consume()
            var count = 0
            for try await gone in try await db.query("""
                WITH gone AS (DELETE FROM messages WHERE expires_ms <= \(now) RETURNING 1) SELECT count(*) FROM gone
                """, logger: logger).decode(Int64.self) {
                count = Int(gone)
            }
            return count
        }
    }

    public func queueDepth(for address: RelayAddress) async throws(RelayStoreError) -> Int {
        let user = address.userID, device = Int64(address.deviceID)
        return try await perform { db in
            var count = 0
            for try await n in try await db.query("SELECT count(*) FROM messages WHERE user_id = \(user) AND device = \(device)",
                                                  logger: logger).decode(Int64.self) {
                count = Int(n)
            }
            return count
        }
    }
}

extension PostgresRowSequence {
    /// Reads the rows to the end (a statement's result must be read before the connection runs the next).
    func consume() async throws {
        for try await _ in self {}
    }
}

/// An ack for ``PostgresRelayStore``'s batched delete.
struct PendingAck: Sendable {
    let id: Int64
    let user: String
    let device: Int64
}

/// A device's queue read for ``PostgresRelayStore``'s batched read.
struct QueueRead: Sendable {
    let user: String
    let device: Int64
    let after: Int64
    let limit: Int64
    let now: Int64
}

/// A queued message as read.
struct QueuedRow: Sendable {
    let id: Int64
    let received: Int64
    let senderUser: String
    let senderDevice: Int64
    let body: ByteBuffer
}
