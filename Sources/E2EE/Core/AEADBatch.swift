internal import CE2EE
import Dispatch

extension AEADv1 {
    /// One message of a batch: its own input, key and associated data.
    public struct BatchItem: Sendable {
        /// Plaintext for ``AEADv1/sealBatch(_:parallelism:)``, sealed bytes for
        /// ``AEADv1/openBatch(_:parallelism:)``.
        public var input: [UInt8]
        public var key: MessageKey
        public var associatedData: [UInt8]
        /// Seal only: a fixed reuse guard (for vectors); nil draws a random one.
        var reuseGuard: [UInt8]?

        public init(input: [UInt8], key: MessageKey, associatedData: [UInt8]) {
            self.input = input
            self.key = key
            self.associatedData = associatedData
        }

        init(input: [UInt8], key: MessageKey, associatedData: [UInt8], reuseGuard: [UInt8]?) {
            self.init(input: input, key: key, associatedData: associatedData)
            self.reuseGuard = reuseGuard
        }
    }

    /// How a batch may use threads. Items are independent, so a large batch
    /// can be split across cores; results are identical either way.
    public enum Parallelism: Sendable, Equatable {
        /// The calling thread only.
        case serial
        /// Up to the number of active processors, for batches large enough
        /// that the split pays for itself.
        case automatic
        /// Exactly this many workers (clamped to 1...items).
        case threads(Int)
    }

    /// The outputs of a batch, in item order, held in one contiguous buffer.
    public struct BatchResult: Sendable, RandomAccessCollection {
        let storage: [UInt8]
        let offsets: [Int]      // item i is storage[offsets[i]..<offsets[i+1]]
        let status: [Int32]

        public var startIndex: Int { 0 }
        public var endIndex: Int { status.count }

        /// The output of item `i`, or the error it failed with.
        public subscript(i: Int) -> Result<ArraySlice<UInt8>, CryptoError> {
            guard status[i] == 0 else { return .failure(failureError) }
            return .success(storage[offsets[i]..<offsets[i + 1]])
        }

        /// How many items failed.
        public var failureCount: Int { status.reduce(0) { $0 + ($1 == 0 ? 0 : 1) } }

        let failureError: CryptoError
    }

    /// Seals every item in one call into the C core; each output is exactly
    /// what ``seal(_:using:authenticating:)`` would produce with the same guard.
    public static func sealBatch(_ items: [BatchItem], parallelism: Parallelism = .automatic) -> BatchResult {
        run(items, outputCount: { $0 + overhead }, parallelism: parallelism, seal: true,
            failure: .invalidParameter("plaintext too long for ChaCha20-Poly1305"))
    }

    /// Opens every item in one call into the C core. A failed item (tampered,
    /// truncated, wrong key or AD) is reported on its own and spoils no other.
    public static func openBatch(_ items: [BatchItem], parallelism: Parallelism = .automatic) -> BatchResult {
        run(items, outputCount: { $0 >= overhead ? $0 - overhead : 0 }, parallelism: parallelism, seal: false,
            failure: .authenticationFailure)
    }

    /// Below this many bytes a batch stays on one thread: a worker hand-off
    /// costs a few microseconds.
    static let parallelThresholdBytes = 32 * 1024
    static let minItemsPerWorker = 32

    private static func run(_ items: [BatchItem], outputCount: (Int) -> Int, parallelism: Parallelism,
                            seal: Bool, failure: CryptoError) -> BatchResult {
        let n = items.count
        // Inputs, ADs and guards are copied into one arena so that the C core
        // sees stable pointers for the whole batch.
        var inOffsets = [Int](), outOffsets = [Int]()
        inOffsets.reserveCapacity(n + 1)
        outOffsets.reserveCapacity(n + 1)
        var inTotal = 0, outTotal = 0
        for item in items {
            inOffsets.append(inTotal)
            outOffsets.append(outTotal)
            inTotal += item.input.count + item.associatedData.count + (item.reuseGuard?.count ?? 0)
            outTotal += outputCount(item.input.count)
        }
        inOffsets.append(inTotal)
        outOffsets.append(outTotal)

        var arena = [UInt8]()
        arena.reserveCapacity(inTotal)
        for item in items {
            arena.append(contentsOf: item.input)
            arena.append(contentsOf: item.associatedData)
            if let g = item.reuseGuard { arena.append(contentsOf: g) }
        }

        var status = [Int32](repeating: -1, count: n)
        let storage = [UInt8](unsafeUninitializedCapacity: outTotal) { out, initialized in
            arena.withUnsafeBufferPointer { a in
                status.withUnsafeMutableBufferPointer { st in
                    var cItems = [e2ee_aead_item]()
                    cItems.reserveCapacity(n)
                    for (i, item) in items.enumerated() {
                        let base = a.baseAddress.map { $0 + inOffsets[i] }
                        let adStart = base.map { $0 + item.input.count }
                        let guardStart = adStart.map { $0 + item.associatedData.count }
                        let outCount = outOffsets[i + 1] - outOffsets[i]
                        let guardValid = item.reuseGuard.map { $0.count == guardByteCount } ?? true
                        cItems.append(e2ee_aead_item(
                            out: out.baseAddress.map { $0 + outOffsets[i] },
                            // A wrong-size guard makes the item fail in C (length mismatch).
                            out_len: guardValid ? outCount : outCount + 1,
                            in: base, in_len: item.input.count,
                            ad: adStart, ad_len: item.associatedData.count,
                            key: item.key.keyPointer,
                            guard: item.reuseGuard == nil ? nil : guardStart))
                    }
                    cItems.withUnsafeBufferPointer { ci in
                        execute(ci, results: st, seal: seal, totalBytes: inTotal, parallelism: parallelism)
                    }
                }
            }
            initialized = outTotal
        }
        withExtendedLifetime(items) {}
        return BatchResult(storage: storage, offsets: outOffsets, status: status, failureError: failure)
    }

    private static func execute(_ items: UnsafeBufferPointer<e2ee_aead_item>, results: UnsafeMutableBufferPointer<Int32>,
                                seal: Bool, totalBytes: Int, parallelism: Parallelism) {
        let n = items.count
        guard n > 0, let ip = items.baseAddress, let rp = results.baseAddress else { return }
        let workers: Int
        switch parallelism {
        case .serial:
            workers = 1
        case .automatic:
            workers = totalBytes < parallelThresholdBytes ? 1
                : Swift.min(activeProcessors, Swift.max(1, n / minItemsPerWorker))
        case .threads(let t):
            workers = Swift.min(Swift.max(1, t), n)
        }
        let chunk = (n + workers - 1) / workers
        // Workers touch disjoint item and result ranges of buffers that outlive them.
        let shared = UnsafeShared(items: ip, results: rp)
        let work = { @Sendable (w: Int) in
            let ip = shared.items, rp = shared.results
            let lo = w * chunk
            let hi = Swift.min(n, lo + chunk)
            guard lo < hi else { return }
            // Per-item results land in `results`; the counts are not needed.
            if seal {
                _ = e2ee_aead_seal_batch(rp + lo, ip + lo, hi - lo)
            } else {
                _ = e2ee_aead_open_batch(rp + lo, ip + lo, hi - lo)
            }
        }
        if workers == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
    }

    private struct UnsafeShared: @unchecked Sendable {
        let items: UnsafePointer<e2ee_aead_item>
        let results: UnsafeMutablePointer<Int32>
    }

    static let activeProcessors: Int = {
        #if canImport(Glibc)
        return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#endif
