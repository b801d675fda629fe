import E2EE
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

    /// What the seeds must be, stated here rather than by the generator, so that
    /// a generator writing the wrong bytes fails: every seed of a parser or record
    /// target is well formed (it parses and writes back the same bytes, or loads)
    /// unless its name says how it must fail (`malformed-` bundles, `truncated-`
    /// messages), and the fields its name states are the fields it holds
    /// (bundles: `opkN`/`no-opk` one-time prekey, `kemN` KEM prekey, `classical`
    /// none, `bad-` a signature that does not verify; messages: `opkN`, `kemN`,
    /// `-opk2-N` plaintext size, `ratchet-N` plaintext size, the type by corpus;
    /// `-itN` iteration, `-rN` revision).
    @Test("committed seeds are what their names say", arguments: FuzzTarget.allCases)
    func seedsMatchTheirNames(_ target: FuzzTarget) throws {
        func number(after marker: String, in name: String) -> UInt32? {
            guard let r = name.range(of: marker) else { return nil }
            return UInt32(name[r.upperBound...].prefix { $0.isNumber })
        }
        // How each malformed bundle must be refused.
        let malformedBundles: [String: (WireError) -> Bool] = [
            "malformed-kem-coefficient-q": { $0 == .invalidKey(field: "KEM") },
            "malformed-kem-all-ff": { $0 == .invalidKey(field: "KEM") },
            "malformed-kem-flag-without-part": { if case .truncated = $0 { true } else { false } },
            "malformed-kem-truncated": { if case .truncated = $0 { true } else { false } },
            "malformed-kem-part-without-flag": { $0 == .trailingBytes(count: MLKEM.publicKeyByteCount + 68) },
            // The one-time prekey's flag cleared: the KEM id and key are read 36 bytes early.
            "malformed-opk-flag-cleared-kem": { $0 == .invalidKey(field: "KEM") || $0 == .trailingBytes(count: 36) },
            "malformed-flag-bit-2": { $0 == .invalidFlags(0x06) },
        ]
        for (name, bytes) in try Self.inputs(target, "corpus") {
            let where_ = "fuzz/\(target.rawValue)/corpus/\(name)"
            switch target {
            case .bundle:
                if name.hasPrefix("malformed-") {
                    guard let expected = malformedBundles[name] else {
                        Issue.record("\(where_): no expectation for this malformed bundle")
                        continue
                    }
                    #expect(throws: WireError.self, "\(where_)") { try PreKeyBundle(serialized: bytes) }
                    do { _ = try PreKeyBundle(serialized: bytes) } catch {
                        #expect(expected(error), "\(where_): refused with \(error)")
                    }
                    continue
                }
                let b = try PreKeyBundle(serialized: bytes)
                #expect(b.serialized == bytes, "\(where_)")
                #expect(b.kemPreKey?.id.rawValue == number(after: "kem", in: name), "\(where_): KEM part")
                #expect((b.kemPreKey == nil) == name.hasPrefix("classical-"), "\(where_): classical")
                #expect(b.oneTimePreKey?.id.rawValue == number(after: "-opk", in: "-" + name), "\(where_): one-time prekey")
                #expect(name.contains("no-opk") || name.contains("opk"), "\(where_): the name states the one-time prekey")
                #expect(b.verifySignatures() == !name.contains("bad-"), "\(where_): signature")
            case .prekeyMessage, .pqPreKeyMessage, .ratchetMessage:
                if name.hasPrefix("truncated-") {
                    do { _ = try WireMessage(serialized: bytes); Issue.record("\(where_): parses") } catch {
                        if case .truncated = error {} else { Issue.record("\(where_): refused with \(error), not truncated") }
                    }
                    continue
                }
                let m = try WireMessage(serialized: bytes)
                #expect(m.serialized == bytes, "\(where_)")
                switch m {
                case .preKey(let p):
                    #expect(target != .ratchetMessage, "\(where_): a PreKeyMessage")
                    #expect(p.isPostQuantum == (target == .pqPreKeyMessage), "\(where_): type \(bytes[1]) in this corpus")
                    if let opk = number(after: "-opk", in: name) { #expect(p.oneTimePreKeyID?.rawValue == opk, "\(where_)") }
                    if let kem = number(after: "-kem", in: name) { #expect(p.kem?.id.rawValue == kem, "\(where_): KEM id") }
                    // N is the plaintext's length: prefix 74 (+ KEM id and CT), header 40, guard 4, tag 16.
                    let prefix = p.isPostQuantum ? 74 + 4 + MLKEM.ciphertextByteCount : 74
                    if name.hasPrefix("prekey-opk2-") || name.hasPrefix("pq-opk2-kem3-"),
                       let n = number(after: name.hasPrefix("pq-") ? "-kem3-" : "-opk2-", in: name) {
                        #expect(bytes.count == prefix + 40 + 4 + Int(n) + 16, "\(where_): size")
                    }
                    if name.contains("no-opk") { #expect(p.oneTimePreKeyID == nil, "\(where_)") }
                    // PQ seeds: `pq-` ones are first messages Bob's fixed account accepts,
                    // `refused-` ones are refused for the reason their name gives, changing nothing.
                    if target == .pqPreKeyMessage, name.hasPrefix("pq-") || name.hasPrefix("refused-") {
                        var account = Fixtures.bobAccount
                        let result = Result { () throws(SessionSetupError) in
                            try account.acceptSession(from: p, random: DeterministicRandom(seed: "seed check"))
                        }
                        if name.hasPrefix("pq-") {
                            #expect(throws: Never.self, "\(where_)") { try result.get() }
                        } else {
                            let expected: SessionSetupError = name.contains("unknown-kem")
                                ? .unknownKEMPreKey(p.kem!.id) : .firstMessageRejected(.authenticationFailure)
                            #expect(throws: expected, "\(where_)") { try result.get() }
                            #expect(account.serialized() == Fixtures.bobAccountRecord, "\(where_): account changed")
                        }
                    }
                case .ratchet:
                    #expect(target == .ratchetMessage, "\(where_): a RatchetMessage")
                    if name.hasPrefix("ratchet-"), let n = number(after: "ratchet-", in: name) {
                        #expect(bytes.count == 2 + 40 + 4 + Int(n) + 16, "\(where_): size")
                    }
                case .senderKey, .senderKeyDistribution, .groupUpdate:
                    Issue.record("\(where_): a group message kind in a pairwise corpus")
                }
            case .senderKeyMessage:
                let m = try SenderKeyMessage(serialized: bytes)
                #expect(m.serialized == bytes, "\(where_)")
                if let it = number(after: "-it", in: name) { #expect(m.iteration == it, "\(where_): iteration") }
            case .senderKeyDistribution:
                #expect(try SenderKeyDistribution(serialized: bytes).serialized == bytes, "\(where_)")
            case .groupUpdate:
                let u = try GroupUpdate(serialized: bytes)
                #expect(u.serialized == bytes, "\(where_)")
                if let r = number(after: "-r", in: name) { #expect(u.revision == r, "\(where_): revision") }
                if name == "max-revision" { #expect(u.revision == UInt32.max, "\(where_)") }
                if name.hasPrefix("forty-members") { #expect(u.members.count >= 40, "\(where_)") }
            case .sessionRecord:
                #expect(try Session(serialized: bytes).serialized() == bytes, "\(where_)")
            case .accountRecord:
                let account = try Account(serialized: bytes)
                // A record from before PQXDH loads (as an account without KEM prekeys) and is written with a KEM section.
                #expect((account.serialized() == bytes) == !name.hasPrefix("legacy-"), "\(where_)")
                #expect(account.lastResortKEMPreKeys.isEmpty == name.hasPrefix("legacy-"), "\(where_): KEM prekeys")
            case .sessionSetRecord:
                #expect(try SessionSet(serialized: bytes).serialized() == bytes, "\(where_)")
            case .groupRecord:
                let g = try GroupSession(serialized: bytes)
                #expect(g.serialized() == bytes, "\(where_)")
                #expect(g.isMember == !name.contains("tombstone"), "\(where_): membership")
            case .decrypt, .interaction, .groupInteraction:
                break   // scripts of actions, checked by their replay
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

    /// The PQXDH sessions the fixtures start from are the committed captures
    /// (`fuzz/Targets/PQCaptures.swift`): without them the corpora above could
    /// not be reproduced (ML-KEM encapsulation draws from the system RNG).
    @Test("PQXDH captures are committed")
    func pqCapturesAreCommitted() {
        #expect(PQCapture.stale.isEmpty, "PQXDH captures missing or stale: \(PQCapture.stale); run fuzz/make_corpus.sh")
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
