import Synchronization
import Testing
@testable import E2EE

/// A word filter: outgoing text with "forbidden" is rejected, "secret" is
/// replaced, "smuggle" is replaced by a reserved (group control) prefix;
/// incoming text with "spam" is held. Records every review.
final class WordPolicy: ContentPolicy {
    struct Review: Equatable {
        let outgoing: Bool
        let plaintext: [UInt8]
        let context: ContentContext
    }

    private let log = Mutex<[Review]>([])
    var reviews: [Review] { log.withLock { $0 } }

    func review(outgoing plaintext: [UInt8], context: ContentContext) -> OutgoingVerdict {
        log.withLock { $0.append(Review(outgoing: true, plaintext: plaintext, context: context)) }
        let text = String(decoding: plaintext, as: UTF8.self)
        if text.contains("forbidden") { return .reject(reason: "forbidden word") }
        if text.contains("secret") { return .replace(with: Array(text.replacing("secret", with: "[redacted]").utf8)) }
        if text.contains("smuggle") { return .replace(with: [0x01, 0x06] + plaintext) }
        return .allow
    }

    func review(incoming plaintext: [UInt8], context: ContentContext) -> IncomingVerdict {
        log.withLock { $0.append(Review(outgoing: false, plaintext: plaintext, context: context)) }
        return String(decoding: plaintext, as: UTF8.self).contains("spam") ? .hold(reason: "looks like spam") : .allow
    }
}

/// A device whose manager has a ``WordPolicy``.
private struct Moderated {
    let device: Device
    let policy = WordPolicy()
    let manager: SessionManager
    var address: ProtocolAddress { device.address }
    var store: MemoryStore { device.store }

    init(_ user: String) throws {
        device = try Device(user)
        manager = try SessionManager(store: device.store, localAddress: device.address, contentPolicy: policy)
    }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("Content policy (seed 002: scanned on the device)")
struct ContentPolicyTests {
    /// Alice (moderated) and Bob with a session both ways.
    private func pair() throws -> (Moderated, Device) {
        let alice = try Moderated("alice"), bob = try Device("bob")
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        try bob.manager.receive(alice.manager.encrypt(bytes("hi"), to: bob.address), from: alice.address)
        try alice.manager.receive(bob.send("hi", to: alice.device), from: bob.address)
        return (alice, bob)
    }

    private func sessionBytes(_ store: MemoryStore, _ address: ProtocolAddress) throws -> [UInt8]? {
        try store.loadSessions(for: address)?.serialized()
    }

    @Test func outgoingRejectChangesNothing() throws {
        let (alice, bob) = try pair()
        let before = try sessionBytes(alice.store, bob.address)
        #expect(throws: MessagingError.rejectedByPolicy(reason: "forbidden word")) {
            try alice.manager.encrypt(bytes("a forbidden text"), to: bob.address)
        }
        #expect(throws: MessagingError.rejectedByPolicy(reason: "forbidden word")) {
            try alice.manager.encrypt(bytes("forbidden"), toUser: "bob")
        }
        #expect(throws: MessagingError.rejectedByPolicy(reason: "forbidden word")) {
            try alice.manager.encrypt(bytes("forbidden"), to: [bob.address])
        }
        #expect(try sessionBytes(alice.store, bob.address) == before)
        // The next message is the one Bob gets next: no key was spent on the rejected ones.
        let next = try alice.manager.encrypt(bytes("fine"), to: bob.address)
        #expect(try bob.manager.receive(next, from: alice.address) == bytes("fine"))
        let outgoing = alice.policy.reviews.filter(\.outgoing)
        #expect(outgoing.map(\.context) == Array(repeating: ContentContext(peers: [bob.address]), count: 5))
    }

    @Test func outgoingReplaceSendsTheReplacement() throws {
        let (alice, bob) = try pair()
        let m = try alice.manager.encrypt(bytes("my secret plan"), to: bob.address)
        #expect(try bob.manager.receive(m, from: alice.address) == bytes("my [redacted] plan"))
        // A replacement may not turn into a group control message: refused, nothing changed.
        let before = try sessionBytes(alice.store, bob.address)
        #expect(throws: MessagingError.reservedPlaintext) { try alice.manager.encrypt(bytes("smuggle"), to: bob.address) }
        #expect(try sessionBytes(alice.store, bob.address) == before)
    }

    @Test func incomingHoldAdvancesTheRatchetAndKeepsTheMessage() throws {
        let (alice, bob) = try pair()
        let spam = try bob.send("buy spam now", to: alice.device)
        let ok = try bob.send("see you", to: alice.device)
        #expect(try alice.manager.receive(spam, from: bob.address) == .held(bytes("buy spam now"), reason: "looks like spam"))
        // Received for good: a redelivery is a duplicate, and the next message opens.
        #expect(throws: MessagingError.decrypt(.duplicate(index: 1))) { try alice.manager.receive(spam, from: bob.address) }
        #expect(try alice.manager.receive(ok, from: bob.address) == bytes("see you"))
        let inbox = try alice.store.inboundMessages(after: 0, limit: 10)
        #expect(inbox.map(\.plaintext) == [bytes("hi"), bytes("buy spam now"), bytes("see you")])
        #expect(inbox.map(\.heldReason) == [nil, "looks like spam", nil])
        #expect(inbox.map(\.isHeld) == [false, true, false])
        let incoming = alice.policy.reviews.filter { !$0.outgoing }
        #expect(incoming.map(\.context).allSatisfy { $0 == ContentContext(peers: [bob.address]) })
        #expect(Received.held(bytes("x"), reason: "r").plaintext == nil)
    }

    @Test func batchedReceiveHoldsLikeSingleReceives() throws {
        let (alice, bob) = try pair()
        let texts = ["one", "spam two", "three", "spam four"]
        let queue = try texts.map { (message: try bob.send($0, to: alice.device), from: bob.address) }
        let results = alice.manager.receive(batch: queue + [queue[1]], commitEvery: 2)
        #expect(try results.dropLast().map { try $0.get() } == [
            .message(bytes("one")), .held(bytes("spam two"), reason: "looks like spam"),
            .message(bytes("three")), .held(bytes("spam four"), reason: "looks like spam"),
        ])
        #expect(results.last == .failure(.decrypt(.duplicate(index: 2))))
        let inbox = try alice.store.inboundMessages(after: 1, limit: 10)
        #expect(inbox.map(\.heldReason) == [nil, "looks like spam", nil, "looks like spam"])
    }

    @Test func groupsAreReviewedButControlMessagesNeverAre() throws {
        let alice = try Moderated("alice"), bob = try Moderated("bob"), carol = try Device("carol")
        // Sessions everywhere, then a group of three created by carol.
        for (a, b) in [(alice.manager, bob.manager), (alice.manager, carol.manager), (bob.manager, carol.manager)] {
            try a.startSession(with: b.localAddress, bundle: b.publishBundle())
            try b.receive(a.encrypt(bytes("hi"), to: b.localAddress), from: a.localAddress)
            try a.receive(b.encrypt(bytes("hi"), to: a.localAddress), from: b.localAddress)
        }
        let managers = [alice.manager, bob.manager, carol.manager]
        func deliver(_ out: [(address: ProtocolAddress, message: [UInt8])], from sender: SessionManager) throws {
            for (to, m) in out { try managers.first { $0.localAddress == to }!.receive(m, from: sender.localAddress) }
        }
        let (id, created) = try carol.manager.createGroup(members: [alice.address, bob.address])
        try deliver(created, from: carol.manager)
        for m in [alice.manager, bob.manager] { try deliver(try m.sendPendingDistributions(in: id).messages, from: m) }

        // Outgoing: rejected before anything changes, replaced, allowed.
        let chain = try alice.store.loadGroup(id)?.serialized()
        #expect(throws: MessagingError.rejectedByPolicy(reason: "forbidden word")) {
            try alice.manager.groupEncrypt(bytes("forbidden"), to: id)
        }
        #expect(try alice.store.loadGroup(id)?.serialized() == chain)
        let redacted = try alice.manager.groupEncrypt(bytes("the secret"), to: id)
        #expect(try carol.manager.groupDecrypt(redacted, in: id, from: alice.address) == .message(bytes("the [redacted]")))
        #expect(alice.policy.reviews.last?.context == ContentContext(peers: [bob.address, carol.address], group: id))

        // Incoming: held (single, backlog, batch), the chain still advancing.
        let spam = try carol.manager.groupEncrypt(bytes("spam!"), to: id)
        let fine = try carol.manager.groupEncrypt(bytes("fine"), to: id)
        #expect(try alice.manager.groupDecrypt(spam, in: id, from: carol.address) == .held(bytes("spam!"), reason: "looks like spam"))
        #expect(throws: MessagingError.self) { try alice.manager.groupDecrypt(spam, in: id, from: carol.address) }
        #expect(try alice.manager.groupDecrypt(fine, in: id, from: carol.address) == .message(bytes("fine")))
        let backlog = try bob.manager.groupDecryptBacklog([redacted, spam, fine], in: id, from: carol.address)
        #expect(backlog.map { try? $0.get() } == [nil, .held(bytes("spam!"), reason: "looks like spam"), .message(bytes("fine"))])
        let more = try carol.manager.groupEncrypt(bytes("more spam"), to: id)
        #expect(try alice.manager.receive(batch: [(more, carol.address)]).map { try $0.get() }
                == [.held(bytes("more spam"), reason: "looks like spam")])
        #expect(try alice.store.inboundMessages(after: 0, limit: 100).filter(\.isHeld).map(\.plaintext)
                == [bytes("spam!"), bytes("more spam")])
        #expect(bob.policy.reviews.last { !$0.outgoing }?.context == ContentContext(peers: [carol.address], group: id))

        // Roster updates and distributions (they carry chain keys) never reach the policy.
        for policy in [alice.policy, bob.policy] {
            #expect(policy.reviews.allSatisfy { !GroupControl.isReserved($0.plaintext) })
        }
        #expect(alice.policy.reviews.filter { !$0.outgoing }.count == 5)   // hi, hi, spam!, fine, more spam
    }
}
