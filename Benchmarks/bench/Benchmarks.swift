import CBenchRaw
import E2EE

// Each of our operations next to the raw primitive it wraps. Inner loops copy
// what they need into locals first: class properties in a loop pay for
// exclusivity checks that the operation itself does not.

func allComparisons() -> [Comparison] {
    [
        Comparison("KDF_CK step", ours: { try ChainStepOurs() }, baseline: { ChainStepRaw() }),
        Comparison("chain advance 1000 keys (per key)",
                   ours: { try ChainAdvanceOurs() }, baseline: { ChainAdvanceRaw() }),
        Comparison("AEAD_v1 seal 100 B", ours: { try SealOurs(size: Sizes.small) },
                   baseline: { try SealRaw(size: Sizes.small) }),
        Comparison("AEAD_v1 open 100 B", ours: { try OpenOurs(size: Sizes.small) },
                   baseline: { try OpenRaw(size: Sizes.small) }),
        Comparison("AEAD_v1 seal 16 KiB", ours: { try SealOurs(size: Sizes.large) },
                   baseline: { try SealRaw(size: Sizes.large) }),
        Comparison("AEAD_v1 open 16 KiB", ours: { try OpenOurs(size: Sizes.large) },
                   baseline: { try OpenRaw(size: Sizes.large) }),
        Comparison("batched open 1024 × 100 B serial (per message)", kind: .speedup,
                   ours: { try BatchOpenOurs(.serial) }, baseline: { try SingleOpensOurs() }),
        Comparison("batched open 1024 × 100 B automatic (per message)", kind: .speedup,
                   ours: { try BatchOpenOurs(.automatic) }, baseline: { try SingleOpensOurs() }),
        Comparison("batched open 1024 × 100 B vs raw",
                   ours: { try BatchOpenOurs(.serial) }, baseline: { try BatchOpenRaw() }),
        Comparison("X25519", ours: { try X25519Ours() }, baseline: { try X25519Raw() }),
        Comparison("Ed25519 sign", ours: { try SignOurs() }, baseline: { try SignRaw() }),
        Comparison("Ed25519 verify", ours: { try VerifyOurs() }, baseline: { try VerifyRaw() }),
    ] + kemComparisons() + sessionComparisons() + routingComparisons() + storeComparisons() + groupComparisons()
}

enum Seeds {
    static let chainKey: UInt64 = 1
    static let aead: UInt64 = 2
    static let x25519: UInt64 = 3
    static let ed25519: UInt64 = 4
    static let mlkem: UInt64 = 5
}

// MARK: - KDF_CK

final class ChainStepOurs: BenchCase {
    let name = "ours: ChainKey.next()"
    private var chainKey: ChainKey

    init() throws {
        chainKey = try ChainKey(rawRepresentation: FillerBytes.bytes(ChainKey.byteCount, seed: Seeds.chainKey))
    }

    func run(iterations: Int) -> UInt64 {
        var ck = chainKey
        for _ in 0..<iterations {
            _ = ck.next()
        }
        let moved: UInt64 = ck == chainKey ? 0 : 1
        chainKey = ck
        return moved
    }
}

final class ChainStepRaw: BenchCase {
    let name = "libb2 blake2b_init_param/update/final"
    private let key = RawBuffer(FillerBytes.bytes(32, seed: Seeds.chainKey))
    private let out = RawBuffer(count: 64)

    func run(iterations: Int) throws -> UInt64 {
        let key = key.pointer, out = out.pointer
        var rc: Int32 = 0
        for _ in 0..<iterations {
            rc |= bench_raw_kdf_ck(out, key)
            key.update(from: out, count: 32)     // the next chain key, as in a real chain
        }
        guard rc == 0 else { throw BenchError.rawFailure("bench_raw_kdf_ck") }
        return UInt64(out[32])
    }
}

final class ChainAdvanceOurs: BenchCase {
    let name = "ours: ChainKey.messageKeys(count: 1000)"
    let opsPerIteration = Sizes.chainAdvance
    private var chainKey: ChainKey

    init() throws {
        chainKey = try ChainKey(rawRepresentation: FillerBytes.bytes(ChainKey.byteCount, seed: Seeds.chainKey))
    }

    func run(iterations: Int) throws -> UInt64 {
        var ck = chainKey
        var keys = 0
        for _ in 0..<iterations {
            keys &+= try ck.messageKeys(count: Sizes.chainAdvance).count
        }
        chainKey = ck
        return UInt64(keys)
    }
}

final class ChainAdvanceRaw: BenchCase {
    let name = "libb2 ×1000, one C loop"
    let opsPerIteration = Sizes.chainAdvance
    private let key = RawBuffer(FillerBytes.bytes(32, seed: Seeds.chainKey))
    private let messageKeys = RawBuffer(count: 32 * Sizes.chainAdvance)

    func run(iterations: Int) throws -> UInt64 {
        let key = key.pointer, mks = messageKeys.pointer, mksCount = messageKeys.count
        var rc: Int32 = 0
        for _ in 0..<iterations {
            rc |= bench_raw_chain_advance(key, mks, mksCount, Sizes.chainAdvance)
        }
        guard rc == 0 else { throw BenchError.rawFailure("bench_raw_chain_advance") }
        return UInt64(mks[mksCount - 1])
    }
}

// MARK: - AEAD_v1, one message

final class SealOurs: BenchCase {
    let name = "ours: AEADv1.seal"
    private let f: AEADFixture

    init(size: Int) throws {
        f = try AEADFixture(size: size, seed: Seeds.aead)
    }

    func run(iterations: Int) throws -> UInt64 {
        let pt = f.plaintext, key = f.key, ad = f.associatedData
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let s = try AEADv1.seal(pt, using: key, authenticating: ad)
            acc &+= UInt64(s[s.count - 1])
        }
        return acc
    }
}

final class SealRaw: BenchCase {
    let name: String
    private let size: Int
    private let pt, ad, key, nonce, out: RawBuffer

    init(size: Int) throws {
        let f = try AEADFixture(size: size, seed: Seeds.aead)
        name = "crypto_aead_chacha20poly1305_ietf_encrypt"
        self.size = size
        pt = RawBuffer(f.plaintext)
        ad = RawBuffer(f.associatedData)
        key = RawBuffer(f.keyBytes)
        nonce = RawBuffer(f.nonce)
        out = RawBuffer(count: size + AEADv1.tagByteCount)
    }

    func run(iterations: Int) throws -> UInt64 {
        let pt = pt.pointer, ad = ad.pointer, adCount = UInt64(self.ad.count), key = key.pointer, nonce = nonce.pointer
        let out = out.pointer, ptCount = UInt64(size)
        var rc: Int32 = 0, outCount: UInt64 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_aead_chacha20poly1305_ietf_encrypt(out, &outCount, pt, ptCount, ad, adCount,
                                                            nil, nonce, key)
            acc &+= UInt64(out[Int(outCount) - 1])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_aead_chacha20poly1305_ietf_encrypt") }
        return acc
    }
}

final class OpenOurs: BenchCase {
    let name = "ours: AEADv1.open"
    private let f: AEADFixture

    init(size: Int) throws {
        f = try AEADFixture(size: size, seed: Seeds.aead)
    }

    func run(iterations: Int) throws -> UInt64 {
        let sealed = f.sealed, key = f.key, ad = f.associatedData
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let p = try AEADv1.open(sealed, using: key, authenticating: ad)
            acc &+= UInt64(p[p.count - 1])
        }
        return acc
    }
}

final class OpenRaw: BenchCase {
    let name = "crypto_aead_chacha20poly1305_ietf_decrypt"
    private let ct, ad, key, nonce, out: RawBuffer

    init(size: Int) throws {
        let f = try AEADFixture(size: size, seed: Seeds.aead)
        ct = RawBuffer(f.rawCiphertext)
        ad = RawBuffer(f.associatedData)
        key = RawBuffer(f.keyBytes)
        nonce = RawBuffer(f.nonce)
        out = RawBuffer(count: size)
    }

    func run(iterations: Int) throws -> UInt64 {
        let ct = ct.pointer, ctCount = UInt64(self.ct.count), ad = ad.pointer, adCount = UInt64(self.ad.count)
        let key = key.pointer, nonce = nonce.pointer, out = out.pointer, last = self.out.count - 1
        var rc: Int32 = 0, outCount: UInt64 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_aead_chacha20poly1305_ietf_decrypt(out, &outCount, nil, ct, ctCount, ad, adCount,
                                                            nonce, key)
            acc &+= UInt64(out[last])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_aead_chacha20poly1305_ietf_decrypt") }
        return acc
    }
}

// MARK: - AEAD_v1, batches of 1024 × 100 B

final class BatchOpenOurs: BenchCase {
    let name: String
    let opsPerIteration = Sizes.batch
    private let parallelism: AEADv1.Parallelism
    private let f: BatchFixture

    init(_ parallelism: AEADv1.Parallelism) throws {
        self.parallelism = parallelism
        name = "ours: AEADv1.openBatch(\(parallelism == .serial ? ".serial" : ".automatic"))"
        f = try BatchFixture(count: Sizes.batch, size: Sizes.small)
    }

    func run(iterations: Int) throws -> UInt64 {
        let items = f.items, parallelism = parallelism
        var failures = 0, opened = 0
        for _ in 0..<iterations {
            let r = AEADv1.openBatch(items, parallelism: parallelism)
            failures &+= r.failureCount
            opened &+= r.count
        }
        guard failures == 0 else { throw BenchError.wrongResult("openBatch reported \(failures) failures") }
        return UInt64(opened)
    }
}

/// The batch rows' baseline: what a caller would do without a batch API.
final class SingleOpensOurs: BenchCase {
    let name = "ours: 1024 × AEADv1.open"
    let opsPerIteration = Sizes.batch
    private let f: BatchFixture

    init() throws {
        f = try BatchFixture(count: Sizes.batch, size: Sizes.small)
    }

    func run(iterations: Int) throws -> UInt64 {
        let items = f.items
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            for item in items {
                let p = try AEADv1.open(item.input, using: item.key, authenticating: item.associatedData)
                acc &+= UInt64(p[p.count - 1])
            }
        }
        return acc
    }
}

final class BatchOpenRaw: BenchCase {
    let name = "1024 × crypto_aead_chacha20poly1305_ietf_decrypt"
    let opsPerIteration = Sizes.batch
    private let ct, ad, keys, nonces, out: RawBuffer
    private let ctStride, adStride: Int

    init() throws {
        let f = try BatchFixture(count: Sizes.batch, size: Sizes.small)
        ct = RawBuffer(f.messages.flatMap(\.rawCiphertext))
        ad = RawBuffer(f.messages.flatMap(\.associatedData))
        keys = RawBuffer(f.messages.flatMap(\.keyBytes))
        nonces = RawBuffer(f.messages.flatMap(\.nonce))
        out = RawBuffer(count: Sizes.batch * Sizes.small)
        ctStride = Sizes.small + AEADv1.tagByteCount
        adStride = Sizes.ratchetAD
    }

    func run(iterations: Int) throws -> UInt64 {
        let ct = ct.pointer, ad = ad.pointer, keys = keys.pointer, nonces = nonces.pointer, out = out.pointer
        let ctStride = ctStride, adStride = adStride, ptCount = Sizes.small
        var rc: Int32 = 0, outCount: UInt64 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            for i in 0..<Sizes.batch {
                rc |= crypto_aead_chacha20poly1305_ietf_decrypt(out + i * ptCount, &outCount, nil,
                                                                ct + i * ctStride, UInt64(ctStride),
                                                                ad + i * adStride, UInt64(adStride),
                                                                nonces + i * 12, keys + i * 32)
            }
            acc &+= UInt64(out[Sizes.batch * ptCount - 1])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_aead_chacha20poly1305_ietf_decrypt") }
        return acc
    }
}

// MARK: - X25519 and Ed25519

struct CurveFixture {
    let x25519Secret = FillerBytes.bytes(32, seed: Seeds.x25519)
    let x25519PeerSecret = FillerBytes.bytes(32, seed: Seeds.x25519 + 100)
    let ed25519Seed = FillerBytes.bytes(32, seed: Seeds.ed25519)
    let message = FillerBytes.bytes(Sizes.small, seed: Seeds.ed25519 + 100)
}

final class X25519Ours: BenchCase {
    let name = "ours: X25519.PrivateKey.sharedSecret(with:)"
    private let key: X25519.PrivateKey
    private let peer: X25519.PublicKey

    init() throws {
        let f = CurveFixture()
        key = try X25519.PrivateKey(rawRepresentation: f.x25519Secret)
        peer = try X25519.PrivateKey(rawRepresentation: f.x25519PeerSecret).publicKey
    }

    func run(iterations: Int) throws -> UInt64 {
        let key = key, peer = peer
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            _ = try key.sharedSecret(with: peer)     // opaque C call: cannot be dropped
            acc &+= 1
        }
        return acc
    }
}

final class X25519Raw: BenchCase {
    let name = "crypto_scalarmult"
    private let secret, peer, out: RawBuffer

    init() throws {
        let f = CurveFixture()
        secret = RawBuffer(f.x25519Secret)
        peer = RawBuffer(try X25519.PrivateKey(rawRepresentation: f.x25519PeerSecret).publicKey.rawRepresentation)
        out = RawBuffer(count: 32)
    }

    func run(iterations: Int) throws -> UInt64 {
        let secret = secret.pointer, peer = peer.pointer, out = out.pointer
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_scalarmult(out, secret, peer)
            acc &+= UInt64(out[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_scalarmult") }
        return acc
    }
}

final class SignOurs: BenchCase {
    let name = "ours: IdentityKey.PrivateKey.signature(for:)"
    private let key: IdentityKey.PrivateKey
    private let message: [UInt8]

    init() throws {
        let f = CurveFixture()
        key = try IdentityKey.PrivateKey(seed: f.ed25519Seed)
        message = f.message
    }

    func run(iterations: Int) -> UInt64 {
        let key = key, message = message
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let sig = key.signature(for: message)
            acc &+= UInt64(sig[63])
        }
        return acc
    }
}

/// libsodium's Ed25519 key pair for the fixture seed.
final class RawSigningKey {
    let publicKey = RawBuffer(count: 32)
    let secretKey = RawBuffer(count: 64)

    init() throws {
        let seed = RawBuffer(CurveFixture().ed25519Seed)
        guard crypto_sign_seed_keypair(publicKey.pointer, secretKey.pointer, seed.pointer) == 0 else {
            throw BenchError.rawFailure("crypto_sign_seed_keypair")
        }
    }
}

final class SignRaw: BenchCase {
    let name = "crypto_sign_detached"
    private let key: RawSigningKey
    private let message, sig: RawBuffer

    init() throws {
        key = try RawSigningKey()
        message = RawBuffer(CurveFixture().message)
        sig = RawBuffer(count: 64)
    }

    func run(iterations: Int) throws -> UInt64 {
        let sk = key.secretKey.pointer, m = message.pointer, mCount = UInt64(message.count), sig = sig.pointer
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_sign_detached(sig, nil, m, mCount, sk)
            acc &+= UInt64(sig[63])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_sign_detached") }
        return acc
    }
}

final class VerifyOurs: BenchCase {
    let name = "ours: IdentityKey.PublicKey.isValidSignature"
    private let key: IdentityKey.PublicKey
    private let message, signature: [UInt8]

    /// `message` defaults to the 100-byte fixture message.
    init(message: [UInt8]? = nil) throws {
        let f = CurveFixture()
        let sk = try IdentityKey.PrivateKey(seed: f.ed25519Seed)
        key = sk.publicKey
        self.message = message ?? f.message
        signature = sk.signature(for: self.message)
    }

    func run(iterations: Int) throws -> UInt64 {
        let key = key, message = message, signature = signature
        var valid = 0
        for _ in 0..<iterations where key.isValidSignature(signature, for: message) {
            valid &+= 1
        }
        guard valid == iterations else { throw BenchError.wrongResult("a valid signature was rejected") }
        return UInt64(valid)
    }
}

final class VerifyRaw: BenchCase {
    let name = "crypto_sign_verify_detached"
    private let key: RawSigningKey
    private let message, sig: RawBuffer

    init(message: [UInt8]? = nil) throws {
        key = try RawSigningKey()
        self.message = RawBuffer(message ?? CurveFixture().message)
        sig = RawBuffer(count: 64)
        guard crypto_sign_detached(sig.pointer, nil, self.message.pointer, UInt64(self.message.count),
                                   key.secretKey.pointer) == 0 else {
            throw BenchError.rawFailure("crypto_sign_detached")
        }
    }

    func run(iterations: Int) throws -> UInt64 {
        let pk = key.publicKey.pointer, m = message.pointer, mCount = UInt64(message.count), sig = sig.pointer
        var valid = 0
        for _ in 0..<iterations where crypto_sign_verify_detached(sig, m, mCount, pk) == 0 {
            valid &+= 1
        }
        guard valid == iterations else { throw BenchError.rawFailure("crypto_sign_verify_detached") }
        return UInt64(valid)
    }
}
