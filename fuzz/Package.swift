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

let package = Package(
    name: "swift-e2ee-fuzz",
    dependencies: [
        .package(name: "swift-e2ee", path: ".."),
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
            dependencies: ["FuzzTargets"],
            path: "Tools/make_corpus"
        ),
    ] + harnesses.map { name in
        .executableTarget(name: name, dependencies: ["FuzzTargets", "FuzzMain"], path: "Harnesses/\(name)")
    },
    swiftLanguageModes: [.v6]
)
