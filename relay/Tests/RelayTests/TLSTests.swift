import E2EE
import E2EERelayClient
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// TLS 1.3 between a real relay on 127.0.0.1 and the client, with a CA made at test time.
@Suite(.timeLimit(.minutes(2)))
struct TLSTests {
    /// Registration, sessions and sending over HTTPS, delivery over WSS; the
    /// logs of the run hold none of the messages.
    @Test func devicesTalkOverTLSAndTheLogsHoldNoPayload() async throws {
        let ca = try TestCA()
        defer { ca.remove() }
        let server = try ca.serverCertificate("server", names: ["localhost", "127.0.0.1"])
        let db = temporaryDatabase()
        let log = db + ".log"
        defer {
            removeDatabase(db)
            try? FileManager.default.removeItem(atPath: log)
        }
        let relay = try await RelayProcess(database: db, arguments: ["--tls-cert", server.certificate, "--tls-key", server.key,
                                                                     "--log-format", "json"], log: log)
        let trusted = try RelayTLS.trusting(caFile: ca.certificate)
        let url = try #require(URL(string: "https://localhost:\(relay.port)"))
        let alice = try tlsDevice("tls-alice", server: url, tls: trusted)
        let bob = try tlsDevice("tls-bob", server: url, tls: trusted)
        try await alice.client.register(policy: smallPolicy)
        try await bob.client.register(policy: smallPolicy)

        var markers = [String]()
        for _ in 0..<5 {
            let marker = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            markers.append(marker)
            try await alice.client.send(Array("over tls \(marker)".utf8), to: "tls-bob")
        }
        let got = Collector<Delivery>()
        let end = try await withTimeout(30, "receiving over wss") {
            try await bob.client.receive(until: .idle(.milliseconds(500))) { got.append($0) }
        }
        #expect(end == .idle)
        #expect(Peer.texts(got.items) == markers.map { "over tls \($0)" })
        // Also by IP address: the certificate names 127.0.0.1, checked against the peer's address.
        let byAddress = try tlsDevice("tls-carol", server: try #require(URL(string: "https://127.0.0.1:\(relay.port)")),
                                      tls: trusted)
        try await byAddress.client.register(policy: smallPolicy)

        let token = try await alice.client.token()
        #expect(try await alice.client.preKeyCounts().oneTimePreKeys >= 0)
        #expect(try await relay.stop(within: 10) == 0)

        let logged = Array((FileManager.default.contents(atPath: log) ?? Data()))
        // The scan can see: the run logged, with device addresses.
        let sawAddress = contains(logged, Array("tls-alice".utf8)), sawTLS = contains(logged, Array("TLS 1.3".utf8))
        #expect(sawAddress && sawTLS)
        // Structured: every line one JSON object with a level and a message.
        let lines = logged.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count >= 3)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
            #expect(object?["level"] != nil && object?["msg"] != nil, "not a JSON log line: \(String(decoding: line, as: UTF8.self))")
        }
        // The verdicts alone: a failure must not print the log.
        let leakedMarkers = markers.filter { contains(logged, Array($0.utf8)) }.count
        #expect(leakedMarkers == 0, "message markers in the log")
        let tokenHex = token.map { String(format: "%02x", $0) }.joined()
        let tokenLeaked = contains(logged, Array(tokenHex.utf8))
        #expect(!tokenLeaked, "the bearer token is in the log")
    }

    /// A client that trusts another CA is refused on HTTPS and on WSS; so is a
    /// certificate for another name; plaintext to the TLS port gets nothing;
    /// TLS 1.2 is refused.
    @Test func wrongCAWrongNamePlaintextAndTLS12AreRefused() async throws {
        let ca = try TestCA(), otherCA = try TestCA()
        defer {
            ca.remove()
            otherCA.remove()
        }
        let server = try ca.serverCertificate("server", names: ["localhost", "127.0.0.1"])
        let db = temporaryDatabase()
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db, arguments: ["--tls-cert", server.certificate, "--tls-key", server.key])
        let url = try #require(URL(string: "https://localhost:\(relay.port)"))

        // The right CA works (so the refusals below are about the CA, not the setup).
        let good = try tlsDevice("good", server: url, tls: try RelayTLS.trusting(caFile: ca.certificate))
        try await good.client.register(policy: smallPolicy)

        let stranger = try tlsDevice("stranger", server: url, tls: try RelayTLS.trusting(caFile: otherCA.certificate))
        let refused = await transportFailure { try await stranger.client.register(policy: smallPolicy) }
        #expect(refused != nil && refused?.hasPrefix("other") == false, "\(refused ?? "accepted")")
        // WSS: the WebSocket handshake never happens either.
        let wss = await transportFailure {
            _ = try await withTimeout(20, "wss with the wrong CA") {
                try await stranger.client.receive(until: .idle(.milliseconds(300))) { _ in }
            }
        }
        #expect(wss != nil && wss?.hasPrefix("other") == false, "\(wss ?? "accepted")")
        // The good device's own WebSocket works with its CA.
        let end = try await withTimeout(20, "wss with the right CA") {
            try await good.client.receive(until: .idle(.milliseconds(300))) { _ in }
        }
        #expect(end == .idle)

        // A system-roots client does not know the test CA.
        let systemRoots = try tlsDevice("system", server: url, tls: nil)
        #expect(await transportFailure { try await systemRoots.client.register(policy: smallPolicy) } != nil)

        // Plain HTTP to the TLS port: no HTTP answer at all.
        let plain = try #require(URL(string: "http://127.0.0.1:\(relay.port)/health"))
        var plainStatus: Int?
        do {
            let (_, response) = try await withTimeout(10, "plain HTTP to TLS") { try await URLSession.shared.data(from: plain) }
            plainStatus = (response as? HTTPURLResponse)?.statusCode
        } catch {
            plainStatus = nil
        }
        #expect(plainStatus != 200)
        let plainClient = try tlsDevice("plain", server: try #require(URL(string: "http://127.0.0.1:\(relay.port)")), tls: nil)
        #expect(await transportFailure { try await plainClient.client.register(policy: smallPolicy) } != nil)

        // TLS 1.3 only: openssl's client gets in with 1.3, not with 1.2.
        let endpoint = "127.0.0.1:\(relay.port)"
        let v13 = try openssl(["s_client", "-connect", endpoint, "-tls1_3", "-CAfile", ca.certificate, "-verify_return_error",
                               "-brief"], stdin: "", allowFailure: true)
        #expect(v13.status == 0, "\(v13.output)")
        let v12 = try openssl(["s_client", "-connect", endpoint, "-tls1_2", "-brief"], stdin: "", allowFailure: true)
        #expect(v12.status != 0, "\(v12.output)")
        #expect(try await relay.stop(within: 10) == 0)

        // A certificate from the trusted CA, but for another name: refused by the name check.
        let misnamed = try ca.serverCertificate("misnamed", names: ["relay.invalid"])
        let db2 = temporaryDatabase()
        defer { removeDatabase(db2) }
        let relay2 = try await RelayProcess(database: db2, arguments: ["--tls-cert", misnamed.certificate, "--tls-key", misnamed.key])
        let wrongName = try tlsDevice("wrong-name", server: try #require(URL(string: "https://localhost:\(relay2.port)")),
                                      tls: try RelayTLS.trusting(caFile: ca.certificate))
        let nameRefused = await transportFailure { try await wrongName.client.register(policy: smallPolicy) }
        #expect(nameRefused != nil && nameRefused?.hasPrefix("other") == false, "\(nameRefused ?? "accepted")")
        #expect(try await relay2.stop(within: 10) == 0)
    }

    /// A CA file that holds no certificate is refused when the client is made.
    @Test func unusableCAFileIsRefused() throws {
        let path = temporaryDatabase() + ".pem"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RelayClientError.self) { try RelayTLS.trusting(caFile: path) }
        #expect(throws: RelayClientError.self) { try RelayTLS.trusting(caFile: path + ".missing") }
    }
}
