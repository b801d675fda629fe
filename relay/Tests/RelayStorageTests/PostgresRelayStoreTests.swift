import E2EE
import Foundation
import Logging
import PostgresNIO
import RelayProtocol
import Synchronization
import Testing
@testable import RelayStorage

/// What only the PostgreSQL backend has: migrations shared by nodes, claims
/// from several pools at once, notifications between nodes. The generic
/// suites (RelayStoreTests.swift) run on it too.
@Suite(.enabled(if: testPostgresURL != nil)) struct PostgresRelayStoreTests {
    /// Nodes starting together: each waits on the advisory lock, one migrates, the others find it done.
    @Test func nodesStartingTogetherMigrateOnce() async throws {
        let opener = try StoreOpener(.postgres)
        defer { Task { await opener.finish() } }
        let stores = try await withThrowingTaskGroup(of: PostgresRelayStore.self) { group in
            for _ in 0..<4 { group.addTask { try await opener.openPostgres() } }
            var all: [PostgresRelayStore] = []
            for try await store in group { all.append(store) }
            return all
        }
        let versions = try await stores[0].perform { db in
            try await db.query("SELECT version FROM schema_version", logger: quietLogger).decode(Int64.self)
                .reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(versions == [PostgresRelayStore.schemaVersion])
        for store in stores { #expect(try await store.deviceIDs(ofUser: "nobody") == []) }
        await opener.finish()
    }

    @Test func aDatabaseFromANewerRelayIsRefused() async throws {
        try await withStore(.postgres) { store, opener in
            let store = try #require(store as? PostgresRelayStore)
            try await store.perform { db in
                try await db.query("INSERT INTO schema_version(version) VALUES (\(PostgresRelayStore.schemaVersion + 1))",
                                   logger: quietLogger).consume()
            }
            let second = try PostgresRelayStore(url: try #require(opener.postgresURL), logger: quietLogger)
            // run() ends with the error (the relay then exits); calls fail as unavailable meanwhile.
            let run = Task { try await second.run() }
            let error = await #expect(throws: RelayStoreError.self) { try await second.deviceIDs(ofUser: "bob") }
            await #expect(throws: RelayStoreError.self) { try await run.value }
            #expect(error?.isUnavailable == true)
        }
    }

    /// Two nodes (two pools) claim one device's keys at once: each one-time key goes out once.
    @Test func claimsFromTwoNodesNeverShareAKey() async throws {
        try await withStore(.postgres) { first, opener in
            let second = try await opener.openPostgres()
            let bob = address("bob", 1)
            try await first.add(bob)
            let opkIDs = (1...60).map { UInt32($0) }
            try await first.applyKeyUpload(KeyUpload(signedPreKey: Keys.signedPreKey(id: 1), oneTimePreKeys: Keys.oneTime(opkIDs),
                                                     lastResortKEMPreKey: Keys.kem(id: 7, key: 10),
                                                     oneTimeKEMPreKeys: (0..<10).map { Keys.kem(id: UInt32(100 + $0), key: $0) }),
                                           for: bob, nowMs: 1)
            let stores: [any RelayStore] = [first, second]
            let bundles = try await withThrowingTaskGroup(of: PreKeyBundle?.self) { group in
                for i in 0..<120 { group.addTask { try await stores[i % 2].claimBundle(for: bob) } }
                var all: [PreKeyBundle] = []
                for try await bundle in group { all.append(try #require(bundle)) }
                return all
            }
            let opks = bundles.compactMap { $0.oneTimePreKey?.id.rawValue }
            #expect(opks.count == 60 && Set(opks) == Set(opkIDs))
            let kems = bundles.compactMap { $0.kemPreKey?.id.rawValue }.filter { $0 != 7 }
            #expect(kems.count == 10 && Set(kems).count == 10)
            #expect(try await second.preKeyCounts(for: bob) == PreKeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0))
        }
    }

    /// A send through one node wakes the recipient on every node; a connection
    /// announced by one node reaches the others with its node id.
    @Test func notificationsReachTheOtherNode() async throws {
        try await withStore(.postgres) { sender, opener in
            let receiver = try await opener.openPostgres()
            let (events, sink) = AsyncStream.makeStream(of: RelayStoreEvent.self)
            receiver.setEventHandler { event in
                if event != .resync { sink.yield(event) }
            }
            let bob = address("bob", 2), alice = address("alice", 1)
            try await sender.add(bob)
            var iterator = events.makeAsyncIterator()
            // The listener starts just after the store is ready: send until it hears one.
            let heard = await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for _ in 0..<50 {
                        _ = try? await sender.enqueue(toUser: "bob", from: alice, messages: [2: [1]], nowMs: 1, expiresMs: 100)
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
                let first = await iterator.next()
                group.cancelAll()
                return first
            }
            #expect(heard == .queued(bob))
            // Ends the wait below if the announcement never comes (the test then fails, not hangs).
            let bound = Task {
                try await Task.sleep(for: .seconds(10))
                sink.finish()
            }
            defer { bound.cancel() }
            let announcer = try #require(sender as? PostgresRelayStore)
            try await announcer.announceConnected(bob)
            var connected: RelayStoreEvent?
            while let event = await iterator.next() {
                if case .connected = event { connected = event; break }
            }
            #expect(connected == .connected(bob, node: announcer.nodeID))
            #expect(announcer.nodeID != receiver.nodeID)
        }
    }

    @Test func notificationPayloadsParseAndOddOnesAreIgnored() throws {
        let batch = try #require(PostgresRelayStore.events("q node-1\n3 bob\n1 alice"))
        #expect(batch.node == "node-1" && batch.events == [.queued(address("bob", 3)), .queued(address("alice", 1))])
        let connected = try #require(PostgresRelayStore.events("c node-1 3 bob"))
        #expect(connected.node == "node-1" && connected.events == [.connected(address("bob", 3), node: "node-1")])
        // Bad lines of a batch are skipped, the others kept.
        #expect(PostgresRelayStore.events("q n\nx bob\n3\n\n2 carol")?.events == [.queued(address("carol", 2))])
        for odd in ["q", "q \n3 bob", "c node-1 x bob", "c node-1 3", "c n 3 bob\n4 carol", "z 3 bob", ""] {
            #expect(PostgresRelayStore.events(odd) == nil, "\(odd)")
        }
        // Payloads stay under PostgreSQL's 8,000 bytes, and every address is in one of them.
        let many = (1...2_000).map { address("user\($0)", UInt32($0)) }
        let payloads = PostgresRelayStore.queuedPayloads(node: "node-1", many)
        #expect(payloads.count > 1 && payloads.allSatisfy { $0.utf8.count <= 7_000 })
        #expect(payloads.flatMap { PostgresRelayStore.events($0)?.events ?? [] } == many.map { .queued($0) })
        #expect(PostgresRelayStore.queuedPayloads(node: "node-1", []).isEmpty)
    }

    @Test func urlsAreParsedAndBadOnesRefused() throws {
        let parsed = try PostgresRelayStore.configuration("postgres://relay:pw@127.0.0.1:5544/db?sslmode=disable&schema=t_1")
        #expect(parsed.configuration.host == "127.0.0.1" && parsed.configuration.port == 5544)
        #expect(parsed.configuration.username == "relay" && parsed.configuration.password == "pw")
        #expect(parsed.configuration.database == "db" && parsed.schema == "t_1")
        for bad in ["http://relay@h/db", "postgres://h/db", "postgres://u@h/db?schema=Bad-Name", "postgres://u@h/db?x=1"] {
            #expect(throws: RelayStoreError.self) { try PostgresRelayStore.configuration(bad) }
        }
    }
}

/// CI must not pass with the PostgreSQL variants silently left out.
@Test func postgresIsThereWhenRequired() {
    if ProcessInfo.processInfo.environment["E2EE_RELAY_REQUIRE_POSTGRES"] == "1" {
        #expect(testPostgresURL != nil, "E2EE_RELAY_REQUIRE_POSTGRES=1 but E2EE_RELAY_TEST_POSTGRES is not set")
    }
}
