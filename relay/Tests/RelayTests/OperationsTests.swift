import E2EE
import E2EERelayClient
import Foundation
import Logging
import RelayServer
import RelayStorage
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Health, readiness, metrics, the drain on SIGTERM, configuration from the environment.
@Suite(.timeLimit(.minutes(2)))
struct OperationsTests {
    /// `/health` and `/ready` answer 200 on a serving relay; the metrics have
    /// every series, and the counters and gauges move with the traffic.
    @Test(arguments: Backend.available) func healthReadyAndMetricsThatMove(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        // One send per second (burst 2): the third quick send is rate limited.
        let relay = try await RelayProcess(database: db, arguments: ["--send-rate", "1"])
        #expect(try await http("GET", relay, "/health").status == 200)
        let ready = try await http("GET", relay, "/ready")
        #expect(ready.status == 200)
        #expect(String(decoding: ready.body, as: UTF8.self) == "ready")

        let before = try await scrape(relay)
        for name in ["relay_queue_depth", "relay_prekey_pool{kind=\"one_time\"}", "relay_prekey_pool{kind=\"one_time_kem\"}",
                     "relay_messages_queued_total", "relay_messages_delivered_total", "relay_acks_total",
                     "relay_rate_limited_total{route=\"messages\"}", "relay_rate_limited_total{route=\"keys\"}",
                     "relay_connected_devices", "relay_deliveries_unacked"] {
            #expect(before[name] != nil, "\(name) missing from /metrics")
        }
        #expect(before["relay_queue_depth"] == 0)

        let alice = try await Peer("ops-alice", relay: relay, oneTimeKeys: 4)
        let bob = try await Peer("ops-bob", relay: relay, oneTimeKeys: 4)
        let pools = try await scrape(relay)
        #expect(pools["relay_prekey_pool{kind=\"one_time\"}"] == 8)
        #expect(pools["relay_prekey_pool{kind=\"one_time_kem\"}"] == 8)

        // The first send claims one of Bob's prekeys of each pool; the burst of 2 ends in a 429.
        var delivered = [String]()
        for i in 0..<10 {
            let status = await failureStatus { try await alice.client.send(Array("message \(i)".utf8), to: "ops-bob") }
            if status == 429 { break }
            #expect(status == nil)
            delivered.append("message \(i)")
        }
        #expect(delivered.count >= 2 && delivered.count < 10)
        let queued = try await scrape(relay)
        #expect(queued["relay_queue_depth"] == Double(delivered.count))
        #expect(queued["relay_messages_queued_total"] == Double(delivered.count))
        #expect(queued["relay_rate_limited_total{route=\"messages\"}"] == 1)
        #expect(queued["relay_prekey_pool{kind=\"one_time\"}"] == 7)
        #expect(queued["relay_prekey_pool{kind=\"one_time_kem\"}"] == 7)

        #expect(Peer.texts(try await bob.drain(idle: .milliseconds(300))) == delivered)
        let after = try await scrape(relay)
        #expect(after["relay_messages_delivered_total"] == Double(delivered.count))
        #expect(after["relay_acks_total"] == Double(delivered.count))
        #expect(after["relay_queue_depth"] == 0)
        #expect(after["relay_deliveries_unacked"] == 0)
        #expect(try await relay.stop(within: 10) == 0)
    }

    /// Readiness asks the store: a closed store is not ready, and the probe
    /// does not hang.
    @Test func readinessFollowsTheStore() async throws {
        let db = temporaryDatabase()
        defer { removeDatabase(db) }
        let store = try SQLiteRelayStore(path: db)
        let service = RelayService(store: store, logger: Logger(label: "ready-test"))
        #expect(await service.isReady())
        store.close()
        #expect(await service.isReady() == false)
    }

    /// SIGTERM while a device is receiving and another sending: readiness
    /// fails at once, the envelopes already out are acked before the
    /// connection closes, the process exits 0, and after a restart the rest
    /// arrives: every accepted message once, none lost, none redelivered.
    @Test(arguments: Backend.available) func sigtermDrainsDeliveriesAndLosesNothing(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("drain-alice", relay: relay), bob = try await Peer("drain-bob", relay: relay)
        let accepted = Collector<String>(), attempted = Collector<String>()
        for i in 0..<100 {
            try await alice.client.send(Array("before \(i)".utf8), to: "drain-bob")
            accepted.append("before \(i)")
            attempted.append("before \(i)")
        }
        // Alice goes on sending until the relay stops answering.
        let sender = Task {
            for i in 0..<100_000 {
                let text = "during \(i)"
                attempted.append(text)
                do {
                    try await alice.client.send(Array(text.utf8), to: "drain-bob")
                    accepted.append(text)
                } catch {
                    return
                }
            }
        }

        let firstRun = Collector<Delivery>()
        let readyDuringDrain = Collector<Int>()
        let port = relay.port
        let pid = relay.process.processIdentifier
        let end = try await withTimeout(60, "receiving through the shutdown") {
            try await bob.client.receive(until: .closed) { delivery in
                firstRun.append(delivery)
                try? await Task.sleep(for: .milliseconds(2))
                if firstRun.count == 150 {
                    kill(pid, SIGTERM)
                    // The listener still answers during the drain: not ready.
                    try? await Task.sleep(for: .milliseconds(100))
                    readyDuringDrain.append((try? await rawStatus(port: port, "/ready")) ?? -1)
                }
            }
        }
        await sender.value
        #expect(end == .closed)
        #expect(readyDuringDrain.items == [503])
        #expect(try await relay.stop(within: 15) == 0)
        #expect(firstRun.count >= 150)

        let restarted = try await RelayProcess(database: db)
        let secondRun = try await bob.drain(client: try bob.reconnected(to: restarted))
        let texts = Peer.texts(firstRun.items) + Peer.texts(secondRun)
        #expect(Set(texts).count == texts.count)                    // none applied twice
        #expect(Set(accepted.items).isSubset(of: Set(texts)))       // none accepted was lost
        #expect(Set(texts).isSubset(of: Set(attempted.items)))
        // Queued during the drain, delivered only after the restart.
        #expect(!Peer.texts(secondRun).isEmpty)
        // Drained, not cut: nothing delivered before the shutdown came again.
        let again = secondRun.filter { if case .duplicate = $0.outcome { true } else { false } }
        #expect(again.isEmpty, "\(again.count) envelopes came again after the restart")
        #expect(try await restarted.stop(within: 10) == 0)
    }

    /// `serve` configured by the environment alone; a flag wins over its variable.
    @Test func configurationFromTheEnvironment() async throws {
        let db = temporaryDatabase()
        defer { removeDatabase(db) }
        let (process, port) = try await launch(["serve", "--host", "127.0.0.1"],
                                               environment: ["E2EE_RELAY_DB": db, "E2EE_RELAY_PORT": "0",
                                                             "E2EE_RELAY_HOST": "192.0.2.1"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(try await rawStatus(port: port, "/ready") == 200)
        #expect(FileManager.default.fileExists(atPath: db))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    /// Plain HTTP on a non-loopback address is refused before anything is bound.
    @Test func plaintextOffLoopbackIsRefused() async throws {
        let process = Process()
        process.executableURL = try relayExecutable()
        process.arguments = ["serve", "--db", temporaryDatabase(), "--port", "0", "--host", "0.0.0.0"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = Pipe()
        try process.run()
        let said = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(said.contains("--insecure-allow-plaintext"))
    }

    @Test func argumentsAndEnvironment() throws {
        let env = ["E2EE_RELAY_DB": "env.sqlite", "E2EE_RELAY_PORT": "9000", "E2EE_RELAY_SEND_RATE": "7",
                   "E2EE_RELAY_TLS_CERT": "c.pem", "E2EE_RELAY_TLS_KEY": "k.pem"]
        guard case .serve(let c) = try RelayCommand.parse(["serve", "--port", "8080"], environment: env) else {
            Issue.record("not serve")
            return
        }
        #expect(c.databasePath == "env.sqlite")
        #expect(c.port == 8080)   // the flag wins
        #expect(c.limits.sendPerSender.perSecond == 7)
        #expect(c.tls == RelayTLSFiles(certificatePath: "c.pem", keyPath: "k.pem"))
        #expect(RelayCommand.environmentName(of: "--insecure-allow-plaintext") == "E2EE_RELAY_INSECURE_ALLOW_PLAINTEXT")

        #expect(throws: RelayArgumentError.plaintextNotLoopback(host: "10.1.2.3")) {
            try RelayCommand.parse(["serve", "--db", "x", "--port", "1", "--host", "10.1.2.3"])
        }
        #expect(throws: RelayArgumentError.plaintextNotLoopback(host: "::")) {
            try RelayCommand.parse(["serve", "--db", "x", "--port", "1"], environment: ["E2EE_RELAY_HOST": "::"])
        }
        let forced = try RelayCommand.parse(["serve", "--db", "x", "--port", "1", "--host", "10.1.2.3",
                                             "--insecure-allow-plaintext"])
        #expect(forced == .serve(RelayConfiguration(host: "10.1.2.3", port: 1, databasePath: "x")))
        let forcedByEnv = try RelayCommand.parse(["serve", "--db", "x", "--port", "1", "--host", "10.1.2.3"],
                                                 environment: ["E2EE_RELAY_INSECURE_ALLOW_PLAINTEXT": "1"])
        #expect(forcedByEnv == forced)
        let withTLS = try RelayCommand.parse(["serve", "--db", "x", "--port", "1", "--host", "0.0.0.0",
                                              "--tls-cert", "c", "--tls-key", "k"])
        #expect(withTLS == .serve(RelayConfiguration(host: "0.0.0.0", port: 1, databasePath: "x",
                                                     tls: RelayTLSFiles(certificatePath: "c", keyPath: "k"))))
        #expect(throws: RelayArgumentError.missingOption("--tls-key")) {
            try RelayCommand.parse(["serve", "--db", "x", "--port", "1", "--tls-cert", "c"])
        }
        #expect(throws: RelayArgumentError.badValue(option: "E2EE_RELAY_INSECURE_ALLOW_PLAINTEXT", value: "maybe")) {
            try RelayCommand.parse(["serve", "--db", "x", "--port", "1"], environment: ["E2EE_RELAY_INSECURE_ALLOW_PLAINTEXT": "maybe"])
        }
        for loopback in ["127.0.0.1", "127.1.2.3", "::1", "localhost"] { #expect(RelayCommand.isLoopback(loopback)) }
        for other in ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.0.0", "localhost.example"] {
            #expect(!RelayCommand.isLoopback(other))
        }
        #expect(RelayCommand.usage.contains("E2EE_RELAY_DB"))
    }
}

/// The Prometheus text of `/metrics`, as series name (with labels) → value.
func scrape(_ relay: RelayProcess) async throws -> [String: Double] {
    let (status, body) = try await http("GET", relay, "/metrics")
    #expect(status == 200)
    var series = [String: Double]()
    for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        series[String(line[..<space])] = value
    }
    return series
}

/// The status of a GET on a fresh connection to 127.0.0.1:`port`.
func rawStatus(port: Int, _ path: String) async throws -> Int {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.timeoutInterval = 5
    let configuration = URLSessionConfiguration.ephemeral
    let session = URLSession(configuration: configuration)
    let (_, response) = try await session.data(for: request)
    return (response as? HTTPURLResponse)?.statusCode ?? -1
}

/// Starts `e2ee-relay` with `arguments` and `environment` (added to none of
/// this process's own); returns it with the port it reported.
func launch(_ arguments: [String], environment: [String: String]) async throws -> (Process, Int) {
    let process = Process()
    process.executableURL = try relayExecutable()
    process.arguments = arguments
    process.environment = environment
    let stdout = Pipe()
    process.standardOutput = stdout
    try process.run()
    let handle = stdout.fileHandleForReading
    let line = try await withTimeout(20, "the 'listening on' line") {
        // The first line is the listening line; read byte by byte up to it.
        var bytes = [UInt8]()
        while true {
            let chunk = handle.readData(ofLength: 1)
            guard let byte = chunk.first else { return String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
    guard line.hasPrefix("listening on 127.0.0.1:"), let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
        kill(process.processIdentifier, SIGKILL)
        throw HarnessError.badListeningLine(line)
    }
    return (process, port)
}
