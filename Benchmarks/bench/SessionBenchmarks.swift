import CBenchRaw
import E2EE

// Sessions: each figure next to the raw cost of the primitives the operation
// cannot avoid (the same libsodium/libb2 calls, made directly), so the ratio is
// what the protocol machinery — parsing, state handling, copies — adds.

func sessionComparisons() -> [Comparison] {
    [
        Comparison(SetupRows.pq, ours: { try SessionSetupOurs(.pqxdh) }, baseline: { try SessionSetupRaw(.pqxdh) }),
        Comparison(SetupRows.pqLastResort, ours: { try SessionSetupOurs(.pqxdhLastResort) },
                   baseline: { try SessionSetupRaw(.pqxdhLastResort) }),
        Comparison(SetupRows.classical, ours: { try SessionSetupOurs(.x3dh) }, baseline: { try SessionSetupRaw(.x3dh) }),
        Comparison(SetupRows.firstContact, ours: { try SessionSetupOurs(.x3dh, firstContact: true) },
                   baseline: { try SessionSetupRaw(.x3dh, firstContact: true) }),
        Comparison(SetupRows.pqVsClassical, ours: { try SessionSetupOurs(.pqxdh) }, baseline: { try SessionSetupOurs(.x3dh) }),
        Comparison(SetupRows.pqLastResortVsClassical, ours: { try SessionSetupOurs(.pqxdhLastResort) },
                   baseline: { try SessionSetupOurs(.x3dh) }),
        Comparison(SetupRows.rawKEM, ours: { try KEMSetupRaw(.setup) }, baseline: { try KEMSetupRaw(.encapsDecaps) }),
        Comparison(SetupRows.rawKEMLastResort, ours: { try KEMSetupRaw(.lastResort) },
                   baseline: { try KEMSetupRaw(.encapsDecaps) }),
        Comparison("session encrypt 100 B", ours: { try SessionEncryptOurs(size: Sizes.small) },
                   baseline: { try MessageRaw(size: Sizes.small, open: false) }),
        Comparison("session decrypt 100 B", ours: { try SessionDecryptOurs(size: Sizes.small) },
                   baseline: { try MessageRaw(size: Sizes.small, open: true) }),
        Comparison("session decrypt 100 B, a live receiver (consecutive messages)",
                   ours: { try SessionDecryptLiveOurs(size: Sizes.small) },
                   baseline: { try MessageRaw(size: Sizes.small, open: true) }),
        Comparison("session encrypt 16 KiB", ours: { try SessionEncryptOurs(size: Sizes.large) },
                   baseline: { try MessageRaw(size: Sizes.large, open: false) }),
        Comparison("session decrypt 16 KiB", ours: { try SessionDecryptOurs(size: Sizes.large) },
                   baseline: { try MessageRaw(size: Sizes.large, open: true) }),
        Comparison("session decrypt 16 KiB, a live receiver (consecutive messages)",
                   ours: { try SessionDecryptLiveOurs(size: Sizes.large) },
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
    static let pqLastResort = "session setup PQXDH, last-resort KEM prekey (kept expanded)"
    static let classical = "session setup X3DH (classical bundle, allowClassical)"
    static let firstContact = "session setup X3DH, identity keys never seen before"
    static let pqVsClassical = "session setup PQXDH vs X3DH (same pair, both kinds)"
    static let pqLastResortVsClassical = "session setup PQXDH (last resort) vs X3DH"
    static let rawKEM = "raw KEM cost of a PQXDH setup (expand + parse + encaps + decaps)"
    static let rawKEMLastResort = "raw KEM cost, last-resort prekey (parse + encaps + decaps)"
    static let kemSignature = "KEM prekey signature check in a PQXDH setup (Ed25519 verify, 1569 B)"
}

/// What PQXDH adds to a setup, from the medians of the rows above. The
/// target (issue 14): PQXDH setup ≤ X3DH setup + 1.25 × raw encaps + decaps.
/// Empty unless the rows ran.
func setupFigures(_ results: [RowResult]) -> [DerivedFigure] {
    func row(_ name: String) -> RowResult? { results.first { $0.name == name } }
    guard let kem = row(SetupRows.rawKEM) else { return [] }
    let encapsDecaps = kem.baseline.median
    var out = [DerivedFigure("raw encaps + decaps (swift-crypto)", encapsDecaps, .ns),
               DerivedFigure("raw KEM cost of a one-time KEM prekey (expand + parse + encaps + decaps)", kem.ours.median, .ns)]
    if let lr = row(SetupRows.rawKEMLastResort) {
        out.append(DerivedFigure("raw KEM cost of the last-resort prekey (parse + encaps + decaps)", lr.ours.median, .ns))
    }
    for (label, name) in [("one-time KEM prekey", SetupRows.pqVsClassical),
                          ("last-resort KEM prekey", SetupRows.pqLastResortVsClassical)] {
        guard let pair = row(name) else { continue }
        let extra = pair.ours.median - pair.baseline.median
        // Each repetition of the two pairs ran back to back: steadier on a noisy machine.
        let paired = Stats.median(zip(pair.ours.nsPerOp, pair.baseline.nsPerOp).map { $0 - $1 })
        out += [
            DerivedFigure("PQXDH − X3DH, \(label), difference of medians", extra, .ns),
            DerivedFigure("PQXDH − X3DH, \(label), paired", paired, .ns),
            DerivedFigure("(PQXDH − X3DH) / (encaps + decaps), \(label) (target ≤ 1.25)", extra / encapsDecaps, .ratio),
            DerivedFigure("(PQXDH − X3DH) paired / (encaps + decaps), \(label)", paired / encapsDecaps, .ratio),
        ]
    }
    if let sig = row(SetupRows.kemSignature) {
        out.append(DerivedFigure("of which the KEM prekey signature check (its row's median)", sig.ours.median, .ns))
    }
    return out
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
    /// A bundle with the last-resort KEM prekey (the one-time pool is empty).
    case pqxdhLastResort
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
        switch kind {
        case .pqxdh:
            a.generateOneTimeKEMPreKeys(count: 1)
            bundle = a.publishBundle().serialized
        case .pqxdhLastResort:
            bundle = a.publishBundle().serialized
        case .x3dh:
            a.generateOneTimeKEMPreKeys(count: 1)
            bundle = a.publishClassicalBundle().serialized
        }
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
    private let firstContact: Bool
    private let plaintext = FillerBytes.bytes(Sizes.small, seed: 21)

    /// `firstContact`: the process forgets the identity keys it validated
    /// before each setup, so both sides pay the full check, as on first contact.
    init(_ kind: SetupKind, firstContact: Bool = false) throws {
        switch kind {
        case .pqxdh: name = "ours: initiate + encrypt + acceptSession, PQXDH"
        case .pqxdhLastResort: name = "ours: initiate + encrypt + acceptSession, PQXDH, last resort"
        case .x3dh: name = firstContact ? "ours: the same, X3DH, validated-key memory emptied each time"
            : "ours: initiate + encrypt + acceptSession, X3DH (allowClassical)"
        }
        f = SetupFixture(kind)
        self.firstContact = firstContact
    }

    func run(iterations: Int) throws -> UInt64 {
        let f = f, pt = plaintext
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            if firstContact { ValidatedIdentityKeys.removeAll() }
            acc &+= UInt64(try f.once(pt).plaintext[0])
        }
        return acc
    }
}

/// The libsodium/libb2 calls a setup cannot avoid: the bundle signature
/// check, 10 X25519 (4 each side, the initiator's first ratchet chain, the
/// recipient's first receiving chain; its sending chain waits for its first
/// reply), 2 key generations as libsodium's fixed-base Ed25519 multiplication
/// (the fastest it has; our map to Montgomery u is counted as ours), the KDFs,
/// one seal and one open. A peer's identity key was validated before (the
/// process remembers it); on first contact, 2 full point checks more. PQXDH
/// adds the KEM prekey's signature check (over its 1569 encoded bytes), its
/// binding hash on each side and the swift-crypto calls of ``KEMSetupRaw``
/// (expand, parse, encaps, decaps; no expand for the kept last-resort key).
final class SessionSetupRaw: BenchCase {
    let name: String
    private let sig, signed, edPub, xPriv, xPub, out, kdf, aead: RawBuffer
    private let kemSig, kemSigned, personal, salt: RawBuffer
    private let msg: MessageRaw
    private let kem: KEMSetupRaw?
    private let pointChecks: Int

    init(_ kind: SetupKind, firstContact: Bool = false) throws {
        pointChecks = firstContact ? 2 : 0
        switch kind {
        case .pqxdh: name = "raw: X3DH's + KEM sig verify, 2 KEM binds, ML-KEM expand+parse+encaps+decaps"
        case .pqxdhLastResort: name = "raw: X3DH's + KEM sig verify, 2 KEM binds, ML-KEM parse+encaps+decaps"
        case .x3dh: name = firstContact ? "raw: the same + 2 Ed25519 point checks"
            : "raw: 1 verify, 10 DH, 2 fixed-base mults, KDFs, seal+open"
        }
        let id = IdentityKey.PrivateKey()
        let spk = X25519.PrivateKey()
        signed = RawBuffer([0x05] + spk.publicKey.rawRepresentation)
        sig = RawBuffer(id.signature(for: signed.array))
        edPub = RawBuffer(id.publicKey.rawRepresentation)
        var scalar = FillerBytes.bytes(32, seed: 22)
        scalar[0] &= 248; scalar[31] &= 127; scalar[31] |= 64
        xPriv = RawBuffer(scalar)
        xPub = RawBuffer(spk.publicKey.rawRepresentation)
        out = RawBuffer(count: 64)
        kdf = RawBuffer(count: 64)
        aead = RawBuffer(count: 64)
        msg = try MessageRaw(size: Sizes.small, open: true)
        kemSigned = RawBuffer(try kemSignedMessage())
        kemSig = RawBuffer(id.signature(for: kemSigned.array))
        personal = RawBuffer(Array("E2EEv1 kem bind\0".utf8))
        salt = RawBuffer(count: 16)
        switch kind {
        case .pqxdh: kem = try KEMSetupRaw(.setup)
        case .pqxdhLastResort: kem = try KEMSetupRaw(.lastResort)
        case .x3dh: kem = nil
        }
    }

    func run(iterations: Int) throws -> UInt64 {
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_sign_verify_detached(sig.pointer, signed.pointer, UInt64(signed.count), edPub.pointer)
            for _ in 0..<pointChecks { rc |= crypto_core_ed25519_is_valid_point(edPub.pointer) == 1 ? 0 : 1 }
            for _ in 0..<2 { rc |= crypto_scalarmult_ed25519_base_noclamp(out.pointer, xPriv.pointer) }
            for _ in 0..<10 { rc |= crypto_scalarmult(out.pointer, xPriv.pointer, xPub.pointer) }
            // HKDF is two HMACs each side; KDF_RK twice; a message each way.
            for _ in 0..<4 { rc |= crypto_auth_hmacsha512(kdf.pointer, out.pointer, 32, xPriv.pointer) }
            for _ in 0..<2 { rc |= bench_raw_kdf_rk(kdf.pointer, xPriv.pointer, out.pointer) }
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

/// What a receiver does with a queue: each message the next one on the chain,
/// decrypted on one state that lives across them (the row above starts every
/// decryption from a copy of one state, which adds a copy of the session and
/// of its chain key to each).
final class SessionDecryptLiveOurs: BenchCase {
    let name = "ours: Session.decrypt, consecutive messages, one state"
    private var alice: Session
    private let template: Session
    private var bob: Session
    private let plaintext: [UInt8]
    private var messages = [[UInt8]]()

    init(size: Int) throws {
        var p = try SessionPair()
        _ = try p.bob.decrypt(try p.alice.encrypt([1]))
        alice = p.alice
        template = p.bob
        bob = p.bob
        plaintext = FillerBytes.bytes(size, seed: 24)
    }

    func prepare(iterations: Int) throws {
        // Untimed: the next `iterations` messages; the receiver consumes them
        // all in `run`, so it stays in step with the sender.
        messages = []
        messages = try (0..<iterations).map { _ in try alice.encrypt(plaintext) }
    }

    func run(iterations: Int) throws -> UInt64 {
        var b = bob
        bob = template   // `b` holds the only reference: steps write in place
        var acc: UInt64 = 0
        for i in 0..<iterations {
            let pt = try b.decrypt(messages[i])
            acc &+= UInt64(pt[pt.count - 1])
        }
        bob = b
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

/// Per direction: the DH ratchet step (2 X25519, 1 key generation as
/// libsodium's fixed-base Ed25519 multiplication, 2 KDF_RK), a KDF_CK on each
/// side, one seal and one open.
final class PingPongRaw: BenchCase {
    let name = "raw: 2×(2 DH, 1 fixed-base mult, 2 KDF_RK, 2 KDF_CK, seal, open)"
    private let priv, pub, out: RawBuffer
    private let open: MessageRaw

    init() throws {
        var scalar = FillerBytes.bytes(32, seed: 26)
        scalar[0] &= 248; scalar[31] &= 127; scalar[31] |= 64   // clamped: never 0 mod L
        priv = RawBuffer(scalar)
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
                rc |= crypto_scalarmult_ed25519_base_noclamp(out.pointer, priv.pointer)
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
