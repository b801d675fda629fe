import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import RelayProtocol
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

enum HarnessError: Error, CustomStringConvertible {
    case executableNotFound(searched: [String])
    case timedOut(String)
    case exitedEarly(status: Int32)
    case badListeningLine(String)

    var description: String {
        switch self {
        case .executableNotFound(let dirs):
            "e2ee-relay not found (set E2EE_RELAY_BIN, or build it first); searched: \(dirs.joined(separator: ", "))"
        case .timedOut(let what): "timed out: \(what)"
        case .exitedEarly(let status): "e2ee-relay exited early with status \(status)"
        case .badListeningLine(let line): "cannot read a port from '\(line)'"
        }
    }
}

/// The built `e2ee-relay`: $E2EE_RELAY_BIN, else next to the test binary, which
/// SwiftPM puts in the same products directory (.build/<triple>/debug/).
func relayExecutable() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["E2EE_RELAY_BIN"], !path.isEmpty {
        return URL(fileURLWithPath: path)
    }
    var directories: [URL] = []
    #if os(Linux)
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    #endif
    // On macOS the tests run inside a .xctest bundle, itself in the products directory.
    for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
        directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    if let argv0 = CommandLine.arguments.first {
        directories.append(URL(fileURLWithPath: argv0).deletingLastPathComponent())
    }
    for directory in directories {
        let candidate = directory.appendingPathComponent("e2ee-relay")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw HarnessError.executableNotFound(searched: directories.map(\.path))
}

/// Runs `body`, failing with `.timedOut(what)` if it takes longer than `seconds`.
func withTimeout<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw HarnessError.timedOut(what)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw HarnessError.timedOut(what) }
        return first
    }
}

/// A running `e2ee-relay serve` on 127.0.0.1 with an ephemeral port.
final class RelayProcess: Sendable {
    let process: Process
    let port: Int

    /// `log`: a file for the server's stderr (its logs); by default they are
    /// inherited, so a failing run shows the server's side.
    init(database: String, arguments: [String] = [], log: String? = nil) async throws {
        let process = Process()
        process.executableURL = try relayExecutable()
        // A postgres:// URL (see temporaryDatabase(_:)) runs the PostgreSQL backend.
        let store = database.hasPrefix("postgres://") ? ["--postgres", database] : ["--db", database]
        process.arguments = ["serve"] + store + ["--port", "0", "--host", "127.0.0.1"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        if let log {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        }

        let (chunks, sink) = AsyncStream<Data>.makeStream()
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                sink.finish()
            } else {
                sink.yield(data)
            }
        }
        try process.run()

        do {
            let line = try await withTimeout(20, "the 'listening on' line") {
                var pending = Data()
                for await chunk in chunks {
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[..<newline], as: UTF8.self)
                        pending = Data(pending[(newline + 1)...])
                        if line.hasPrefix("listening on ") { return line }
                    }
                }
                return ""  // stdout closed: the process is gone
            }
            if line.isEmpty {
                process.waitUntilExit()
                throw HarnessError.exitedEarly(status: process.terminationStatus)
            }
            guard line.hasPrefix("listening on 127.0.0.1:"), let port = line.split(separator: ":").last.flatMap({ Int($0) })
            else { throw HarnessError.badListeningLine(line) }
            self.port = port
            self.process = process
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw error
        }
    }

    /// Sends a signal and returns the exit status, or nil if it is still running after `seconds`.
    func stop(signal: Int32 = SIGTERM, within seconds: Double) async throws -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    deinit {
        // A failed test must not leave a server behind.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ProcessTests {
    @Test func healthWebSocketRefusalMetricsAndGracefulShutdown() async throws {
        let database = FileManager.default.temporaryDirectory
            .appendingPathComponent("relay-test-\(UUID().uuidString).sqlite").path
        let relay = try await RelayProcess(database: database)

        // GET /health over URLSession (FoundationNetworking on Linux).
        let url = try #require(URL(string: "http://127.0.0.1:\(relay.port)/health"))
        let (body, response) = try await withTimeout(10, "GET /health") {
            try await URLSession.shared.data(from: url)
        }
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self) == "ok")

        // /v1/ws opens with a challenge; a wrong answer gets a 401 error frame, nothing else.
        let (frames, frameSink) = AsyncStream<[UInt8]>.makeStream()
        let port = relay.port
        _ = try await withTimeout(10, "WebSocket refusal") {
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/v1/ws",
                logger: Logger(label: "relay-test-ws")
            ) { inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    guard case .binary(let buffer) = message else { continue }
                    let bytes = Array(buffer.readableBytesView)
                    frameSink.yield(bytes)
                    if bytes.first == 1 {
                        let stranger = try RelayAddress(userID: "nobody", deviceID: 1)
                        let auth = Frame.auth(address: stranger, signature: [UInt8](repeating: 7, count: 64))
                        try await outbound.write(.binary(ByteBuffer(bytes: auth.serialized)))
                    }
                }
                frameSink.finish()
            }
        }
        var received: [Frame] = []
        for await bytes in frames { received.append(try Frame(serialized: bytes)) }
        #expect(received.count == 2)
        if case .challenge? = received.first {} else { Issue.record("no challenge first: \(received)") }
        #expect(received.last == .error(code: 401, reason: "authentication failed"))

        // Prometheus text on /metrics.
        let metricsURL = try #require(URL(string: "http://127.0.0.1:\(relay.port)/metrics"))
        let (metrics, _) = try await URLSession.shared.data(from: metricsURL)
        #expect(String(decoding: metrics, as: UTF8.self).contains("# TYPE relay_connected_devices gauge"))

        // SIGTERM: graceful shutdown, exit status 0, within 5 s.
        let status = try await relay.stop(within: 5)
        #expect(status == 0)
    }

    @Test func badArgumentsExitWithStatus2() async throws {
        let process = Process()
        process.executableURL = try relayExecutable()
        process.arguments = ["serve", "--port", "http"]
        process.standardError = Pipe()  // the usage line; not shown in the test output
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 2)
    }
}
