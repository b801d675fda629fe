import E2EE
import E2EERelayClient
import Foundation
import RelayProtocol
import Testing

/// Real `e2ee-relay` processes on loopback, real clients over SessionManager.
@Suite(.timeLimit(.minutes(3)))
struct EndToEndTests {
    @Test(arguments: Backend.available) func twoUsersTalk(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)

        // The session comes from Bob's bundle in the directory.
        try await alice.client.send(Array("hello bob".utf8), to: "bob")
        let atBob = try await bob.drain()
        #expect(Peer.texts(atBob) == ["hello bob"])
        #expect(atBob.map(\.sender) == [alice.address])
        try await bob.client.send(Array("hi alice".utf8), to: "alice")
        try await alice.client.send(Array("how are you".utf8), to: "bob")
        #expect(Peer.texts(try await alice.drain()) == ["hi alice"])
        #expect(Peer.texts(try await bob.drain()) == ["how are you"])
        // Acked, so deleted: nothing comes again.
        #expect(try await bob.drain(idle: .milliseconds(300)).isEmpty)
        // Alice's first message used one of Bob's one-time prekeys and one KEM prekey.
        #expect(try await bob.client.preKeyCounts() == KeyCounts(oneTimePreKeys: 99, oneTimeKEMPreKeys: 99))
        #expect(try await relay.stop(within: 5) == 0)
    }

    @Test(arguments: Backend.available) func userWithThreeDevices(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay)
        let bob1 = try await Peer("bob", 1, relay: relay)
        let bob2 = try await Peer("bob", 2, relay: relay, approvedBy: bob1)
        let bob3 = try await Peer("bob", 3, relay: relay, approvedBy: bob2)

        // One send reaches every device, each through its own session.
        try await alice.client.send(Array("to every bob".utf8), to: "bob")
        for bob in [bob1, bob2, bob3] {
            let got = try await bob.drain()
            #expect(Peer.texts(got) == ["to every bob"], "\(bob.address)")
        }
        // A device writes to its own user: the other two get it, not itself.
        try await bob1.client.send(Array("note to self".utf8), to: "bob")
        #expect(Peer.texts(try await bob2.drain()) == ["note to self"])
        #expect(Peer.texts(try await bob3.drain()) == ["note to self"])
        #expect(try await bob1.drain(idle: .milliseconds(300)).isEmpty)

        // A stranger cannot add a device to Bob's account, with no token or with its own.
        let stranger = try await Peer("bob", 4, relay: relay, register: false)
        #expect(await failureStatus { try await stranger.client.register() } == 401)
        let eve = try await Peer("eve", relay: relay)
        #expect(await failureStatus { try await stranger.client.register(approvedBy: eve.client) } == 403)

        // Bob removes device 3: Alice's next send is told (409), drops it and goes through.
        try await bob1.client.removeDevice(3)
        try await alice.client.send(Array("two left".utf8), to: "bob")
        #expect(Peer.texts(try await bob1.drain()) == ["two left"])
        #expect(Peer.texts(try await bob2.drain()) == ["two left"])
        await #expect(throws: RelayClientError.self) { try await bob3.drain(idle: .milliseconds(300)) }
        #expect(try await relay.stop(within: 5) == 0)
    }

    @Test(arguments: Backend.available) func offlineRecipientCatchesUpInOrder(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)
        let sent = (0..<40).map { "queued \($0)" }
        for text in sent { try await alice.client.send(Array(text.utf8), to: "bob") }
        let got = try await bob.drain()
        #expect(Peer.texts(got) == sent)
        #expect(got.map(\.serverID) == got.map(\.serverID).sorted())
        #expect(try await relay.stop(within: 5) == 0)
    }

    @Test(arguments: Backend.available) func groupOfFive(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        var members = [Peer]()
        for i in 0..<5 { members.append(try await Peer("member\(i)", relay: relay)) }
        let creator = members[0]
        for other in members.dropFirst() { try await creator.client.startSessions(with: other.address.userID) }
        let (group, invitations) = try creator.manager.createGroup(members: members.map(\.address),
                                                                   admins: [creator.address])
        try await creator.client.deliver(invitations)
        let others = members.dropFirst().map(\.address)
        try await creator.client.deliver(others.map { ($0, try creator.manager.groupEncrypt(Array("hello group".utf8), to: group)) })
        for member in members.dropFirst() {
            let got = try await member.drain()
            #expect(Peer.texts(got) == ["hello group"], "\(member.address)")
            #expect(got.last?.group == group)
        }

        // Member 2 speaks: it needs sessions with the others for its own chain.
        let speaker = members[2]
        for other in members where other.address != speaker.address && other.address != creator.address {
            try await speaker.client.startSessions(with: other.address.userID)
        }
        let pending = try speaker.manager.sendPendingDistributions(in: group)
        #expect(pending.withoutSession.isEmpty)
        try await speaker.client.deliver(pending.messages)
        let fromSpeaker = try speaker.manager.groupEncrypt(Array("member 2 here".utf8), to: group)
        try await speaker.client.deliver(members.map(\.address).filter { $0 != speaker.address }.map { ($0, fromSpeaker) })
        for member in members where member.address != speaker.address {
            #expect(Peer.texts(try await member.drain()) == ["member 2 here"], "\(member.address)")
        }

        // Member 4 is removed: the update reaches everyone, and it cannot read what follows.
        let removed = members[4]
        try await creator.client.deliver(try creator.manager.removeMember(removed.address, from: group))
        let afterRemoval = try creator.manager.groupEncrypt(Array("after removal".utf8), to: group)
        try await creator.client.deliver(members.dropFirst().map { ($0.address, afterRemoval) })
        for member in members[1...3] {
            #expect(Peer.texts(try await member.drain()) == ["after removal"], "\(member.address)")
        }
        let atRemoved = try await removed.drain()
        #expect(!Peer.texts(atRemoved).contains("after removal"))
        #expect(try removed.manager.groupInfo(group).isMember == false)
        #expect(try await relay.stop(within: 5) == 0)
    }

    @Test(arguments: Backend.available) func oneTimePreKeyExhaustionAndFetchRateLimit(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db, arguments: ["--fetch-limit", "6"])
        let alice = try await Peer("alice", relay: relay)
        let bob = try await Peer("bob", relay: relay, oneTimeKeys: 3)
        #expect(try await bob.client.preKeyCounts() == KeyCounts(oneTimePreKeys: 3, oneTimeKEMPreKeys: 3))
        var bundles = [PreKeyBundle]()
        for _ in 0..<6 { bundles += try await alice.client.fetchBundles(user: "bob").map(\.bundle) }
        let oneTime = bundles.compactMap(\.oneTimePreKey?.id)
        #expect(oneTime.count == 3 && Set(oneTime).count == 3)
        #expect(bundles[3...].allSatisfy { $0.oneTimePreKey == nil })
        // One-time KEM prekeys go the same way; then the last-resort one, always the same.
        let kem = bundles.compactMap(\.kemPreKey?.id)
        #expect(kem.count == 6 && Set(kem[..<3]).count == 3)
        #expect(Set(kem[3...]).count == 1 && !kem[..<3].contains(kem[5]))
        #expect(try await bob.client.preKeyCounts() == KeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0))
        // The seventh fetch for the same target within the minute is refused.
        #expect(await failureStatus { _ = try await alice.client.fetchBundles(user: "bob") } == 429)
        // A session still starts from an exhausted pool (last-resort KEM prekey, no OPK).
        let carol = try await Peer("carol", relay: relay)
        try await carol.client.send(Array("no one-time key left".utf8), to: "bob")
        #expect(Peer.texts(try await bob.drain()) == ["no one-time key left"])
        // Bob refills when told the pools are low.
        let policy = PreKeyPolicy(minimumOneTimePreKeys: 2, targetOneTimePreKeys: 5,
                                  minimumOneTimeKEMPreKeys: 2, targetOneTimeKEMPreKeys: 5)
        #expect(try await bob.client.refillPreKeys(policy: policy))
        #expect(try await bob.client.preKeyCounts() == KeyCounts(oneTimePreKeys: 5, oneTimeKEMPreKeys: 5))
        #expect(try await bob.client.refillPreKeys(policy: policy) == false)
        #expect(try await relay.stop(within: 5) == 0)
    }

    /// Many fetchers at once: no one-time prekey is ever handed to two of them.
    @Test(arguments: Backend.available) func concurrentFetchersNeverShareAKey(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db, arguments: ["--fetch-limit", "1000"])
        let bob = try await Peer("bob", relay: relay, oneTimeKeys: 30)
        var fetchers = [Peer]()
        for i in 0..<4 { fetchers.append(try await Peer("fetcher\(i)", relay: relay)) }
        let ids = Collector<UInt32?>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for fetcher in fetchers {
                for _ in 0..<15 {
                    group.addTask {
                        for entry in try await fetcher.client.fetchBundles(user: "bob") {
                            ids.append(entry.bundle.oneTimePreKey?.id.rawValue)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let handedOut = ids.items.compactMap { $0 }
        #expect(ids.count == 60)
        #expect(handedOut.count == 30)
        #expect(Set(handedOut).count == 30)
        _ = bob
        #expect(try await relay.stop(within: 5) == 0)
    }

    @Test(arguments: Backend.available) func secondConnectionReplacesTheFirst(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let bob = try await Peer("bob", relay: relay)
        let (ready, readySink) = AsyncStream.makeStream(of: Void.self)
        let first = Task {
            try await bob.client.receive(until: .closed, onReady: { _ in readySink.yield() }) { _ in }
        }
        for await _ in ready { break }
        let second = try bob.reconnected(to: relay)
        #expect(try await bob.drain(client: second).isEmpty)
        let end = try await withTimeout(10, "the first connection's end") { try await first.value }
        #expect(end == .replaced)
        #expect(try await relay.stop(within: 5) == 0)
    }

    /// Sends over the sender's open WebSocket: the same rules and answers as the PUT.
    @Test(arguments: Backend.available) func sendsOverTheOpenConnection(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        let relay = try await RelayProcess(database: db)
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)
        let (connections, sink) = AsyncStream.makeStream(of: RelayConnection.self)
        let loop = Task { try await alice.client.receive(until: .closed, onReady: { sink.yield($0) }) { _ in } }
        var iterator = connections.makeAsyncIterator()
        let connection = try #require(await iterator.next())

        let result = try await alice.client.send(Array("over the socket".utf8), to: "bob", via: connection)
        #expect(result.serverIDs.keys.sorted() == [1])
        // A wrong device list: 409 naming the difference, nothing queued.
        let (status, body) = try await connection.send([5: [1, 2, 3]], to: "bob")
        #expect(status == 409)
        #expect(try DeviceMismatch(serialized: body) == DeviceMismatch(missing: [1], extra: [5]))
        #expect(Peer.texts(try await bob.drain()) == ["over the socket"])
        // After the loop ends, the connection refuses to send.
        loop.cancel()
        _ = await loop.result
        await #expect(throws: RelayClientError.self) { _ = try await connection.send([1: [0]], to: "bob") }
        #expect(try await relay.stop(within: 5) == 0)
    }

    /// The mailbox's limits: a per-sender rate limit, and a TTL after which a
    /// message that was never fetched is gone.
    @Test(arguments: Backend.available) func sendRateLimitAndMessageTTL(_ backend: Backend) async throws {
        let db = temporaryDatabase(backend)
        defer { removeDatabase(db) }
        // One token per 100 s: however slow a loaded machine is, the third send
        // comes before a refill (a rate of 1 let a slow CI run refill one).
        let relay = try await RelayProcess(database: db, arguments: ["--send-rate", "0.01", "--message-ttl", "1"])
        let alice = try await Peer("alice", relay: relay), bob = try await Peer("bob", relay: relay)
        // A burst of two, then nothing until a refill.
        try await alice.client.send(Array("one".utf8), to: "bob")
        try await alice.client.send(Array("two".utf8), to: "bob")
        #expect(await failureStatus { try await alice.client.send(Array("three".utf8), to: "bob") } == 429)
        // Another sender has its own bucket.
        try await bob.client.send(Array("to alice".utf8), to: "alice")
        // Past the TTL, Bob's queue is empty: the messages expired unread.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await bob.drain(idle: .milliseconds(300)).isEmpty)
        #expect(try await relay.stop(within: 5) == 0)
    }
}
