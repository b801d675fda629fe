import CBenchRaw
import E2EE

// Sessions: each figure next to the raw cost of the primitives the operation
// cannot avoid (the same libsodium/libb2 calls, made directly), so the ratio is
// what the protocol machinery — parsing, state handling, copies — adds.

func sessionComparisons() -> [Comparison] {
    [
        Comparison(SetupRows.pq, ours: { try SessionSetupOurs(.pqxdh) }, baseline: { try SessionSetupRaw(.pqxdh) }),
        Comparison(SetupRows.classical, ours: { try SessionSetupOurs(.x3dh) }, baseline: { try SessionSetupRaw(.x3dh) }),
        Comparison(SetupRows.pqVsClassical, ours: { try SessionSetupOurs(.pqxdh) }, baseline: { try SessionSetupOurs(.x3dh) }),
        Comparison(SetupRows.rawKEM, ours: { try KEMSetupRaw(.setup) }, baseline: { try KEMSetupRaw(.encapsDecaps) }),
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

/// The setup rows' names: ``setupFigures(_:)`` finds its rows by them.
enum SetupRows {
    static let pq = "session setup PQXDH (bundle → first message → recipient session)"
    static let classical = "session setup X3DH (classical bundle, allowClassical)"
    static let pqVsClassical = "session setup PQXDH vs X3DH (same pair, both kinds)"
    static let rawKEM = "raw KEM cost of a PQXDH setup (expand + parse + encaps + decaps)"
    static let kemSignature = "KEM prekey signature check in a PQXDH setup (Ed25519 verify, 1569 B)"
}

/// What PQXDH adds to a setup, from the medians of the rows above (the issue's
/// target: at most 1.25 × the raw KEM cost). Empty unless both rows ran.
func setupFigures(_ results: [RowResult]) -> [DerivedFigure] {
    guard let pair = results.first(where: { $0.name == SetupRows.pqVsClassical }),
          let kem = results.first(where: { $0.name == SetupRows.rawKEM }) else { return [] }
    let signature = results.first { $0.name == SetupRows.kemSignature }
    let extra = pair.ours.median - pair.baseline.median
    // Each repetition of the two pairs ran back to back: steadier on a noisy machine.
    let pairedExtra = Stats.median(zip(pair.ours.nsPerOp, pair.baseline.nsPerOp).map { $0 - $1 })
    return [
        DerivedFigure("setup pair PQXDH − X3DH, difference of medians", extra, .ns),
        DerivedFigure("setup pair PQXDH − X3DH, paired (median of back-to-back differences)", pairedExtra, .ns),
        DerivedFigure("raw KEM cost of a setup (expand from seed + parse + encaps + decaps)", kem.ours.median, .ns),
        DerivedFigure("raw encaps + decaps", kem.baseline.median, .ns),
        DerivedFigure("(PQXDH − X3DH) / raw KEM cost (target ≤ 1.25)", extra / kem.ours.median, .ratio),
        DerivedFigure("(PQXDH − X3DH) paired / raw KEM cost", pairedExtra / kem.ours.median, .ratio),
        DerivedFigure("(PQXDH − X3DH) / (encaps + decaps), for information", extra / kem.baseline.median, .ratio),
        DerivedFigure("PQXDH − X3DH beyond the raw KEM cost", extra - kem.ours.median, .ns),
    ] + (signature.map { sig in [
        DerivedFigure("of which the KEM prekey signature check (its row's median)", sig.ours.median, .ns),
        DerivedFigure("(PQXDH − X3DH − KEM signature check) / raw KEM cost", (extra - sig.ours.median) / kem.ours.median, .ratio),
    ] } ?? [])
}

/// Facts printed under the table and written to the JSON: record and message sizes.
func sessionFacts() throws -> [(String, Int)] {
    var p = try SessionPair()
    let freshInitiator = p.alice.serialized().count
    let freshRecipient = p.bob.serialized().count
    // 1000 messages Bob never sees, then one he does: he stores 1000 skipped keys.
    for _ in 0..<1000 { _ = try p.alice.encrypt([1]) }
    _ = try p.bob.decrypt(try p.alice.encrypt([2]))
    var facts = [("session record, fresh initiator (bytes)", freshInitiator),
                 ("session record, fresh recipient (bytes)", freshRecipient),
                 ("session record, 1000 skipped keys (bytes)", p.bob.serialized().count)]
    // Wire and record sizes of both setup kinds, 100 B plaintexts.
    let pt = FillerBytes.bytes(Sizes.small, seed: 27)
    for kind in [SetupKind.x3dh, .pqxdh] {
        let f = SetupFixture(kind)
        let r = try f.once(pt)
        var alice = r.alice, bob = r.bob
        let label = kind == .pqxdh ? "PQXDH" : "X3DH"
        facts.append(("prekey bundle, \(kind == .pqxdh ? "post-quantum (KEM prekey)" : "classical"), with one-time prekey (bytes)",
                      f.bundle.count))
        facts.append(("first message, \(kind == .pqxdh ? "PQPreKeyMessage" : "PreKeyMessage") (\(label)), 100 B plaintext (bytes)",
                      r.first.count))
        facts.append(("session record, initiator awaiting a reply, \(label), sealed (bytes)",
                      sealedSessionRecordSize(SessionSet(current: alice))))
        if kind == .pqxdh {
            _ = try alice.decrypt(try bob.encrypt(pt))
            facts.append(("RatchetMessage, 100 B plaintext (bytes)", try alice.encrypt(pt).count))
        }
    }
    return facts
}

/// Alice and Bob after Bob accepted Alice's first message. Set up the default
/// way, PQXDH with Bob's last-resort KEM prekey, as the rows that use it run.
struct SessionPair {
    var alice: Session
    var bob: Session

    init() throws {
        var account = Account()
        account.generateOneTimePreKeys(count: 1)
        alice = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: account.publishBundle().serialized)
        (bob, _) = try account.acceptSession(from: try alice.encrypt([0]))
        // One reply so that Alice sends RatchetMessages (the steady state).
        _ = try alice.decrypt(try bob.encrypt([0]))
    }
}

// MARK: - Setup

enum SetupKind {
    /// The default: a bundle with a KEM prekey (here a one-time one).
    case pqxdh
    /// A classical bundle, both sides allowing classical setup.
    case x3dh
}

/// What one setup consumes: a recipient account whose bundle offers a
/// one-time prekey (and, for PQXDH, a one-time KEM prekey, kept as a seed and
/// expanded per first message; the classical bundle leaves it unused), the
/// bundle's bytes and an initiator identity.
struct SetupFixture {
    let kind: SetupKind
    let account: Account
    let bundle: [UInt8]
    let identity = IdentityKey.PrivateKey()

    init(_ kind: SetupKind) {
        self.kind = kind
        var a = Account()
        a.generateOneTimePreKeys(count: 1)
        a.generateOneTimeKEMPreKeys(count: 1)
        bundle = (kind == .pqxdh ? a.publishBundle() : a.publishClassicalBundle()).serialized
        account = a
    }

    /// Initiate from the bundle's bytes, encrypt the first message, accept it
    /// on a copy of the account (whose one-time prekeys it consumes).
    @inline(__always)
    func once(_ plaintext: [UInt8]) throws -> (alice: Session, bob: Session, first: [UInt8], plaintext: [UInt8]) {
        let classical = kind == .x3dh
        var alice = try Session.initiate(identity: identity, bundle: bundle, allowClassical: classical)
        var account = account
        let first = try alice.encrypt(plaintext)
        let (bob, pt) = try account.acceptSession(from: first, allowClassical: classical)
        return (alice, bob, first, pt)
    }
}

final class SessionSetupOurs: BenchCase {
    let name: String
    private let f: SetupFixture
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 21)

    init(_ kind: SetupKind) throws {
        name = kind == .pqxdh ? "ours: initiate + encrypt + acceptSession, PQXDH"
            : "ours: initiate + encrypt + acceptSession, X3DH (allowClassical)"
        f = SetupFixture(kind)
    }

    func run(iterations: Int) throws -> UInt64 {
        let f = f, pt = plaintext
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= UInt64(try f.once(pt).plaintext[0])
        }
        return acc
    }
}

/// The libsodium/libb2 calls a setup cannot avoid: bundle signature check and
/// identity-key validation, 11 X25519, 3 key generations, 2 Ed25519→X25519 maps,
/// the KDFs, one seal and one open. PQXDH adds the KEM prekey's signature
/// check (over its 1569 encoded bytes), its binding hash on each side and the
/// swift-crypto calls of ``KEMSetupRaw`` (expand, parse, encaps, decaps).
final class SessionSetupRaw: BenchCase {
    let name: String
    private let sig, signed, edPub, xPriv, xPub, out, kdf, aead: RawBuffer
    private let kemSig, kemSigned, personal, salt: RawBuffer
    private let msg: MessageRaw
    private let kem: KEMSetupRaw?

    init(_ kind: SetupKind) throws {
        name = kind == .pqxdh
            ? "raw: X3DH's + KEM sig verify, 2 KEM binds, ML-KEM expand+parse+encaps+decaps"
            : "raw: 1 verify, 2 point checks, 11 DH, 3 keygen, 2 maps, KDFs, seal+open"
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
        kemSigned = RawBuffer(try kemSignedMessage())
        kemSig = RawBuffer(id.signature(for: kemSigned.array))
        personal = RawBuffer(Array("E2EEv1 kem bind\0".utf8))
        salt = RawBuffer(count: 16)
        kem = kind == .pqxdh ? try KEMSetupRaw(.setup) : nil
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
            if let kem {
                rc |= crypto_sign_verify_detached(kemSig.pointer, kemSigned.pointer, UInt64(kemSigned.count),
                                                  edPub.pointer)
                // BLAKE2b(EncodeKEM(KEM_pub), 32, "E2EEv1 kem bind"), on each side.
                for _ in 0..<2 {
                    rc |= crypto_generichash_blake2b_salt_personal(kdf.pointer, 32, kemSigned.pointer,
                                                                   UInt64(kemSigned.count), nil, 0,
                                                                   salt.pointer, personal.pointer)
                }
                acc &+= try kem.run(iterations: 1)
            }
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
