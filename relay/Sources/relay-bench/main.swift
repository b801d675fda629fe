import E2EE
import E2EERelayClient
import Foundation
import RelayProtocol
import Synchronization

// relay-bench: N devices on loopback send opaque messages to each other
// through real e2ee-relay nodes (SQLite, or PostgreSQL shared by one or more
// nodes; the store commits every message durably) at a paced rate,
// and receive them over their WebSockets, acking each. Reports delivered
// messages/s and the latency from the send call to the receiver's ack.
// The payloads are random bytes, not library messages: this measures the
// relay, whose cost does not depend on what it cannot read.

signal(SIGPIPE, SIG_IGN)

struct Options {
    var clients = 50
    var seconds = 10.0
    var rate = 5000.0
    var size = 200
    var server: String?
    var json: String?
    var http = false
    /// Devices that only hold their WebSocket open (memory per connected device).
    var devices = 0
    var relayPID: Int32?
    /// PostgreSQL instead of SQLite: each run gets a schema of its own.
    var postgres: String?
    /// Relay nodes started on the one PostgreSQL database; devices are spread over them.
    var nodes = 1

    static let usage = """
        usage: relay-bench [--clients N] [--seconds S] [--rate MSGS_PER_S] [--size BYTES] [--server URL] [--json FILE] [--http]
                           [--devices N] [--relay-pid PID] [--postgres URL [--nodes N]]
          Devices send over their open WebSockets ('send' frames); --http sends each message as a PUT instead.
          --devices N connects N more devices that only hold their WebSocket open, and reports the
          relay's resident memory (VmRSS) before and after they connect; --relay-pid names the relay
          process when --server is given (else the one started is measured).
          Without --server, starts e2ee-relay (beside this executable) on a temporary SQLite file, or with
          --postgres on a new schema of that database, as --nodes processes (default 1); device i uses
          node i mod N, so a message from one device to the next crosses nodes (LISTEN/NOTIFY).
          --rate 0 sends as fast as each device can (one request in flight per device).
        """

    init(_ arguments: [String]) {
        var rest = arguments[...]
        func value(_ option: String) -> String {
            guard let v = rest.popFirst() else { fail(2, "\(option) needs a value\n\(Self.usage)") }
            return v
        }
        while let option = rest.popFirst() {
            switch option {
            case "--clients": clients = Int(value(option)) ?? 0
            case "--seconds": seconds = Double(value(option)) ?? 0
            case "--rate": rate = Double(value(option)) ?? -1
            case "--size": size = Int(value(option)) ?? 0
            case "--server": server = value(option)
            case "--json": json = value(option)
            case "--http": http = true
            case "--devices": devices = Int(value(option)) ?? -1
            case "--relay-pid": relayPID = Int32(value(option)) ?? -1
            case "--postgres": postgres = value(option)
            case "--nodes": nodes = Int(value(option)) ?? 0
            case "-h", "--help": print(Self.usage); exit(0)
            default: fail(2, "unknown option \(option)\n\(Self.usage)")
            }
        }
        guard clients >= 2, clients <= 2000, devices >= 0, devices <= 100_000, (relayPID ?? 1) > 0, seconds > 0, rate >= 0, size >= 16, size <= Envelope.maxMessageBytes,
              nodes >= 1, nodes <= 8, nodes == 1 || (postgres != nil && server == nil) else {
            fail(2, Self.usage)
        }
    }
}

func fail(_ status: Int32, _ text: String) -> Never {
    FileHandle.standardError.write(Data((text + "\n").utf8))
    exit(status)
}

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Starts `e2ee-relay serve` on `store` (`--db PATH` or `--postgres URL`); returns the process and its URL.
func startRelay(_ store: [String]) throws -> (Process, URL) {
    let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let relay = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("e2ee-relay")
    let process = Process()
    process.executableURL = relay
    process.arguments = ["serve"] + store + ["--port", "0", "--send-rate", "1000000", "--fetch-limit", "1000000"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { fail(1, "e2ee-relay did not start") }
        line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self).split(separator: "\n")[0]
    guard text.hasPrefix("listening on "), let url = URL(string: "http://" + text.dropFirst("listening on ".count)) else {
        fail(1, "unexpected first line from e2ee-relay: \(text)")
    }
    return (process, url)
}

final class Results: Sendable {
    let connections = Mutex<[Int: RelayConnection]>([:])
    let latencies = Mutex<[UInt64]>([])
    let received = Atomic<Int>(0)
    let sent = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    /// Messages sent from this moment on count (after the warm-up).
    let measureFrom = Atomic<UInt64>(.max)
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
// One descriptor per connection on both ends: raise the soft limit to the hard
// one before the relay is started, which inherits it.
var limit = rlimit()
if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
if options.devices + options.clients > Int(limit.rlim_cur) - 500 {
    fail(1, "open-file limit \(limit.rlim_cur) is too low for \(options.devices + options.clients) connections (raise ulimit -n)")
}
var relayProcesses = [Process]()
var databasePath: String?
var started = [URL]()
if let given = options.server {
    guard let url = URL(string: given) else { fail(2, "bad --server") }
    started = [url]
} else if let postgres = options.postgres {
    let schema = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let url = postgres + (postgres.contains("?") ? "&" : "?") + "schema=\(schema)"
    for _ in 0..<options.nodes {
        let (process, server) = try startRelay(["--postgres", url])
        relayProcesses.append(process)
        started.append(server)
    }
} else {
    let db = FileManager.default.temporaryDirectory.appendingPathComponent("relay-bench-\(UUID().uuidString).sqlite").path
    let (process, server) = try startRelay(["--db", db])
    relayProcesses = [process]
    databasePath = db
    started = [server]
}
let servers = started
let backend = options.postgres != nil ? "PostgreSQL, \(options.nodes) node\(options.nodes == 1 ? "" : "s")"
    : options.server != nil ? "relay at \(servers[0])" : "SQLite, 1 node"

// Devices with small prekey pools: the bench is about the mailbox.
let measuredPIDs = options.relayPID.map { [$0] } ?? relayProcesses.map(\.processIdentifier)
let policy = PreKeyPolicy(minimumOneTimePreKeys: 0, targetOneTimePreKeys: 1, minimumOneTimeKEMPreKeys: 0, targetOneTimeKEMPreKeys: 1)

/// A registered device named `user`, on the `index`th device's node.
func makeDevice(_ user: String, index: Int) async throws -> RelayClient {
    let server = servers[index % servers.count]
    let store = MemoryStore()
    var changes = StoreChanges()
    changes.account = Account(identity: IdentityKey.PrivateKey(), createdAt: SessionManager.systemClock())
    try store.commit(changes)
    let manager = try SessionManager(store: store, localAddress: ProtocolAddress(userID: user, deviceID: 1))
    let client = try RelayClient(server: server, manager: manager)
    try await client.register(policy: policy)
    return client
}

var clients = [RelayClient]()
for i in 0..<options.clients {
    clients.append(try await makeDevice("bench\(i)", index: i))
}

/// The relay nodes' resident set in bytes (`VmRSS` of /proc/PID/status, summed); nil if unknown.
func relayRSS(_ pids: [Int32]) -> Int? {
    guard !pids.isEmpty else { return nil }
    var total = 0
    for pid in pids {
        guard let rss = relayRSS(pid) else { return nil }
        total += rss
    }
    return total
}

func relayRSS(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kib * 1024
}

let results = Results()
let (readyStream, readySink) = AsyncStream.makeStream(of: Void.self)
var receivers = [Task<Void, Never>]()
for (i, client) in clients.enumerated() {
    receivers.append(Task {
        do {
            let ready: @Sendable (RelayConnection) async -> Void = { connection in
                results.connections.withLock { $0[i] = connection }
                readySink.yield()
            }
            try await client.receiveEnvelopes(until: .closed, onReady: ready) { envelope in
                let body = envelope.ciphertext
                var sentAt: UInt64 = 0
                for b in body[0..<8] { sentAt = sentAt << 8 | UInt64(b) }
                if sentAt >= results.measureFrom.load(ordering: .relaxed) {
                    let latency = now() &- sentAt
                    results.latencies.withLock { $0.append(latency) }
                    results.received.wrappingAdd(1, ordering: .relaxed)
                }
                return true
            }
        } catch {
            results.failures.wrappingAdd(1, ordering: .relaxed)
        }
    })
}
var ready = 0
for await _ in readyStream {
    ready += 1
    if ready == clients.count { break }
}

// Idle devices: registered (in parallel, 32 at a time), then connected in waves
// (so the listen backlog never overflows), the relay's RSS read around the connecting.
var idleSummary: [String: Any] = [:]
var idleTasks = [Task<Void, Never>]()
if options.devices > 0 {
    let registrationStart = now()
    var idle = [RelayClient]()
    idle.reserveCapacity(options.devices)
    var next = 0
    while next < options.devices {
        let wave = next..<min(options.devices, next + 32)
        idle += try await withThrowingTaskGroup(of: RelayClient.self) { group in
            for i in wave { group.addTask { try await makeDevice("idle\(i)", index: i) } }
            var made = [RelayClient]()
            for try await client in group { made.append(client) }
            return made
        }
        next = wave.upperBound
    }
    let registrationSeconds = Double(now() - registrationStart) / 1e9
    // Settle, so the registrations' transient allocations are not counted as connections.
    try await Task.sleep(for: .seconds(2))
    let before = relayRSS(measuredPIDs)
    let connectStart = now()
    let (idleReady, idleReadySink) = AsyncStream.makeStream(of: Void.self)
    let idleFailures = Atomic<Int>(0)
    var connected = 0
    var started = 0
    for wave in stride(from: 0, to: idle.count, by: 250) {
        for client in idle[wave..<min(idle.count, wave + 250)] {
            started += 1
            idleTasks.append(Task {
                do {
                    try await client.receiveEnvelopes(until: .closed, onReady: { _ in idleReadySink.yield() }) { _ in true }
                } catch {
                    idleFailures.wrappingAdd(1, ordering: .relaxed)
                    idleReadySink.yield()
                }
            })
        }
        for await _ in idleReady {
            connected += 1
            if connected == started { break }
        }
    }
    let connectSeconds = Double(now() - connectStart) / 1e9
    try await Task.sleep(for: .seconds(2))
    let after = relayRSS(measuredPIDs)
    let failed = idleFailures.load(ordering: .relaxed)
    var line = String(format: "relay-bench: %d idle devices registered in %.1f s, connected in %.1f s (%d failed)",
                      options.devices, registrationSeconds, connectSeconds, failed)
    if let before, let after {
        let perDevice = Double(after - before) / Double(options.devices - failed)
        line += String(format: "; relay RSS %.1f MiB before, %.1f MiB with them connected: %.1f KiB per connected device",
                       Double(before) / 1048576, Double(after) / 1048576, perDevice / 1024)
        idleSummary = ["idle_devices": options.devices, "idle_failed": failed, "rss_before_bytes": before,
                       "rss_connected_bytes": after, "rss_per_device_bytes": perDevice,
                       "register_seconds": registrationSeconds, "connect_seconds": connectSeconds]
    } else {
        line += "; relay RSS unknown (give --relay-pid)"
    }
    print(line)
    if failed > 0 { results.failures.wrappingAdd(failed, ordering: .relaxed) }
}

let warmup: UInt64 = 1_000_000_000
let duration = UInt64(options.seconds * 1e9)
let start = now()
let stopAt = start + warmup + duration
results.measureFrom.store(start + warmup, ordering: .relaxed)
let perClientInterval = options.rate > 0 ? Double(options.clients) / options.rate * 1e9 : 0

await withTaskGroup(of: Void.self) { group in
    for (i, client) in clients.enumerated() {
        group.addTask {
            let target = "bench\((i + 1) % options.clients)"
            let connection = options.http ? nil : results.connections.withLock { $0[i] }
            var filler = [UInt8](repeating: 0, count: options.size)
            for j in 16..<filler.count { filler[j] = UInt8.random(in: 0...255) }
            // Offsets spread the devices' sends over the interval.
            var due = Double(start) + perClientInterval * Double(i) / Double(options.clients)
            var sequence: UInt64 = 0
            while true {
                if perClientInterval > 0 {
                    due += perClientInterval
                    let wait = Int64(due) - Int64(now())
                    if wait > 0 { try? await Task.sleep(for: .nanoseconds(wait)) }
                }
                let t = now()
                if t >= stopAt { return }
                var body = filler
                for k in 0..<8 { body[k] = UInt8(truncatingIfNeeded: t >> (56 - 8 * UInt64(k))) }
                for k in 0..<8 { body[8 + k] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * UInt64(k))) }
                sequence += 1
                do {
                    let (status, _) = if let connection {
                        try await connection.send([1: body], to: target)
                    } else {
                        try await client.sendRaw([1: body], to: target)
                    }
                    if status == 200 {
                        if t >= start + warmup { results.sent.wrappingAdd(1, ordering: .relaxed) }
                    } else {
                        results.failures.wrappingAdd(1, ordering: .relaxed)
                    }
                } catch {
                    results.failures.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
    }
}
let sendEnd = now()
// Let what is in flight arrive (at most 10 s).
while results.received.load(ordering: .relaxed) < results.sent.load(ordering: .relaxed), now() < sendEnd + 10_000_000_000 {
    try await Task.sleep(for: .milliseconds(20))
}
for r in receivers { r.cancel() }
let rssUnderLoad = relayRSS(measuredPIDs)
for t in idleTasks { t.cancel() }

let sent = results.sent.load(ordering: .relaxed)
let received = results.received.load(ordering: .relaxed)
let latencies = results.latencies.withLock { $0 }.sorted()
func percentile(_ p: Double) -> Double {
    guard !latencies.isEmpty else { return .nan }
    return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
}
let measured = Double(sendEnd - (start + warmup)) / 1e9
let delivered = Double(received) / measured
let line = String(format: "relay-bench: %@: %d devices, %@, %d-byte messages, target %@ msg/s, %.1f s: sent %d, delivered %d (%.0f msg/s), latency send→ack p50 %.2f ms, p99 %.2f ms, max %.2f ms, failures %d",
                  backend, options.clients, options.http ? "HTTP sends" : "WebSocket sends", options.size, options.rate > 0 ? String(Int(options.rate)) : "max", measured,
                  sent, received, delivered, percentile(0.5), percentile(0.99), percentile(1.0),
                  results.failures.load(ordering: .relaxed))
print(line)
if let rssUnderLoad { print(String(format: "relay-bench: relay RSS at the end %.1f MiB", Double(rssUnderLoad) / 1048576)) }
if let json = options.json {
    var object: [String: Any] = ["backend": backend, "nodes": options.nodes, "devices": options.clients, "size": options.size, "target_rate": options.rate,
                                 "seconds": measured, "sent": sent, "delivered": received, "delivered_per_second": delivered,
                                 "p50_ms": percentile(0.5), "p99_ms": percentile(0.99), "max_ms": percentile(1.0),
                                 "failures": results.failures.load(ordering: .relaxed)]
    object.merge(idleSummary) { $1 }
    if let rssUnderLoad { object["rss_end_bytes"] = rssUnderLoad }
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    _ = FileManager.default.createFile(atPath: json, contents: data)
}
for process in relayProcesses {
    process.terminate()
    process.waitUntilExit()
}
if let databasePath { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) } }
exit(received == sent && results.failures.load(ordering: .relaxed) == 0 ? 0 : 1)
