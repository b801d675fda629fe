internal import CE2EE

extension AEADv1 {
    /// One message of a batch: its own input, key and associated data.
    public struct BatchItem: Sendable {
        /// Plaintext for ``AEADv1/sealBatch(_:parallelism:)``, sealed bytes for
        /// ``AEADv1/openBatch(_:parallelism:)``.
        public var input: [UInt8]
        /// The message key for this item (each item has its own).
        public var key: MessageKey
        /// The associated data the item is bound to.
        public var associatedData: [UInt8]
        /// Seal only: a fixed reuse guard (for vectors); nil draws a random one.
        var reuseGuard: [UInt8]?

        /// An item with its own input, key and associated data.
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

        /// The index of the first item's result (always 0).
        public var startIndex: Int { 0 }
        /// One past the last item's index: the number of items.
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
        var outOffsets = [Int]()
        outOffsets.reserveCapacity(n + 1)
        var outTotal = 0, inTotal = 0
        for item in items {
            outOffsets.append(outTotal)
            outTotal += outputCount(item.input.count)
            inTotal += item.input.count
        }
        outOffsets.append(outTotal)
        let workers = Workers.count(items: n, parallelism: parallelism, worthSplitting: inTotal >= parallelThresholdBytes,
                                    minItemsPerWorker: minItemsPerWorker)

        var status = [Int32](repeating: -1, count: n)
        let storage = [UInt8](writing: outTotal) { out in
            status.withUnsafeMutableBufferPointer { st in
                items.withUnsafeBufferPointer { its in
                    outOffsets.withUnsafeBufferPointer { offs in
                        let job = BatchJob(items: its, out: out.baseAddress, offsets: offs, results: st, seal: seal)
                        // Workers read the (immutable) items and write disjoint
                        // output and result ranges.
                        Workers.forEachRange(n, workers: workers) { job.process($0) }
                    }
                }
            }
        }
        return BatchResult(storage: storage, offsets: outOffsets, status: status, failureError: failure)
    }

    /// One batch's buffers, shared by its workers. The callers' input arrays are
    /// pinned in place (no copy) a group at a time and handed to the C core.
    private struct BatchJob: @unchecked Sendable {
        let items: UnsafeBufferPointer<BatchItem>
        let out: UnsafeMutablePointer<UInt8>?
        let offsets: UnsafeBufferPointer<Int>
        let results: UnsafeMutableBufferPointer<Int32>
        let seal: Bool

        /// Items pinned per C call: bounds the recursion that pins them.
        static let group = 32

        func process(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            let cItems = UnsafeMutableBufferPointer<e2ee_aead_item>.allocate(capacity: Self.group)
            defer { cItems.deallocate() }
            var lo = range.lowerBound
            while lo < range.upperBound {
                let hi = Swift.min(range.upperBound, lo + Self.group)
                pin(lo, lo: lo, hi: hi, into: cItems)
                lo = hi
            }
        }

        /// Pins item `i`'s input, AD and guard, then recurses; at `hi` runs the group.
        private func pin(_ i: Int, lo: Int, hi: Int, into cItems: UnsafeMutableBufferPointer<e2ee_aead_item>) {
            guard i < hi else {
                let rp = results.baseAddress! + lo
                // Per-item results land in `results`; the failure count is not needed.
                if seal {
                    _ = e2ee_aead_seal_batch(rp, cItems.baseAddress, hi - lo)
                } else {
                    _ = e2ee_aead_open_batch(rp, cItems.baseAddress, hi - lo)
                }
                return
            }
            let item = items[i]
            let outCount = offsets[i + 1] - offsets[i]
            // A wrong-size guard makes the item fail in C (length mismatch), as a single seal would.
            let guardValid = item.reuseGuard.map { $0.count == guardByteCount } ?? true
            item.input.withUnsafeBufferPointer { input in
                item.associatedData.withUnsafeBufferPointer { ad in
                    withGuard(item.reuseGuard) { g in
                        cItems[i - lo] = e2ee_aead_item(
                            out: out.map { $0 + offsets[i] }, out_len: guardValid ? outCount : outCount + 1,
                            in: input.baseAddress, in_len: input.count,
                            ad: ad.baseAddress, ad_len: ad.count,
                            key: item.key.keyPointer, guard: g)
                        pin(i + 1, lo: lo, hi: hi, into: cItems)
                    }
                }
            }
        }
    }
}
