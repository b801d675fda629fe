import CBenchRaw
import E2EE

// Sender-key groups. Encrypt/decrypt sit next to their primitive floor
// (KDF_GK step, ChaCha20-Poly1305, Ed25519 sign or verify); backlogs and
// fan-outs next to the same work done one message at a time.

func groupComparisons() -> [Comparison] {
    [
        Comparison("group encrypt 100 B", ours: { try GroupEncryptOurs() }, baseline: { try GroupMessageRaw(open: false) }),
        Comparison("group decrypt 100 B", ours: { try GroupDecryptOurs() }, baseline: { try GroupMessageRaw(open: true) }),
        Comparison("group backlog 10,000 × 100 B, batched automatic (per message)", kind: .speedup,
                   ours: { try GroupBacklog(batched: true, parallelism: .automatic) },
                   baseline: { try GroupBacklog(batched: false, parallelism: .serial) }),
        Comparison("group backlog 10,000 × 100 B, batched serial (per message)", kind: .speedup,
                   ours: { try GroupBacklog(batched: true, parallelism: .serial) },
                   baseline: { try GroupBacklog(batched: false, parallelism: .serial) }),
        Comparison("distribution fan-out to 100 members", kind: .speedup,
                   ours: { try FanOutDistribution(members: 100, batched: true) },
                   baseline: { try FanOutDistribution(members: 100, batched: false) }),
        Comparison("distribution fan-out to 1000 members", kind: .speedup,
                   ours: { try FanOutDistribution(members: 1000, batched: true) },
                   baseline: { try FanOutDistribution(members: 1000, batched: false) }),
        Comparison("rotation after a removal, 100-member group", ours: { try Rotation() },
                   baseline: { try FanOutDistribution(members: 99, batched: false) }),
    ]
}

/// Two members that exchanged distributions.
struct GroupPair {
    var sender: GroupSession
    var receiver: GroupSession
    static let senderAddress = ProtocolAddress(userID: "sender", deviceID: 1)
    static let receiverAddress = ProtocolAddress(userID: "receiver", deviceID: 1)

    /// The sender creates the group; the receiver joins from its invitation and
    /// stores the sender's chain, as over pairwise sessions.
    init() throws {
        let senderKey = IdentityKey.PrivateKey().publicKey, receiverKey = IdentityKey.PrivateKey().publicKey
        sender = try GroupSession(local: Self.senderAddress, identity: senderKey,
                                  members: [GroupMember(address: Self.receiverAddress, identityKey: receiverKey)])
        receiver = try GroupSession(invitation: sender.snapshot, from: Self.senderAddress, senderIdentity: senderKey,
                                    local: Self.receiverAddress, identity: receiverKey)
        try receiver.process(sender.distribution, from: Self.senderAddress, identity: senderKey)
    }
}

final class GroupEncryptOurs: BenchCase {
    let name = "ours: GroupSession.encrypt"
    private var pair: GroupPair
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 41)

    init() throws { pair = try GroupPair() }

    func run(iterations: Int) throws -> UInt64 {
        var s = pair.sender
        let pt = plaintext
        var acc: UInt64 = 0
        for _ in 0..<iterations { acc &+= UInt64(try s.encrypt(pt).last!) }
        pair.sender = s
        return acc
    }
}

final class GroupDecryptOurs: BenchCase {
    let name = "ours: GroupSession.decrypt (in order)"
    private let receiver: GroupSession
    private let message: [UInt8]

    init() throws {
        var pair = try GroupPair()
        message = try pair.sender.encrypt(FillerBytes.bytes(Sizes.small, seed: 42))
        receiver = pair.receiver
    }

    func run(iterations: Int) throws -> UInt64 {
        let template = receiver, m = message
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            var r = template     // the next in-order message, each time from the same state
            acc &+= UInt64(try r.decrypt(m, from: GroupPair.senderAddress)[0])
        }
        return acc
    }
}

/// KDF_GK-shaped step (libb2) + ChaCha20-Poly1305 of 100 B + Ed25519 sign or verify.
final class GroupMessageRaw: BenchCase {
    let name: String
    private let opening: Bool
    private let message: MessageRaw
    private let key: RawSigningKey
    private let signed, sig: RawBuffer

    init(open: Bool) throws {
        opening = open
        name = open ? "raw: KDF step + decrypt + crypto_sign_verify_detached" : "raw: KDF step + encrypt + crypto_sign_detached"
        message = try MessageRaw(size: Sizes.small, open: open)
        key = try RawSigningKey()
        signed = RawBuffer(count: 26 + Sizes.small + AEADv1.overhead)
        sig = RawBuffer(count: 64)
        _ = crypto_sign_detached(sig.pointer, nil, signed.pointer, UInt64(signed.count), key.secretKey.pointer)
    }

    func run(iterations: Int) throws -> UInt64 {
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= try message.run(iterations: 1)
            if opening {
                rc |= crypto_sign_verify_detached(sig.pointer, signed.pointer, UInt64(signed.count), key.publicKey.pointer)
            } else {
                rc |= crypto_sign_detached(sig.pointer, nil, signed.pointer, UInt64(signed.count), key.secretKey.pointer)
            }
        }
        guard rc == 0 else { throw BenchError.rawFailure("Ed25519") }
        return acc
    }
}

/// A device coming online to 10,000 queued messages from one sender chain.
final class GroupBacklog: BenchCase {
    let name: String
    let opsPerIteration = 10_000
    private let receiver: GroupSession
    private let messages: [[UInt8]]
    private let batched: Bool
    private let parallelism: AEADv1.Parallelism

    init(batched: Bool, parallelism: AEADv1.Parallelism) throws {
        self.batched = batched
        self.parallelism = parallelism
        name = batched ? "ours" : "ours: 10,000 × GroupSession.decrypt"
        var pair = try GroupPair()
        let pt = FillerBytes.bytes(Sizes.small, seed: 43)
        messages = try (0..<10_000).map { _ in try pair.sender.encrypt(pt) }
        receiver = pair.receiver
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            var r = receiver
            if batched {
                for case .success(let pt) in r.decryptBacklog(messages, from: GroupPair.senderAddress, parallelism: parallelism) {
                    acc &+= UInt64(pt[0])
                }
            } else {
                for m in messages { acc &+= UInt64(try r.decrypt(m, from: GroupPair.senderAddress)[0]) }
            }
        }
        return acc
    }
}

/// A manager with pairwise sessions to `members` devices (MemoryStore, so the
/// figure is CPU, not disk).
final class FanOutDistribution: BenchCase {
    let name: String
    private let manager: SessionManager
    private let addresses: [ProtocolAddress]
    private let batched: Bool
    private let distribution: [UInt8]

    init(members: Int, batched: Bool) throws {
        self.batched = batched
        name = batched ? "ours: encrypt(_:to: [address])" : "\(members) × encrypt(_:to:)"
        let store = MemoryStore()
        try SessionManager.createAccount(store: store)
        manager = try SessionManager(store: store, localAddress: ProtocolAddress(userID: "me", deviceID: 1))
        var peer = Account()
        peer.generateOneTimePreKeys(count: 1)
        let bundle = peer.publishBundle()
        addresses = (0..<members).map { ProtocolAddress(userID: "member\($0)", deviceID: 1) }
        for a in addresses { try manager.startSession(with: a, bundle: bundle) }
        // As many bytes as a distribution (whose own bytes are reserved for the group layer).
        distribution = [0] + FillerBytes.bytes(SenderKeyDistribution.byteCount - 1, seed: 45)
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            if batched {
                for (_, m) in try manager.encrypt(distribution, to: addresses) { acc &+= UInt64(m.last!) }
            } else {
                for a in addresses { acc &+= UInt64(try manager.encrypt(distribution, to: a).last!) }
            }
        }
        return acc
    }
}

/// Removing a member of a 100-member group: the roster update to all 100,
/// delete their chains, rotate, and the new distribution to the 99 others
/// (then re-add: the update to all 100 and our chain to the one re-added).
final class Rotation: BenchCase {
    let name = "ours: removeMember → 100 updates + 99 distributions (+ re-add)"
    private let manager: SessionManager
    private let group: DistributionID
    private let leaving = ProtocolAddress(userID: "member0", deviceID: 1)

    init() throws {
        let store = MemoryStore()
        try SessionManager.createAccount(store: store)
        manager = try SessionManager(store: store, localAddress: ProtocolAddress(userID: "me", deviceID: 1))
        var peer = Account()
        peer.generateOneTimePreKeys(count: 1)
        let bundle = peer.publishBundle()
        let addresses = (0..<100).map { ProtocolAddress(userID: "member\($0)", deviceID: 1) }
        for a in addresses { try manager.startSession(with: a, bundle: bundle) }
        group = try manager.createGroup(members: addresses).id
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= UInt64(try manager.removeMember(leaving, from: group).count)
            acc &+= UInt64(try manager.addMembers([leaving], to: group).count)
        }
        return acc
    }
}

/// The share of a one-by-one backlog spent in Ed25519 verification.
func groupFacts() throws -> [(String, Int)] {
    let key = try RawSigningKey()
    let signed = RawBuffer(count: 26 + Sizes.small + AEADv1.overhead)
    let sig = RawBuffer(count: 64)
    _ = crypto_sign_detached(sig.pointer, nil, signed.pointer, UInt64(signed.count), key.secretKey.pointer)
    func median(_ body: () throws -> Void) rethrows -> Double {
        var times = [Double]()
        for _ in 0..<5 {
            let t0 = monotonicNs()
            try body()
            times.append(Double(monotonicNs() - t0))
        }
        return Stats.median(times)
    }
    let n = 2000
    let verify = median {
        for _ in 0..<n { _ = crypto_sign_verify_detached(sig.pointer, signed.pointer, UInt64(signed.count), key.publicKey.pointer) }
    } / Double(n)
    var pair = try GroupPair()
    let pt = FillerBytes.bytes(Sizes.small, seed: 44)
    let messages = try (0..<n).map { _ in try pair.sender.encrypt(pt) }
    let receiver = pair.receiver
    let oneByOne = try median {
        var r = receiver
        for m in messages { _ = try r.decrypt(m, from: GroupPair.senderAddress) }
    } / Double(n)
    return [("group decrypt: share of one-by-one time in Ed25519 verification (%)", Int((100 * verify / oneByOne).rounded()))]
}
