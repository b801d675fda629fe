import E2EERelayClient
import Foundation
import RelayProtocol
import Testing
@testable import E2EE

/// Bad input, a blind server, and a relay killed mid-delivery.
@Suite(.timeLimit(.minutes(3)))
struct FaultTests {
    /// Every endpoint refuses malformed, oversized and unauthenticated input
    /// with a 4xx, and none of it leaves a trace in the store.
    @Test(arguments: Backend.available) func badInputGets4xxAndStoresNothing(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)
        let token = try await alice.client.token()
        let before = try await bob.client.preKeyCounts()
        let garbage: [UInt8] = [0xde, 0xad, 0xbe, 0xef]

        // Registration: malformed, oversized, a signature by another key, a device id of 0.
        let mallory = try RelayAddress(userID: "mallory", deviceID: 1)
        var forged = RegisterRequest(address: mallory, signedBy: IdentityKey.PrivateKey()).serialized
        forged[forged.count - 1] ^= 1
        var zeroDevice = RegisterRequest(address: mallory, signedBy: IdentityKey.PrivateKey()).serialized
        zeroDevice.replaceSubrange(8..<12, with: [0, 0, 0, 0])
        #expect(try await http("POST", relay, "/v1/devices", body: garbage).status == 400)
        #expect(try await http("POST", relay, "/v1/devices", body: [UInt8](repeating: 1, count: 10_000)).status == 413)
        #expect(try await http("POST", relay, "/v1/devices", body: forged).status == 401)
        #expect(try await http("POST", relay, "/v1/devices", body: zeroDevice).status == 400)

        // Tokens: malformed, an unknown nonce, a nonce answered by the wrong key, a reused nonce.
        #expect(try await http("POST", relay, "/v1/auth/token", body: garbage).status == 400)
        let madeUp = try AuthNonce(bytes: [UInt8](repeating: 9, count: 32))
        let unknownNonce = TokenRequest(address: alice.client.address, nonce: madeUp, signedBy: alice.manager.identity)
        #expect(try await http("POST", relay, "/v1/auth/token", body: unknownNonce.serialized).status == 401)
        let nonce = try AuthNonce(bytes: try await http("POST", relay, "/v1/auth/challenge").body)
        let wrongKey = TokenRequest(address: alice.client.address, nonce: nonce, signedBy: bob.manager.identity)
        #expect(try await http("POST", relay, "/v1/auth/token", body: wrongKey.serialized).status == 401)
        let rightKey = TokenRequest(address: alice.client.address, nonce: nonce, signedBy: alice.manager.identity)
        #expect(try await http("POST", relay, "/v1/auth/token", body: rightKey.serialized).status == 401)  // used once already

        // Keys: no token, a malformed token, a made-up token, a malformed body, a bad signature, oversized.
        #expect(try await http("PUT", relay, "/v1/keys", body: garbage).status == 401)
        #expect(try await http("PUT", relay, "/v1/keys", body: garbage, authorization: "Bearer xyz").status == 401)
        #expect(try await http("PUT", relay, "/v1/keys", body: garbage, bearer: [UInt8](repeating: 0, count: 32)).status == 401)
        #expect(try await http("PUT", relay, "/v1/keys", body: garbage, bearer: token).status == 400)
        let someoneElses = Account(identity: IdentityKey.PrivateKey())
        let spk = someoneElses.currentSignedPreKey
        let badlySigned = try KeyUpload(signedPreKey: .init(id: spk.id, publicKey: spk.publicKey, signature: spk.signature))
        #expect(try await http("PUT", relay, "/v1/keys", body: badlySigned.serialized, bearer: token).status == 400)
        #expect(try await http("PUT", relay, "/v1/keys", body: [UInt8](repeating: 0, count: KeyUpload.maxByteCount + 1),
                               bearer: token).status == 413)
        #expect(try await http("GET", relay, "/v1/keys").status == 401)
        #expect(try await http("GET", relay, "/v1/keys/bob").status == 401)
        #expect(try await http("GET", relay, "/v1/keys/b%20ob", bearer: token).status == 400)
        #expect(try await http("GET", relay, "/v1/keys/bob/0", bearer: token).status == 400)
        #expect(try await http("GET", relay, "/v1/keys/bob/x", bearer: token).status == 400)
        #expect(try await http("GET", relay, "/v1/keys/nobody", bearer: token).status == 404)

        // Messages: no token, malformed, empty, a message over 256 KiB, an unknown user.
        let one = try SendRequest(messages: [1: [1, 2, 3]]).serialized
        #expect(try await http("PUT", relay, "/v1/messages/bob", body: one).status == 401)
        #expect(try await http("PUT", relay, "/v1/messages/bob", body: garbage, bearer: token).status == 400)
        #expect(try await http("PUT", relay, "/v1/messages/bob", body: [0, 0], bearer: token).status == 400)
        var huge = [UInt8]([0, 1, 0, 0, 0, 1])
        let size = UInt32(Envelope.maxMessageBytes + 1)
        huge += [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)]
        huge += [UInt8](repeating: 0, count: Int(size))
        #expect(try await http("PUT", relay, "/v1/messages/bob", body: huge, bearer: token).status == 400)
        #expect(try await http("PUT", relay, "/v1/messages/no%21body", body: one, bearer: token).status == 400)
        #expect(try await http("PUT", relay, "/v1/messages/nobody", body: one, bearer: token).status == 409)

        // Devices: a bad id, an unknown one, another user's device (its own user's namespace: unknown).
        #expect(try await http("DELETE", relay, "/v1/devices/abc", bearer: token).status == 400)
        #expect(try await http("DELETE", relay, "/v1/devices/7", bearer: token).status == 404)
        #expect(try await http("DELETE", relay, "/v1/devices/1").status == 401)

        // Nothing of it was stored: no message, no key consumed, no device added.
        #expect(try await bob.drain(idle: .milliseconds(300)).isEmpty)
        #expect(try await bob.client.preKeyCounts() == before)
        let strangerToken = TokenRequest(
            address: mallory, nonce: try AuthNonce(bytes: try await http("POST", relay, "/v1/auth/challenge").body),
            signedBy: IdentityKey.PrivateKey())
        #expect(try await http("POST", relay, "/v1/auth/token", body: strangerToken.serialized).status == 401)
        // And the relay still serves the honest.
        try await alice.client.send(Array("still here".utf8), to: "bob")
        #expect(Peer.texts(try await bob.drain()) == ["still here"])
        #expect(try await relay.stop(within: 5) == 0)
    }

    /// The server never holds a private key or a plaintext: random markers in
    /// the messages, and the test devices' private keys, appear in neither the
    /// database files nor the logs.
    @Test func theRelayIsBlind() async throws {
        let db = temporaryDatabase()
        let log = db + ".log"
        defer {
            removeDatabase(db)
            try? FileManager.default.removeItem(atPath: log)
        }
        let relay = try await RelayProcess(database: db, log: log)
        let alice = try await Peer("blind-alice", relay: relay), bob = try await Peer("blind-bob", relay: relay)
        var markers = [[UInt8]]()
        func marker() -> String {
            let m = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            markers.append(Array(m.utf8))
            return m
        }
        for i in 0..<10 {
            try await alice.client.send(Array("secret \(marker())".utf8), to: "blind-bob")
            if i == 4 { _ = try await bob.drain(idle: .milliseconds(300)) }
            try await bob.client.send(Array("reply \(marker())".utf8), to: "blind-alice")
        }
        // Alice's replies stay queued on the relay: the database holds them now.
        #expect(try await relay.stop(within: 5) == 0)

        var secrets = markers
        for peer in [alice, bob] {
            let account = try #require(try peer.store.loadAccount())
            secrets.append(account.identity.secret.withUnsafeBytes { Array($0.prefix(32)) })   // the seed
            for spk in account.signedPreKeys { secrets.append(spk.privateKey.secret.withUnsafeBytes { Array($0) }) }
            for opk in account.oneTimePreKeys.prefix(20) { secrets.append(opk.privateKey.secret.withUnsafeBytes { Array($0) }) }
        }
        var files = [String: [UInt8]]()
        for path in [db, db + "-wal", db + "-shm", log] {
            if let data = FileManager.default.contents(atPath: path) { files[path] = Array(data) }
        }
        // The scan can see: the database names the users, and holds Alice's queued ciphertexts.
        let everything = files.values.reduce([], +)
        #expect(contains(everything, Array("blind-alice".utf8)))
        #expect((files[db]?.count ?? 0) + (files[db + "-wal"]?.count ?? 0) > 10_000)
        for (path, bytes) in files {
            // The verdict alone: a failure must not print the files.
            let leaked = secrets.indices.filter { contains(bytes, secrets[$0]) }
            #expect(leaked.isEmpty, "\(path) holds secrets \(leaked) (markers first, then private keys)")
        }
    }

    /// SIGKILL mid-delivery, then a restart on the same database: every
    /// message is applied exactly once (a redelivered one is a duplicate).
    @Test(arguments: Backend.available) func killedMidDeliveryLosesNothingAndAppliesNothingTwice(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)
        let sent = (0..<300).map { "message \($0)" }
        for text in sent { try await alice.client.send(Array(text.utf8), to: "bob") }

        // Bob receives; at the 100th envelope the relay is killed.
        let firstRun = Collector<Delivery>()
        let killed = Collector<Bool>()
        do {
            try await bob.client.receive(until: .idle(.seconds(5))) { delivery in
                firstRun.append(delivery)
                if firstRun.count == 100 {
                    kill(relay.process.processIdentifier, SIGKILL)
                    killed.append(true)
                }
            }
        } catch {
            // The connection broke under it: expected.
        }
        #expect(killed.count == 1)
        #expect(firstRun.count >= 100 && firstRun.count < 300)

        let restarted = try await RelayProcess(database: db)
        let secondRun = try await bob.drain(client: try bob.reconnected(to: restarted))
        let texts = Peer.texts(firstRun.items) + Peer.texts(secondRun)
        #expect(texts.sorted() == sent.sorted())      // none lost, none applied twice
        #expect(Set(texts).count == texts.count)
        // The library committed each once: its inbound table agrees.
        let inbound = try bob.store.inboundMessages(after: 0, limit: 1000)
        #expect(inbound.count == 300)
        // Whatever came again was a duplicate, acked without effect.
        #expect(secondRun.allSatisfy { if case .rejected = $0.outcome { false } else { true } })
        #expect(try await bob.drain(client: try bob.reconnected(to: restarted), idle: .milliseconds(300)).isEmpty)
        #expect(try await restarted.stop(within: 5) == 0)
    }
}

/// Whether `needle` occurs in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    let last = haystack.count - needle.count
    while i <= last {
        if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
    }
    return false
}
