#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// How work over independent items is spread across threads: one rule for
/// AEAD batches and group backlogs.
enum Workers {
    /// The processors online, read once.
    static let activeProcessors: Int = {
        #if canImport(Glibc)
        return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }()

    /// How many workers take `items` items: one for `.serial`, and for
    /// `.automatic` unless the work is large enough to pay for a hand-off
    /// (`worthSplitting`), then up to the active processors with at least
    /// `minItemsPerWorker` items each; `.threads(t)` is clamped to 1...items.
    static func count(items n: Int, parallelism: AEADv1.Parallelism, worthSplitting: Bool,
                      minItemsPerWorker: Int = 1) -> Int {
        switch parallelism {
        case .serial:
            return 1
        case .automatic:
            return worthSplitting ? Swift.min(activeProcessors, Swift.max(1, n / minItemsPerWorker)) : 1
        case .threads(let t):
            return Swift.min(Swift.max(1, t), Swift.max(n, 1))
        }
    }

    /// Runs `body` over `0..<n` split into `workers` contiguous ranges, on the
    /// calling thread when there is one worker. `body` must touch only its range.
    static func forEachRange(_ n: Int, workers: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard workers > 1 else { return body(0..<n) }
        let chunk = (n + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            body(Swift.min(n, w * chunk)..<Swift.min(n, (w + 1) * chunk))
        }
    }
}
