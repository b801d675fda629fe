import E2EE
import ToolSupport

enum BenchError: Error, CustomStringConvertible {
    /// A raw libsodium/libb2 call returned an error inside a timed loop.
    case rawFailure(String)
    /// One of our calls produced a result it must not (failed batch item, invalid signature).
    case wrongResult(String)

    var description: String {
        switch self {
        case .rawFailure(let what): return "raw call failed: \(what)"
        case .wrongResult(let what): return "wrong result: \(what)"
        }
    }
}

/// Repeatable filler bytes (ToolSupport's SplitMix64, eight bytes per word,
/// low byte first). Bench inputs need to be fixed, not secret.
struct FillerBytes {
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(state: seed)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            var w = generator.next()
            for _ in 0..<Swift.min(8, count - out.count) {
                out.append(UInt8(truncatingIfNeeded: w))
                w >>= 8
            }
        }
        return out
    }

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var g = FillerBytes(seed: seed)
        return g.bytes(count)
    }
}

enum Seeds {
    static let chainKey: UInt64 = 1
    static let aead: UInt64 = 2
    static let x25519: UInt64 = 3
    static let ed25519: UInt64 = 4
    static let mlkem: UInt64 = 5
}

enum Sizes {
    /// Associated data of a ratchet message: 66-byte prefix plus the 40-byte header.
    static let ratchetAD = 66 + 40
    static let small = 100
    static let large = 16 * 1024
    static let batch = 1024
    static let chainAdvance = 1000
}

/// A buffer of fixed size for the raw baselines, released with its owner.
final class RawBuffer {
    let pointer: UnsafeMutablePointer<UInt8>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    deinit {
        pointer.deallocate()
    }

    var array: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// One message key, plaintext, AD, and a message our AEAD sealed, with the
/// same bytes laid out for the raw libsodium calls.
struct AEADFixture {
    let keyBytes: [UInt8]
    let key: MessageKey
    let plaintext: [UInt8]
    let associatedData: [UInt8]
    /// `G || ciphertext || tag`, from `AEADv1.seal` (random guard).
    let sealed: [UInt8]
    /// `G || 0^8`, the nonce `sealed` was made with.
    let nonce: [UInt8]

    init(size: Int, seed: UInt64) throws {
        var g = FillerBytes(seed: seed)
        keyBytes = g.bytes(MessageKey.byteCount)
        key = try MessageKey(rawRepresentation: keyBytes)
        plaintext = g.bytes(size)
        associatedData = g.bytes(Sizes.ratchetAD)
        sealed = try AEADv1.seal(plaintext, using: key, authenticating: associatedData)
        nonce = Array(sealed[0..<AEADv1.guardByteCount]) + [UInt8](repeating: 0, count: 12 - AEADv1.guardByteCount)
    }

    /// Ciphertext and tag without the guard: what libsodium produces and takes.
    var rawCiphertext: [UInt8] { Array(sealed[AEADv1.guardByteCount...]) }
}

/// 1024 independent 100-byte messages under distinct keys, as a receiver
/// draining a backlog would see them.
struct BatchFixture {
    let messages: [AEADFixture]
    let items: [AEADv1.BatchItem]

    init(count: Int, size: Int) throws {
        var ms = [AEADFixture]()
        ms.reserveCapacity(count)
        for i in 0..<count {
            ms.append(try AEADFixture(size: size, seed: 0x1000 + UInt64(i)))
        }
        messages = ms
        items = ms.map { AEADv1.BatchItem(input: $0.sealed, key: $0.key, associatedData: $0.associatedData) }
    }
}
