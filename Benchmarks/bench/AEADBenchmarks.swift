import CBenchRaw
import E2EE

// AEAD_v1: one message of 100 B or 16 KiB sealed and opened, and batches of
// 1024 × 100 B opened, next to the libsodium calls.

func aeadComparisons() -> [Comparison] {
    [
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
    ]
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
