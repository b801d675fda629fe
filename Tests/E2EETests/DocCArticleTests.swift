import Foundation
import Testing
import E2EE
import E2EEStore

// The code of the DocC articles (Sources/E2EE/E2EE.docc, Sources/E2EEStore/E2EEStore.docc),
// compiled and run. Each ```swift block of an article is the body of one region
// below, line for line but for its imports and `assert` → `#expect`;
// ``articleCodeIsTheCodeTested`` checks that they agree, so an article's code
// cannot drift from code that compiles and passes. Checks after a region make
// sure that the article's `catch` blocks really ran.

@Suite("DocC articles")
struct DocCArticleTests {
    /// SessionsAndTheSessionManager.md: two devices, one manager each.
    @Test func sessionsAndTheSessionManager() throws {
        // article SessionsAndTheSessionManager.md 1 begin
        // One store and one manager per device; an account is created once.
        let aliceStore = MemoryStore(), bobStore = MemoryStore()
        try SessionManager.createAccount(store: aliceStore)
        try SessionManager.createAccount(store: bobStore)
        let aliceAddress = ProtocolAddress(userID: "alice", deviceID: 1)
        let bobAddress = ProtocolAddress(userID: "bob", deviceID: 1)
        let alice = try SessionManager(store: aliceStore, localAddress: aliceAddress)
        let bob = try SessionManager(store: bobStore, localAddress: bobAddress)

        // Bob's bundle goes to the server; Alice starts a session from it.
        try alice.startSession(with: bobAddress, bundle: bob.publishBundle())

        // The session advance is committed before the ciphertext is returned.
        let wire = try alice.encrypt(Array("hi Bob".utf8), to: bobAddress)
        // Decryption, session advance and inbox row: one transaction.
        let received = try bob.receive(wire, from: aliceAddress)
        #expect(received == .message(Array("hi Bob".utf8)))

        // The plaintext waits in the inbox until the application acknowledges it.
        let inbox = try bobStore.inboundMessages(after: 0, limit: 100)
        #expect(inbox.map(\.plaintext) == [Array("hi Bob".utf8)])
        try bobStore.acknowledgeInbound(through: inbox[0].sequence)

        // A second delivery of the same message is refused, not shown twice.
        do {
            _ = try bob.receive(wire, from: aliceAddress)
        } catch {
            #expect(error == .decrypt(.duplicate(index: 0)))
        }

        // Both users see the same 60 digits: they compare them out of band.
        let number = try alice.safetyNumber(for: bobAddress)
        let bobsNumber = try bob.safetyNumber(for: aliceAddress)
        #expect(number != nil && number == bobsNumber)
        // article end
        #expect(throws: MessagingError.decrypt(.duplicate(index: 0))) { try bob.receive(wire, from: aliceAddress) }
        #expect(try bobStore.inboundMessages(after: 0, limit: 100).isEmpty)

        // article SessionsAndTheSessionManager.md 2 begin
        // Bob reinstalls: his new identity key is refused until Alice's user accepts it.
        let newBobStore = MemoryStore()
        try SessionManager.createAccount(store: newBobStore)
        let newBob = try SessionManager(store: newBobStore, localAddress: bobAddress)
        let newBundle = try newBob.publishBundle()
        do {
            try alice.startSession(with: bobAddress, bundle: newBundle)
        } catch {
            #expect(error == .untrustedIdentity(bobAddress))
        }
        try alice.acceptIdentity(newBundle.identityKey, for: bobAddress)   // after comparing safety numbers
        try alice.startSession(with: bobAddress, bundle: newBundle)
        // article end
        #expect(try alice.trustedIdentity(for: bobAddress) == newBundle.identityKey)
        let again = try alice.encrypt(Array("new phone?".utf8), to: bobAddress)
        #expect(try newBob.receive(again, from: aliceAddress) == .message(Array("new phone?".utf8)))
        let otherStore = MemoryStore()
        try SessionManager.createAccount(store: otherStore)
        let otherBundle = try SessionManager(store: otherStore, localAddress: bobAddress).publishBundle()
        #expect(throws: MessagingError.untrustedIdentity(bobAddress)) {
            try alice.startSession(with: bobAddress, bundle: otherBundle)
        }
    }

    /// SessionsAndTheSessionManager.md: a content policy rejects and holds.
    @Test func contentPolicy() throws {
        // article SessionsAndTheSessionManager.md 3 begin
        // Reviewed on the device: before encryption and after decryption.
        struct NoPlainLinks: ContentPolicy {
            func review(outgoing plaintext: [UInt8], context: ContentContext) -> OutgoingVerdict {
                String(decoding: plaintext, as: UTF8.self).contains("http://") ? .reject(reason: "plain-HTTP link") : .allow
            }
            func review(incoming plaintext: [UInt8], context: ContentContext) -> IncomingVerdict {
                String(decoding: plaintext, as: UTF8.self).contains("http://") ? .hold(reason: "plain-HTTP link") : .allow
            }
        }
        let danaStore = MemoryStore(), erinStore = MemoryStore()
        try SessionManager.createAccount(store: danaStore)
        try SessionManager.createAccount(store: erinStore)
        let danaAddress = ProtocolAddress(userID: "dana", deviceID: 1)
        let erinAddress = ProtocolAddress(userID: "erin", deviceID: 1)
        let dana = try SessionManager(store: danaStore, localAddress: danaAddress, contentPolicy: NoPlainLinks())
        let erin = try SessionManager(store: erinStore, localAddress: erinAddress)
        try dana.startSession(with: erinAddress, bundle: erin.publishBundle())

        // Rejected before encryption: nothing is sent and no state changes.
        do {
            _ = try dana.encrypt(Array("see http://example.com".utf8), to: erinAddress)
        } catch {
            #expect(error == .rejectedByPolicy(reason: "plain-HTTP link"))
        }
        try erin.receive(dana.encrypt(Array("hello".utf8), to: erinAddress), from: danaAddress)

        // Held after decryption: received (the ratchet advances) and kept, marked held.
        let link = try erin.encrypt(Array("try http://example.com".utf8), to: danaAddress)
        let held = try dana.receive(link, from: erinAddress)
        #expect(held == .held(Array("try http://example.com".utf8), reason: "plain-HTTP link"))
        #expect(try danaStore.inboundMessages(after: 0, limit: 10).map(\.heldReason) == ["plain-HTTP link"])
        // article end
        // The article's catch block ran: the link was refused, and only "hello" reached Erin.
        #expect(throws: MessagingError.rejectedByPolicy(reason: "plain-HTTP link")) {
            try dana.encrypt(Array("see http://example.com".utf8), to: erinAddress)
        }
        #expect(try erinStore.inboundMessages(after: 0, limit: 10).map(\.plaintext) == [Array("hello".utf8)])
        #expect(throws: MessagingError.decrypt(.duplicate(index: 0))) { try dana.receive(link, from: erinAddress) }
    }

    /// StoresAndCrashSafety.md: a sealed SQLite store, reopened.
    @Test func storesAndCrashSafety() throws {
        // article StoresAndCrashSafety.md 1 begin
        // The storage key lives outside the database: in a key file, the
        // platform's keystore, or derived from a passphrase.
        let storageKey = StorageKey()
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("device-\(UUID().uuidString).sqlite").path
        let me = ProtocolAddress(userID: "alice", deviceID: 1)

        var store = try SQLiteStore(path: path, key: storageKey)
        try SessionManager.createAccount(store: store)
        let identity = try SessionManager(store: store, localAddress: me).identity.publicKey
        store.close()

        // Reopened with its key, the store holds the same account.
        store = try SQLiteStore(path: path, key: storageKey, synchronous: .full)
        #expect(try SessionManager(store: store, localAddress: me).identity.publicKey == identity)

        // With another key it is an error, never an empty store.
        do {
            _ = try SQLiteStore(path: path, key: StorageKey())
        } catch {
            #expect(error == .sealedRecordRejected(kind: "keycheck"))
        }
        // article end
        #expect(throws: StorageError.sealedRecordRejected(kind: "keycheck")) { try SQLiteStore(path: path, key: StorageKey()) }
        store.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Groups.md: three devices, a group, a removal.
    @Test func groups() throws {
        // article Groups.md 1 begin
        // A device: its own store and session manager.
        func device(_ name: String) throws -> SessionManager {
            let store = MemoryStore()
            try SessionManager.createAccount(store: store)
            return try SessionManager(store: store, localAddress: ProtocolAddress(userID: name, deviceID: 1))
        }
        // What the server does: hand each pairwise message to its recipient.
        func deliver(_ out: [(address: ProtocolAddress, message: [UInt8])], from sender: SessionManager,
                     to devices: [SessionManager]) throws {
            for (address, message) in out {
                for recipient in devices where recipient.localAddress == address {
                    _ = try recipient.receive(message, from: sender.localAddress)
                }
            }
        }
        let alice = try device("alice"), bob = try device("bob"), carol = try device("carol")
        let everyone = [alice, bob, carol]

        // Group control travels inside pairwise sessions: every pair needs one.
        for (a, b) in [(alice, bob), (alice, carol), (bob, carol)] {
            try a.startSession(with: b.localAddress, bundle: b.publishBundle())
        }
        // Alice creates the group: each member gets the roster, then her chain.
        let (group, invitations) = try alice.createGroup(members: [bob.localAddress, carol.localAddress])
        try deliver(invitations, from: alice, to: everyone)
        // Bob and Carol send their own chains to the other members.
        for member in [bob, carol] {
            try deliver(member.sendPendingDistributions(in: group).messages, from: member, to: everyone)
        }

        // One encryption for the whole group; the server copies it to each member.
        let hello = try bob.groupEncrypt(Array("hello group".utf8), to: group)
        #expect(try alice.groupDecrypt(hello, in: group, from: bob.localAddress) == .message(Array("hello group".utf8)))
        #expect(try carol.groupDecrypt(hello, in: group, from: bob.localAddress) == .message(Array("hello group".utf8)))

        // Alice (an admin) removes Carol; the others replace their chains.
        try deliver(alice.removeMember(carol.localAddress, from: group), from: alice, to: everyone)
        for member in [alice, bob] {
            try deliver(member.sendPendingDistributions(in: group).messages, from: member, to: everyone)
        }
        let later = try bob.groupEncrypt(Array("without Carol".utf8), to: group)
        #expect(try alice.groupDecrypt(later, in: group, from: bob.localAddress) == .message(Array("without Carol".utf8)))
        do {
            _ = try carol.groupDecrypt(later, in: group, from: bob.localAddress)
        } catch {
            print("Carol cannot read it: \(error)")
        }
        #expect(try alice.groupInfo(group).roster.map(\.address) == [alice.localAddress, bob.localAddress])
        // article end
        #expect(throws: MessagingError.self) { try carol.groupDecrypt(later, in: group, from: bob.localAddress) }
        #expect(try !carol.groupInfo(group).isMember)
        #expect(try bob.groupInfo(group).pendingDistribution.isEmpty)
    }

    /// PostQuantumSetup.md: PQXDH by default, X3DH only on request.
    @Test func postQuantumSetup() throws {
        // article PostQuantumSetup.md 1 begin
        // An account has a last-resort ML-KEM-1024 prekey; one-time KEM prekeys
        // are published first while they last.
        var bob = Account()
        bob.generateOneTimeKEMPreKeys(count: 10)
        let bundle = bob.publishBundle()
        #expect(bundle.kemPreKey != nil)

        // A bundle with a KEM prekey gives a PQXDH session: its key needs both
        // X25519 and ML-KEM-1024 broken.
        let aliceIdentity = IdentityKey.PrivateKey()
        var alice = try Session.initiate(identity: aliceIdentity, bundle: bundle)
        let (bobSession, _) = try bob.acceptSession(from: alice.encrypt(Array("hello".utf8)))
        #expect(alice.isPostQuantum && bobSession.isPostQuantum)

        // A bundle without one (a server may strip it) is refused...
        let classical = bob.publishClassicalBundle()
        do {
            _ = try Session.initiate(identity: aliceIdentity, bundle: classical)
        } catch {
            #expect(error == .postQuantumRequired)
        }
        // ...unless the caller opts in, for peers that cannot do PQXDH.
        let x3dh = try Session.initiate(identity: aliceIdentity, bundle: classical, allowClassical: true)
        #expect(!x3dh.isPostQuantum)
        // article end
        #expect(throws: SessionSetupError.postQuantumRequired) { try Session.initiate(identity: aliceIdentity, bundle: classical) }
        #expect(bundle.kemPreKey.map { $0.id } != bob.currentLastResortKEMPreKey?.id)
    }

    /// SecurityModelAndLimits.md: a tampered message changes nothing.
    @Test func securityModelAndLimits() throws {
        // article SecurityModelAndLimits.md 1 begin
        var bob = Account()
        var alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bob.publishBundle())
        var (bobSession, _) = try bob.acceptSession(from: alice.encrypt(Array("hello".utf8)))

        var message = try alice.encrypt(Array("attack at dawn".utf8))
        message[message.count - 1] ^= 1          // the server flips one bit
        do {
            _ = try bobSession.decrypt(message)
        } catch {
            #expect(error == .authenticationFailure)
        }
        message[message.count - 1] ^= 1          // undone: the session did not move
        #expect(try bobSession.decrypt(message) == Array("attack at dawn".utf8))
        // article end
        var forged = try alice.encrypt(Array("x".utf8))
        forged[forged.count - 1] ^= 1
        #expect(throws: DecryptError.authenticationFailure) { try bobSession.decrypt(forged) }
    }

    /// Performance.md: a backlog received in chunks.
    @Test func performance() throws {
        // article Performance.md 1 begin
        let aliceStore = MemoryStore(), bobStore = MemoryStore()
        try SessionManager.createAccount(store: aliceStore)
        try SessionManager.createAccount(store: bobStore)
        let aliceAddress = ProtocolAddress(userID: "alice", deviceID: 1)
        let bobAddress = ProtocolAddress(userID: "bob", deviceID: 1)
        let alice = try SessionManager(store: aliceStore, localAddress: aliceAddress)
        let bob = try SessionManager(store: bobStore, localAddress: bobAddress)
        try alice.startSession(with: bobAddress, bundle: bob.publishBundle())

        // A queue that built up while Bob was offline...
        var queue = [SessionManager.QueuedMessage]()
        for i in 0..<1000 {
            queue.append((message: try alice.encrypt(Array("message \(i)".utf8), to: bobAddress), from: aliceAddress))
        }
        // ...received with one transaction per 256 messages, not one per message.
        let outcomes = bob.receive(batch: queue, commitEvery: 256)
        #expect(outcomes.count == 1000)
        #expect(try outcomes[999].get() == .message(Array("message 999".utf8)))
        // article end
        #expect(try bobStore.inboundMessages(after: 0, limit: 2000).map(\.plaintext)
                == (0..<1000).map { Array("message \($0)".utf8) })
    }

    /// The regions above are the articles' code blocks, line for line, and every
    /// block has its region (Getting Started's is the README's example, which
    /// ReadmeTests runs).
    @Test func articleCodeIsTheCodeTested() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let test = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        func lines(_ text: some StringProtocol) -> [String] {
            text.split(separator: "\n", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func swiftBlocks(_ markdown: String) -> [String] {
            markdown.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        }
        // The regions of this file, by "File.md n".
        let begin = "// article ", end = "// article " + "end"
        var regions = [String: [String]]()
        for chunk in test.components(separatedBy: begin).dropFirst() {
            guard let header = chunk.split(separator: "\n").first, header.hasSuffix(" begin") else { continue }
            let key = String(header.dropLast(" begin".count))
            let body = try #require(chunk.components(separatedBy: "\n").dropFirst().joined(separator: "\n").components(separatedBy: end).first)
            regions[key] = lines(body)
        }
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let readmeExample = try #require(swiftBlocks(readme).first { $0.hasPrefix("import E2EE\n") && $0.contains("Session.initiate") })

        var checked = Set<String>(), readmeBlocks = 0
        for catalog in ["Sources/E2EE/E2EE.docc", "Sources/E2EEStore/E2EEStore.docc"] {
            let dir = root.appendingPathComponent(catalog)
            let files = try #require(FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil))
            for case let url as URL in files where url.pathExtension == "md" {
                let blocks = swiftBlocks(try String(contentsOf: url, encoding: .utf8))
                for (i, block) in blocks.enumerated() {
                    let key = "\(url.lastPathComponent) \(i + 1)"
                    if block == readmeExample { readmeBlocks += 1; continue }
                    let expected = lines(block).filter { !$0.hasPrefix("import ") }
                        .map { $0.replacingOccurrences(of: "assert(", with: "#expect(") }
                    let tested = try #require(regions[key], "\(key): no region in DocCArticleTests.swift")
                    #expect(tested == expected, "\(key) differs from its test")
                    checked.insert(key)
                }
            }
        }
        #expect(Set(regions.keys) == checked, "regions without an article block")
        #expect(readmeBlocks == 1, "Getting Started shows the README's example")
        #expect(checked.count >= 6)
    }
}
