// swift-tools-version:6.0
import PackageDescription

// The relay server (docs/RELAY.md) is a package of its own that takes the library
// by path, so that a user of E2EE never resolves a server dependency.
let package = Package(
    name: "swift-e2ee-relay",
    // Hummingbird 2 and hummingbird-websocket need macOS 14; Linux is unaffected.
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "e2ee-relay", targets: ["e2ee-relay"]),
        .executable(name: "relay-bench", targets: ["relay-bench"]),
        .library(name: "E2EERelayClient", targets: ["E2EERelayClient"]),
        // The relay's own bytes and the fuzz harness's checks over them, for fuzz/.
        .library(name: "RelayProtocol", targets: ["RelayProtocol"]),
        .library(name: "RelayFuzzChecks", targets: ["RelayFuzzChecks"]),
    ],
    dependencies: [
        // Named, because a path dependency's identity is otherwise its folder's name,
        // which differs between worktrees and CI clones.
        .package(name: "swift-e2ee", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // TLS 1.3 on both ends (the server through HummingbirdTLS, the client's HTTPS and WSS).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The relay's own bytes (envelope v1, WebSocket frames, request bodies, signed
        // statements): shared by server and client, so the two cannot differ.
        .target(
            name: "RelayProtocol",
            dependencies: [.product(name: "E2EE", package: "swift-e2ee")]
        ),
        // The invariants fuzz/relay_request checks on every parser; the tests
        // replay the committed corpus through them.
        .target(
            name: "RelayFuzzChecks",
            dependencies: ["RelayProtocol", .product(name: "E2EE", package: "swift-e2ee")]
        ),
        .systemLibrary(
            name: "CRelaySQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // RelayStore, the storage protocol, and its SQLite and PostgreSQL backends.
        .target(
            name: "RelayStorage",
            dependencies: [
                "RelayProtocol",
                "CRelaySQLite",
                .product(name: "E2EE", package: "swift-e2ee"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Hummingbird application: a library so that tests can use its types.
        .target(
            name: "RelayServer",
            dependencies: [
                "RelayProtocol",
                "RelayStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // `e2ee-relay serve …` (the rest is RelayServer) and a device's commands
        // (`register`, `send`, `sync`) over the client and a store directory.
        .executableTarget(
            name: "e2ee-relay",
            dependencies: [
                "RelayServer",
                "E2EERelayClient",
                "RelayProtocol",
                .product(name: "E2EE", package: "swift-e2ee"),
                .product(name: "E2EEStore", package: "swift-e2ee"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The client over SessionManager: HTTP over URLSession, delivery over a WebSocket.
        .target(
            name: "E2EERelayClient",
            dependencies: [
                "RelayProtocol",
                .product(name: "E2EE", package: "swift-e2ee"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Round trips, every refusal, pinned bytes and a seeded random-input loop.
        .testTarget(
            name: "RelayProtocolTests",
            dependencies: [
                "RelayProtocol",
                "RelayFuzzChecks",
                .product(name: "E2EE", package: "swift-e2ee"),
            ]
        ),
        // `swift run -c release relay-bench`: delivered messages/s and send→ack latency.
        .executableTarget(
            name: "relay-bench",
            dependencies: [
                "E2EERelayClient",
                "RelayProtocol",
                .product(name: "E2EE", package: "swift-e2ee"),
            ]
        ),
        // Every store behind RelayStore passes these: SQLite always, PostgreSQL
        // when E2EE_RELAY_TEST_POSTGRES names a server.
        .testTarget(
            name: "RelayStorageTests",
            dependencies: [
                "RelayStorage",
                "RelayProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "E2EE", package: "swift-e2ee"),
            ]
        ),
        // Runs the built e2ee-relay as a real process on loopback.
        .testTarget(
            name: "RelayTests",
            dependencies: [
                "RelayServer",
                "RelayStorage",
                "RelayProtocol",
                "E2EERelayClient",
                .product(name: "E2EE", package: "swift-e2ee"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
