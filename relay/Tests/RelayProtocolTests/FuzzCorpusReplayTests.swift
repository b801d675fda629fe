import E2EE
import Foundation
import RelayFuzzChecks
import RelayProtocol
import Testing

/// Every committed input of the `relay_request` harness, replayed through the
/// harness body (RelayFuzzChecks): the seeds of `fuzz/relay_request/corpus/` and the
/// reproducers of `fuzz/relay_request/regressions/`. (The root package replays
/// the library's corpora; it cannot depend on the relay.)
@Suite("relay_request fuzz corpus")
struct FuzzCorpusReplayTests {
    /// `fuzz/relay_request/`, from this file's place in relay/Tests/RelayProtocolTests/.
    static let harnessDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/relay_request")

    static func inputs(_ folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let dir = harnessDirectory.appendingPathComponent(folder)
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { !$0.hasPrefix(".") }
            .sorted()
            .map { name in
                let url = dir.appendingPathComponent(name)
                // Foundation leaks its read buffer on an empty file; there is nothing to read anyway.
                let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
                return (name, size == 0 ? [] : Array(try Data(contentsOf: url)))
            }
    }

    @Test("every corpus input and regression passes the harness's checks")
    func replay() throws {
        let corpus = try Self.inputs("corpus")
        #expect(!corpus.isEmpty, "fuzz/relay_request/corpus is empty: run fuzz/make_corpus.sh")
        for (folder, files) in [("corpus", corpus), ("regressions", try Self.inputs("regressions"))] {
            for file in files {
                do {
                    try RelayRequestHarness.check(file.bytes)
                } catch {
                    Issue.record("fuzz/relay_request/\(folder)/\(file.name): \(error.message)")
                }
            }
        }
    }

    @Test("the seeds cover every parser with an accepted input")
    func everyKindSeeded() throws {
        var accepted = Set<RelayRequestKind>()
        for file in try Self.inputs("corpus") {
            guard let selector = file.bytes.first else { continue }
            let kind = RelayRequestKind(selector: selector)
            if Self.accepts(kind, Array(file.bytes.dropFirst())) { accepted.insert(kind) }
        }
        #expect(accepted == Set(RelayRequestKind.allCases),
                "no accepted seed for \(Set(RelayRequestKind.allCases).subtracting(accepted).map(\.name).sorted())")
    }

    static func accepts(_ kind: RelayRequestKind, _ body: [UInt8]) -> Bool {
        switch kind {
        case .frame: return (try? Frame(serialized: body)) != nil
        case .envelope: return (try? Envelope(serialized: body)) != nil
        case .address: return (try? RelayAddress(serialized: body)) != nil
        case .keyUpload: return (try? KeyUpload(serialized: body)) != nil
        case .register: return (try? RegisterRequest(serialized: body)) != nil
        case .tokenRequest: return (try? TokenRequest(serialized: body)) != nil
        case .tokenGrant: return (try? TokenGrant(serialized: body)) != nil
        case .sendRequest: return (try? SendRequest(serialized: body)) != nil
        case .sendResult: return (try? SendResult(serialized: body)) != nil
        case .deviceMismatch: return (try? DeviceMismatch(serialized: body)) != nil
        case .bundleList: return (try? BundleList(serialized: body)) != nil
        case .keyCounts: return (try? KeyCounts(serialized: body)) != nil
        }
    }
}
