import CBenchRaw
import E2EE

// Sessions: each figure next to the raw cost of the primitives the operation
// cannot avoid (the same libsodium/libb2 calls, made directly), so the ratio is
// what the protocol machinery — parsing, state handling, copies — adds.

func sessionComparisons() -> [Comparison] {
    [
        Comparison("session setup (bundle → first message → recipient session)",
                   ours: { try SessionSetupOurs() }, baseline: { try SessionSetupRaw() }),
        Comparison("session encrypt 100 B", ours: { try SessionEncryptOurs(size: Sizes.small) },
                   baseline: { try MessageRaw(size: Sizes.small, open: false) }),
        Comparison("session decrypt 100 B", ours: { try SessionDecryptOurs(size: Sizes.small) },
                   baseline: { try MessageRaw(size: Sizes.small, open: true) }),
        Comparison("session encrypt 16 KiB", ours: { try SessionEncryptOurs(size: Sizes.large) },
                   baseline: { try MessageRaw(size: Sizes.large, open: false) }),
        Comparison("session decrypt 16 KiB", ours: { try SessionDecryptOurs(size: Sizes.large) },
                   baseline: { try MessageRaw(size: Sizes.large, open: true) }),
        Comparison("ping-pong round trip (a DH ratchet each way)",
                   ours: { try PingPongOurs() }, baseline: { try PingPongRaw() }),
        Comparison("session serialise + load", ours: { try SessionRecordOurs() },
                   baseline: { try RecordCopyRaw() }),
    ]
}

/// Facts printed under the table and written to the JSON: record sizes.
func sessionFacts() throws -> [(String, Int)] {
    var p = try SessionPair()
    let freshInitiator = p.alice.serialized().count
    let freshRecipient = p.bob.serialized().count
    // 1000 messages Bob never sees, then one he does: he stores 1000 skipped keys.
    for _ in 0..<1000 { _ = try p.alice.encrypt([1]) }
    _ = try p.bob.decrypt(try p.alice.encrypt([2]))
    return [("session record, fresh initiator (bytes)", freshInitiator),
            ("session record, fresh recipient (bytes)", freshRecipient),
            ("session record, 1000 skipped keys (bytes)", p.bob.serialized().count)]
}

/// Alice and Bob after Bob accepted Alice's first message.
struct SessionPair {
    var alice: Session
    var bob: Session
    var account: Account
    let bundle: [UInt8]
    let aliceIdentity: IdentityKey.PrivateKey

    init() throws {
        account = Account()
        account.generateOneTimePreKeys(count: 1)
        bundle = account.publishBundle().serialized
        aliceIdentity = IdentityKey.PrivateKey()
        alice = try Session.initiate(identity: aliceIdentity, bundle: bundle)
        let template = account
        (bob, _) = try account.acceptSession(from: try alice.encrypt([0]))
        account = template
        // One reply so that Alice sends RatchetMessages (the steady state).
        _ = try alice.decrypt(try bob.encrypt([0]))
    }
}

// MARK: - Setup

final class SessionSetupOurs: BenchCase {
    let name = "ours: initiate + encrypt + acceptSession"
    private let p: SessionPair
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 21)

    init() throws { p = try SessionPair() }

    func run(iterations: Int) throws -> UInt64 {
        let bundle = p.bundle, identity = p.aliceIdentity, template = p.account, pt = plaintext
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            var alice = try Session.initiate(identity: identity, bundle: bundle)
            var account = template   // the one-time prekey is consumed per iteration
            let (_, first) = try account.acceptSession(from: try alice.encrypt(pt))
            acc &+= UInt64(first[0])
        }
        return acc
    }
}

/// The libsodium/libb2 calls a setup cannot avoid: bundle signature check and
/// identity-key validation, 11 X25519, 3 key generations, 2 Ed25519→X25519 maps,
/// the KDFs, one seal and one open.
final class SessionSetupRaw: BenchCase {
    let name = "raw: 1 verify, 2 point checks, 11 DH, 3 keygen, 2 maps, KDFs, seal+open"
    private let sig, signed, edPub, xPriv, xPub, out, kdf, aead: RawBuffer
    private let msg: MessageRaw

    init() throws {
        let id = IdentityKey.PrivateKey()
        let spk = X25519.PrivateKey()
        signed = RawBuffer([0x05] + spk.publicKey.rawRepresentation)
        sig = RawBuffer(id.signature(for: signed.array))
        edPub = RawBuffer(id.publicKey.rawRepresentation)
        xPriv = RawBuffer(FillerBytes.bytes(32, seed: 22))
        xPub = RawBuffer(spk.publicKey.rawRepresentation)
        out = RawBuffer(count: 64)
        kdf = RawBuffer(count: 64)
        aead = RawBuffer(count: 64)
        msg = try MessageRaw(size: Sizes.small, open: true)
    }

    func run(iterations: Int) throws -> UInt64 {
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_sign_verify_detached(sig.pointer, signed.pointer, UInt64(signed.count), edPub.pointer)
            for _ in 0..<2 { rc |= crypto_core_ed25519_is_valid_point(edPub.pointer) == 1 ? 0 : 1 }
            for _ in 0..<2 { rc |= crypto_sign_ed25519_pk_to_curve25519(out.pointer, edPub.pointer) }
            for _ in 0..<3 { rc |= crypto_scalarmult_base(out.pointer, xPriv.pointer) }
            for _ in 0..<11 { rc |= crypto_scalarmult(out.pointer, xPriv.pointer, xPub.pointer) }
            // HKDF is two HMACs each side; KDF_RK thrice; a message each way.
            for _ in 0..<4 { rc |= crypto_auth_hmacsha512(kdf.pointer, out.pointer, 32, xPriv.pointer) }
            for _ in 0..<3 { rc |= bench_raw_kdf_rk(kdf.pointer, xPriv.pointer, out.pointer) }
            acc &+= try msg.run(iterations: 1) &+ MessageRaw.sealOnce(msg)
            acc &+= UInt64(out.pointer[0]) &+ UInt64(kdf.pointer[0]) &+ UInt64(aead.pointer[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("session setup primitives") }
        return acc
    }
}

// MARK: - One direction

final class SessionEncryptOurs: BenchCase {
    let name = "ours: Session.encrypt"
    private var p: SessionPair
    private let plaintext: [UInt8]

    init(size: Int) throws {
        p = try SessionPair()
        plaintext = FillerBytes.bytes(size, seed: 23)
    }

    func run(iterations: Int) throws -> UInt64 {
        var alice = p.alice
        let pt = plaintext
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let m = try alice.encrypt(pt)
            acc &+= UInt64(m[m.count - 1])
        }
        p.alice = alice
        return acc
    }
}

final class SessionDecryptOurs: BenchCase {
    let name = "ours: Session.decrypt (in order)"
    private let bob: Session
    private let message: [UInt8]

    init(size: Int) throws {
        var p = try SessionPair()
        // Bob first sees a message of Alice's current chain, so the timed
        // message is the next one on a chain he already follows.
        _ = try p.bob.decrypt(try p.alice.encrypt([1]))
        message = try p.alice.encrypt(FillerBytes.bytes(size, seed: 24))
        bob = p.bob
    }

    func run(iterations: Int) throws -> UInt64 {
        let template = bob, m = message
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            // The next in-order message, each time from the same state: one
            // KDF_CK step, parse, AD and open, exactly as a live receiver does.
            var b = template
            let pt = try b.decrypt(m)
            acc &+= UInt64(pt[pt.count - 1])
        }
        return acc
    }
}

/// One KDF_CK step and one ChaCha20-Poly1305 of the same size and AD (106 B):
/// the primitive floor of a message in an established session.
final class MessageRaw: BenchCase {
    let name: String
    private let size: Int
    private let opening: Bool
    private let ck, kdfOut, pt, ad, nonce, ct, out: RawBuffer

    init(size: Int, open: Bool) throws {
        let f = try AEADFixture(size: size, seed: Seeds.aead)
        name = open ? "raw: libb2 KDF_CK + chacha20poly1305 decrypt" : "raw: libb2 KDF_CK + chacha20poly1305 encrypt"
        self.size = size
        opening = open
        ck = RawBuffer(f.keyBytes)
        kdfOut = RawBuffer(count: 64)
        pt = RawBuffer(f.plaintext)
        ad = RawBuffer(f.associatedData)
        nonce = RawBuffer(f.nonce)
        ct = RawBuffer(f.rawCiphertext)
        out = RawBuffer(count: size + AEADv1.tagByteCount)
    }

    func run(iterations: Int) throws -> UInt64 {
        let ck = ck.pointer, k = kdfOut.pointer, pt = pt.pointer, ad = ad.pointer, adCount = UInt64(self.ad.count)
        let nonce = nonce.pointer, ct = ct.pointer, ctCount = UInt64(self.ct.count), out = out.pointer
        let ptCount = UInt64(size)
        var rc: Int32 = 0, n: UInt64 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= bench_raw_kdf_ck(k, ck)
            // The message key of a real step would be k + 32; the fixture's key keeps the tag valid.
            if opening {
                rc |= crypto_aead_chacha20poly1305_ietf_decrypt(out, &n, nil, ct, ctCount, ad, adCount, nonce, ck)
            } else {
                rc |= crypto_aead_chacha20poly1305_ietf_encrypt(out, &n, pt, ptCount, ad, adCount, nil, nonce, ck)
            }
            acc &+= UInt64(out[0]) &+ UInt64(k[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("KDF_CK + ChaCha20-Poly1305") }
        return acc
    }

    /// One seal of the fixture, for composite baselines.
    static func sealOnce(_ m: MessageRaw) -> UInt64 {
        var n: UInt64 = 0
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(m.out.pointer, &n, m.pt.pointer, UInt64(m.size), m.ad.pointer,
                                                      UInt64(m.ad.count), nil, m.nonce.pointer, m.ck.pointer)
        return UInt64(m.out.pointer[0])
    }
}

// MARK: - Ping-pong

final class PingPongOurs: BenchCase {
    let name = "ours: A→B, B→A, 100 B each"
    private var p: SessionPair
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 25)

    init() throws { p = try SessionPair() }

    func run(iterations: Int) throws -> UInt64 {
        var alice = p.alice, bob = p.bob
        let pt = plaintext
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let a = try bob.decrypt(try alice.encrypt(pt))
            let b = try alice.decrypt(try bob.encrypt(pt))
            acc &+= UInt64(a[0]) &+ UInt64(b[0])
        }
        p.alice = alice
        p.bob = bob
        return acc
    }
}

/// Per direction: the receiver's DH ratchet (2 X25519, 1 keygen, 2 KDF_RK), a
/// KDF_CK on each side, one seal and one open.
final class PingPongRaw: BenchCase {
    let name = "raw: 2×(2 DH, 1 keygen, 2 KDF_RK, 2 KDF_CK, seal, open)"
    private let priv, pub, out: RawBuffer
    private let open: MessageRaw

    init() throws {
        priv = RawBuffer(FillerBytes.bytes(32, seed: 26))
        pub = RawBuffer(X25519.PrivateKey().publicKey.rawRepresentation)
        out = RawBuffer(count: 64)
        open = try MessageRaw(size: Sizes.small, open: true)
    }

    func run(iterations: Int) throws -> UInt64 {
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            for _ in 0..<2 {
                rc |= crypto_scalarmult(out.pointer, priv.pointer, pub.pointer)
                rc |= crypto_scalarmult(out.pointer, priv.pointer, pub.pointer)
                rc |= crypto_scalarmult_base(out.pointer, priv.pointer)
                rc |= bench_raw_kdf_rk(out.pointer, priv.pointer, pub.pointer)
                rc |= bench_raw_kdf_rk(out.pointer, priv.pointer, pub.pointer)
                acc &+= try open.run(iterations: 1)        // KDF_CK + open
                acc &+= MessageRaw.sealOnce(open)
                rc |= bench_raw_kdf_ck(out.pointer, priv.pointer)
            }
            acc &+= UInt64(out.pointer[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("ping-pong primitives") }
        return acc
    }
}

// MARK: - Records

final class SessionRecordOurs: BenchCase {
    let name = "ours: Session.serialized() + Session(serialized:)"
    private let session: Session

    init() throws { session = try SessionPair().bob }

    func run(iterations: Int) throws -> UInt64 {
        let s = session
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let loaded = try Session(serialized: s.serialized())
            acc &+= UInt64(loaded.remoteIdentity.rawRepresentation[0])
        }
        return acc
    }
}

/// Copying the record's bytes into a fresh array: the floor of any load.
final class RecordCopyRaw: BenchCase {
    let name = "raw: copy of the record bytes"
    private let record: RawBuffer

    init() throws { record = RawBuffer(try SessionPair().bob.serialized()) }

    func run(iterations: Int) throws -> UInt64 {
        let r = record
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let copy = Array(UnsafeBufferPointer(start: r.pointer, count: r.count))
            acc &+= UInt64(copy[copy.count - 1])
        }
        return acc
    }
}
