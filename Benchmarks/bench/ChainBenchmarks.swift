import CBenchRaw
import E2EE

// KDF_CK: one chain step, and a chain advanced 1000 keys at once, next to libb2.

func chainComparisons() -> [Comparison] {
    [
        Comparison("KDF_CK step", ours: { try ChainStepOurs() }, baseline: { ChainStepRaw() }),
        Comparison("chain advance 1000 keys (per key)",
                   ours: { try ChainAdvanceOurs() }, baseline: { ChainAdvanceRaw() }),
    ]
}

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
