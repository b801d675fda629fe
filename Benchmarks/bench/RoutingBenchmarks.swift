import E2EE

// A forged message against a peer's 41 sessions (current + 40 archived): the
// work it can cause, next to a genuine message of the same kind (one that also
// brings a new ratchet key) decrypted by the same set. Issue 11 bounds the
// ratio at 50×; before routing, the forged message was tried by all 41
// sessions, each storing up to 2000 keys and doing three X25519.

func routingComparisons() -> [Comparison] {
    [
        Comparison("forged message, 41 sessions, worst case (fresh key, PN = Nr+1000, N = 1000)",
                   ours: { try SetDecrypt(.forgedRatchet) }, baseline: { try SetDecrypt(.genuineReply) }),
        Comparison("forged reply, 41 sessions awaiting one, all try (PN = 0, N = 24)",
                   ours: { try SetDecrypt(.forgedFirstReply) }, baseline: { try SetDecrypt(.genuineFirstReply) }),
        Comparison("forged message vs an in-chain genuine decrypt, 41 sessions",
                   ours: { try SetDecrypt(.forgedRatchet) }, baseline: { try SetDecrypt(.genuineInChain) }),
    ]
}

/// One message decrypted by a copy of a 41-session set, each iteration.
final class SetDecrypt: BenchCase {
    enum Shape { case forgedRatchet, genuineReply, genuineInChain, forgedFirstReply, genuineFirstReply }

    let name: String
    private let set: SessionSet
    private let account: Account
    private let message: [UInt8]
    private let genuine: Bool

    init(_ shape: Shape) throws {
        switch shape {
        case .forgedRatchet, .genuineReply, .genuineInChain:
            // The recipient's side: 41 sessions, each with a DH step both ways.
            var recipient = Account()
            var set = SessionSet()
            var last: Session?
            let identity = IdentityKey.PrivateKey()
            for _ in 0...40 {
                var a = try Session.initiate(identity: identity, bundle: recipient.publishBundle())
                _ = try set.decrypt(a.encrypt([1]), account: &recipient)
                _ = try a.decrypt(set.encrypt([2]))
                _ = try set.decrypt(a.encrypt([3]), account: &recipient)
                last = a
            }
            var a = last!
            switch shape {
            case .forgedRatchet:
                // The current session has received one message on its chain (Nr = 1).
                message = Self.forged(previousCounter: 1 + Limits.maxSkip, counter: Limits.maxSkip)
                name = "ours: forged, tried by one session"
            case .genuineInChain:
                message = try a.encrypt(FillerBytes.bytes(Sizes.small, seed: 61))
                name = "genuine message on a known chain"
            default:
                _ = try a.decrypt(set.encrypt([4]))
                message = try a.encrypt(FillerBytes.bytes(Sizes.small, seed: 62))
                name = "genuine reply (new ratchet key)"
            }
            self.set = set
            account = recipient
        case .forgedFirstReply, .genuineFirstReply:
            // The initiator's side: 41 sessions started, none answered yet.
            let identity = IdentityKey.PrivateKey()
            var recipient = Account()
            var set = SessionSet()
            var firstMessage = [UInt8]()
            for _ in 0...40 {
                var s = try Session.initiate(identity: identity, bundle: recipient.publishBundle())
                firstMessage = try s.encrypt([1])
                set.promote(s)
            }
            if shape == .forgedFirstReply {
                // As far into a chain as lets all 41 sessions try within the shared budget.
                message = Self.forged(previousCounter: 0, counter: Limits.maxSkip / 40 - 1)
                name = "ours: forged, tried by each awaiting session"
            } else {
                var (bob, _) = try recipient.acceptSession(from: firstMessage)
                message = try bob.encrypt(FillerBytes.bytes(Sizes.small, seed: 63))
                name = "genuine first reply"
            }
            self.set = set
            account = Account(identity: identity)
        }
        genuine = shape == .genuineReply || shape == .genuineInChain || shape == .genuineFirstReply
        var copy = set, a = account
        let ok = (try? copy.decrypt(message, account: &a)) != nil
        guard ok == genuine else { throw BenchError.wrongResult("\(shape): decrypted \(ok)") }
    }

    private static func forged(previousCounter: UInt32, counter: UInt32) -> [UInt8] {
        var out: [UInt8] = [WireMessage.version, MessageType.ratchet.rawValue]
        out += X25519.PrivateKey().publicKey.rawRepresentation
        for v in [previousCounter, counter] {
            out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        return out + FillerBytes.bytes(4 + Sizes.small + 16, seed: 64)
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            var s = set, a = account
            if let pt = try? s.decrypt(message, account: &a) { acc &+= UInt64(pt[0]) } else { acc &+= 1 }
        }
        return acc
    }
}
