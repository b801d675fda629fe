// swift-tools-version:6.0
// The fuzzing package: libFuzzer harnesses for swift-e2ee, kept out of the
// root package so that a plain `swift build` / `swift test` never builds them.
// Build and run everything with `bash fuzz/run.sh [SECONDS]` (see README.md).
import PackageDescription

let harnesses = [
    "bundle", "prekey_message", "pq_prekey_message", "ratchet_message", "session_record", "account_record",
    "session_set_record", "decrypt", "interaction",
    "sender_key_message", "sender_key_distribution", "group_record", "group_interaction", "group_update",
]
/// Harnesses of the relay's own bytes (relay/Sources/RelayProtocol).
let relayHarnesses = ["relay_request"]

let package = Package(
    name: "swift-e2ee-fuzz",
    // The relay's (Hummingbird 2 needs macOS 14); Linux is unaffected.
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "swift-e2ee", path: ".."),
        // Named like the root, for the same reason: a path dependency's identity
        // is otherwise its folder's name. Only RelayProtocol and RelayFuzzChecks are built.
        .package(name: "swift-e2ee-relay", path: "../relay"),
    ],
    targets: [
        // The harness bodies: the same files the root package builds as
        // E2EEFuzzTargets (replayed there by `swift test`).
        .target(
            name: "FuzzTargets",
            dependencies: [.product(name: "E2EE", package: "swift-e2ee")],
            path: "Targets"
        ),
        // `<harness>_main` for each harness: hands main() to libFuzzer's driver.
        .target(name: "FuzzMain", path: "Harnesses/FuzzMain"),
        // Writes the seed corpora (fuzz/make_corpus.sh); built without sanitizers.
        .executableTarget(
            name: "make_corpus",
            dependencies: [
                "FuzzTargets",
                .product(name: "RelayFuzzChecks", package: "swift-e2ee-relay"),
                .product(name: "RelayProtocol", package: "swift-e2ee-relay"),
            ],
            path: "Tools/make_corpus"
        ),
    ] + harnesses.map { name in
        .executableTarget(name: name, dependencies: ["FuzzTargets", "FuzzMain"], path: "Harnesses/\(name)")
    } + relayHarnesses.map { name in
        // The body is relay/Sources/RelayFuzzChecks, which the relay's tests replay the corpus through.
        .executableTarget(name: name, dependencies: [.product(name: "RelayFuzzChecks", package: "swift-e2ee-relay"), "FuzzMain"],
                          path: "Harnesses/\(name)")
    },
    swiftLanguageModes: [.v6]
)
