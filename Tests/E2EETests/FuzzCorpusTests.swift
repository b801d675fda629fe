import E2EEFuzzTargets
import Foundation
import Testing

/// Every committed fuzz input, replayed through the same harness bodies that
/// libFuzzer runs (fuzz/Targets): each seed of `fuzz/<target>/corpus/` and each
/// crash reproducer of `fuzz/<target>/regressions/` must pass every invariant.
/// A broken invariant is reported here as a failure naming the file; a trap in
/// the library still stops the test process, as it would in production.
@Suite("Fuzz corpora")
struct FuzzCorpusTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    /// The files of `fuzz/<target>/<folder>/`, sorted by name; none if the folder does not exist.
    static func inputs(_ target: FuzzTarget, _ folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let dir = fuzzDirectory.appendingPathComponent(target.rawValue).appendingPathComponent(folder)
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { !$0.hasPrefix(".") }
            .sorted()
            .map { ($0, try read(dir.appendingPathComponent($0))) }
    }

    /// A file's bytes. Empty files are not read: Foundation's `Data(contentsOf:)`
    /// leaks its 4 KB read buffer on a zero-length file (LeakSanitizer sees it).
    static func read(_ url: URL) throws -> [UInt8] {
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        return size == 0 ? [] : Array(try Data(contentsOf: url))
    }

    static func replay(_ target: FuzzTarget, _ files: [(name: String, bytes: [UInt8])], _ folder: String,
                       strict: Bool) {
        for file in files {
            do { try target.check(file.bytes, avoidingKnownIssues: !strict) } catch {
                Issue.record("fuzz/\(target.rawValue)/\(folder)/\(file.name): \(error.message)")
            }
        }
    }

    @Test("corpus replays", arguments: FuzzTarget.allCases)
    func corpus(_ target: FuzzTarget) throws {
        let files = try Self.inputs(target, "corpus")
        #expect(!files.isEmpty, "fuzz/\(target.rawValue)/corpus is empty: run fuzz/make_corpus.sh")
        Self.replay(target, files, "corpus", strict: false)
    }

    /// Reproducers of fixed bugs must pass with no allowance. Those of open
    /// bugs (`known-<slug>…`, see ``KnownIssue``) must still fail: once the
    /// library is fixed this test says so, and the `known-` prefix goes.
    @Test("regressions replay", arguments: FuzzTarget.allCases)
    func regressions(_ target: FuzzTarget) throws {
        let files = try Self.inputs(target, "regressions")
        Self.replay(target, files.filter { !$0.name.hasPrefix("known-") }, "regressions", strict: true)
        for file in files where file.name.hasPrefix("known-") {
            guard let issue = KnownIssue.all.first(where: { file.name.hasPrefix("known-\($0.slug)") }) else {
                Issue.record("fuzz/\(target.rawValue)/regressions/\(file.name) names no open KnownIssue")
                continue
            }
            withKnownIssue("\(issue.slug): \(issue.summary)") {
                try target.check(file.bytes, avoidingKnownIssues: false)
            }
        }
    }

    /// The generator's seeds are all committed, byte for byte: the corpora are
    /// reproducible, and a change to the wire or record format shows up here.
    @Test("committed corpora are the generator's output", arguments: FuzzTarget.allCases)
    func seedsAreCommitted(_ target: FuzzTarget) throws {
        let committed = Dictionary(try Self.inputs(target, "corpus").map { ($0.name, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        for seed in SeedCorpus.files(for: target) {
            #expect(committed[seed.name] == seed.bytes,
                    "fuzz/\(target.rawValue)/corpus/\(seed.name) differs from the generator: run fuzz/make_corpus.sh")
        }
    }

    /// The same for the C differential harness (replayed by fuzz/run.sh, which runs
    /// every corpus input before fuzzing).
    @Test("committed aead_diff corpus is the generator's output")
    func cSeedsAreCommitted() throws {
        let dir = Self.fuzzDirectory.appendingPathComponent("aead_diff/corpus")
        for seed in SeedCorpus.aeadDiff() {
            let committed = try? Self.read(dir.appendingPathComponent(seed.name))
            #expect(committed == seed.bytes,
                    "fuzz/aead_diff/corpus/\(seed.name) differs from the generator: run fuzz/make_corpus.sh")
        }
    }

    /// The decrypt harness's fixed session and account are the committed records.
    @Test func decryptFixtureIsTheCommittedRecord() throws {
        let dir = Self.fuzzDirectory.appendingPathComponent("decrypt")
        let session = try Self.read(dir.appendingPathComponent("session.record"))
        let account = try Self.read(dir.appendingPathComponent("account.record"))
        #expect(DecryptFixture.built.sessionRecord == session)
        #expect(DecryptFixture.built.accountRecord == account)
    }
}
