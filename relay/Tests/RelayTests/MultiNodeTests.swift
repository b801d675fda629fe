import E2EE
import E2EERelayClient
import Foundation
import RelayProtocol
import Testing

/// Two `e2ee-relay serve` processes on one PostgreSQL (docs/RELAY.md, Several
/// nodes), and the database restarted under load. PostgreSQL only: these are
/// what several nodes add.
@Suite(.enabled(if: testPostgresURL != nil), .timeLimit(.minutes(3)))
struct MultiNodeTests {
    /// A device on node A receives, live, what is sent through node B: the
    /// send's NOTIFY wakes A's connection (the safety-net poll is 30 s, far
    /// beyond the 5 s allowed here).
    @Test func aSendThroughOneNodeReachesADeviceOnTheOtherLive() async throws {
        let db = temporaryDatabase(.postgres)
        let nodeA = try await RelayProcess(database: db), nodeB = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: nodeB), bob = try await Peer("bob", relay: nodeA)
        let got = Collector<String>()
        let (ready, readySink) = AsyncStream.makeStream(of: Void.self)
        let loop = Task {
            try await bob.client.receive(until: .closed, onReady: { _ in readySink.yield() }) { delivery in
                got.append(Peer.texts([delivery]).first ?? "")
            }
        }
        for await _ in ready { break }
        for i in 0..<5 {
            try await alice.client.send(Array("live \(i)".utf8), to: "bob")
            let deadline = ContinuousClock.now + .seconds(5)
            while got.count <= i && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(got.count == i + 1, "message \(i) did not arrive within 5 s")
        }
        #expect(got.items == (0..<5).map { "live \($0)" })
        loop.cancel()
        _ = await loop.result
        #expect(try await nodeA.stop(within: 5) == 0)
        #expect(try await nodeB.stop(within: 5) == 0)
    }

    /// One consumer per device across nodes: connecting on B ends A's connection with `replaced`.
    @Test func aConnectionOnAnotherNodeReplacesTheFirst() async throws {
        let db = temporaryDatabase(.postgres)
        let nodeA = try await RelayProcess(database: db), nodeB = try await RelayProcess(database: db)
        let bob = try await Peer("bob", relay: nodeA)
        let (ready, readySink) = AsyncStream.makeStream(of: Void.self)
        let ends = Collector<RelayClient.ReceiveEnd>()
        let first = Task {
            ends.append(try await bob.client.receive(until: .closed, onReady: { _ in readySink.yield() }) { _ in })
        }
        for await _ in ready { break }
        let onB = try bob.reconnected(to: nodeB)
        #expect(try await bob.drain(client: onB).isEmpty)
        // Polled, so that a connection never replaced fails the test rather than hanging it.
        let deadline = ContinuousClock.now + .seconds(10)
        while ends.count == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(ends.items == [.replaced])
        first.cancel()
        #expect(try await nodeA.stop(within: 5) == 0)
        #expect(try await nodeB.stop(within: 5) == 0)
    }

    /// SIGKILL of the node Bob receives on while Alice keeps sending through
    /// the other: Bob reconnects to the survivor; every message arrives, once.
    @Test func killingOneOfTwoNodesUnderLoadLosesNothing() async throws {
        let db = temporaryDatabase(.postgres)
        let nodeA = try await RelayProcess(database: db), nodeB = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: nodeB), bob = try await Peer("bob", relay: nodeA)
        let sent = (0..<300).map { "message \($0)" }
        let sender = Task {
            for text in sent { try await alice.client.send(Array(text.utf8), to: "bob") }
        }
        let firstRun = Collector<Delivery>()
        do {
            try await bob.client.receive(until: .idle(.seconds(5))) { delivery in
                firstRun.append(delivery)
                if firstRun.count == 60 { kill(nodeA.process.processIdentifier, SIGKILL) }
            }
        } catch {
            // The connection broke under it: expected.
        }
        try await sender.value
        let secondRun = try await bob.drain(client: try bob.reconnected(to: nodeB))
        let texts = Peer.texts(firstRun.items) + Peer.texts(secondRun)
        #expect(firstRun.count >= 60)
        #expect(texts.sorted() == sent.sorted())
        #expect(Set(texts).count == texts.count)
        #expect(try bob.store.inboundMessages(after: 0, limit: 1000).count == 300)
        #expect(try await nodeB.stop(within: 5) == 0)
    }

    /// PostgreSQL restarted (scripts/postgres.sh restart) while Alice sends and
    /// Bob receives: requests during the outage get 503 (or fail to connect),
    /// the relay reconnects by itself, and every message arrives once. On a
    /// cluster of its own, so that the other tests keep theirs.
    @Test func aPostgresRestartUnderLoadLosesNothing() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("relay-pg-\(UUID().uuidString)").path
        let db = try await postgresScript("start", state: state)
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)
        let sent = (0..<200).map { "message \($0)" }
        let statuses = Collector<Int>()
        let sender = Task {
            for (i, text) in sent.enumerated() {
                if i == 50 { _ = try await postgresScript("restart", state: state) }
                // Retried until stored: an outage answers 503, never a stored-and-lost 200.
                while true {
                    do {
                        try await alice.client.send(Array(text.utf8), to: "bob")
                        break
                    } catch {
                        if case .status(let code, _)? = error as? RelayClientError { statuses.append(code) }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
        }
        let got = Collector<Delivery>()
        let deadline = ContinuousClock.now + .seconds(90)
        while Set(Peer.texts(got.items)).count < sent.count && ContinuousClock.now < deadline {
            do {
                try await bob.client.receive(until: .idle(.seconds(2))) { got.append($0) }
            } catch {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        try await sender.value
        let texts = Peer.texts(got.items)
        #expect(texts.sorted() == sent.sorted())
        #expect(Set(texts).count == texts.count)
        #expect(statuses.items.allSatisfy { $0 == 503 }, "\(statuses.items)")
        // The same process served before and after: it never restarted.
        #expect(relay.process.isRunning)
        #expect(try await relay.stop(within: 10) == 0)
        _ = try await postgresScript("stop", state: state)
    }
}

/// Runs `scripts/postgres.sh command` on the cluster of state file `state`; its stdout.
/// Waited for by polling, not `waitUntilExit`, which blocks a thread of the test's executor.
func postgresScript(_ command: String, state: String) async throws -> String {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../scripts/postgres.sh").standardizedFileURL
    let output = state + ".out"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    // The server that `start` leaves running must hold no descriptor of ours: Foundation
    // sees the script's exit through one it inherits. So stdout goes to a file, and
    // every descriptor above 2 is closed first.
    let closeInherited = "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\" 2>/dev/null; done; "
    process.arguments = ["-c", closeInherited + "exec \"$0\" \"$1\" >\"$2\" </dev/null", script.path, command, output]
    process.environment = ProcessInfo.processInfo.environment.merging(["E2EE_PG_STATE": state]) { $1 }
    try process.run()
    let deadline = ContinuousClock.now + .seconds(120)
    while process.isRunning {
        guard ContinuousClock.now < deadline else { throw HarnessError.timedOut("scripts/postgres.sh \(command)") }
        try await Task.sleep(for: .milliseconds(50))
    }
    guard process.terminationStatus == 0 else { throw HarnessError.exitedEarly(status: process.terminationStatus) }
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: output)
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
