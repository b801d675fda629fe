// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-e2ee",
    products: [
        .library(name: "E2EE", targets: ["E2EE"]),
        // Persistent, sealed storage on SQLite: a separate product so that users of
        // the core need not link it.
        .library(name: "E2EEStore", targets: ["E2EEStore"]),
        .executable(name: "e2ee", targets: ["e2ee"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    dependencies: [
        // ML-KEM-1024 for PQXDH (PROTOCOL.md §2b); nothing else is taken from it.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // `swift package generate-documentation` (scripts/docs.sh); a plugin only, nothing is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The `e2ee` tool's command line (subcommands, help, completions); the libraries do not use it.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The C core: hot-path KDFs and AEAD over libb2 and libsodium. Private to E2EE.
        .target(
            name: "CE2EE",
            path: "CSources/CE2EE",
            linkerSettings: [.linkedLibrary("sodium"), .linkedLibrary("b2")]
        ),
        .target(
            name: "E2EE",
            dependencies: ["CE2EE", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/E2EE"
        ),
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "E2EEStore",
            dependencies: ["E2EE", "CSQLite"],
            path: "Sources/E2EEStore"
        ),
        // Hex, JSON and SplitMix64 for the tool, the bench and the tests. Internal to
        // the package (no product); E2EE does not depend on it.
        .target(
            name: "ToolSupport",
            path: "Sources/ToolSupport"
        ),
        // The command-line tool: a thin layer over E2EE that keeps its state in a directory.
        .executableTarget(
            name: "e2ee",
            dependencies: ["E2EE", "E2EEStore", "ToolSupport",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/e2ee"
        ),
        // Two processes sharing one SQLite store (Tests/cli/hammer.sh).
        .executableTarget(
            name: "store-hammer",
            dependencies: ["E2EE", "E2EEStore"],
            path: "Tests/StoreHammer"
        ),
        // Scenarios run under the freed-memory scanner (scripts/secretscan.sh).
        .executableTarget(
            name: "secret-scan",
            dependencies: ["E2EE", "E2EEStore"],
            path: "Tests/SecretScan",
            exclude: ["interposer"]
        ),
        // Raw libsodium/libb2 entry points, so the bench can time the primitives we wrap.
        .target(
            name: "CBenchRaw",
            path: "Benchmarks/CBenchRaw",
            linkerSettings: [.linkedLibrary("sodium"), .linkedLibrary("b2")]
        ),
        .executableTarget(
            name: "bench",
            dependencies: ["E2EE", "E2EEStore", "CBenchRaw", "ToolSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/bench"
        ),
        // The fuzz harnesses' bodies: built here so that `swift test` replays every
        // committed corpus; fuzz/Package.swift compiles the same files with libFuzzer.
        .target(
            name: "E2EEFuzzTargets",
            dependencies: ["E2EE"],
            path: "fuzz/Targets"
        ),
        .testTarget(
            name: "E2EETests",
            dependencies: ["E2EE", "E2EEStore", "E2EEFuzzTargets", "ToolSupport"],
            path: "Tests/E2EETests"
        ),
        // The sealed SQLite store's own tests: tampered rows, crash-safe commits, many tasks.
        .testTarget(
            name: "E2EEStoreTests",
            dependencies: ["E2EE", "E2EEStore"],
            path: "Tests/E2EEStoreTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
