// A small benchmark harness in the style of swift-nio's NIOPerformanceTester:
// each case is an object with setUp / run(iterations:) / tearDown, the inner
// loop lives inside `run`, and every figure is measured next to its baseline.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One measured operation. `run(iterations:)` performs the operation
/// `iterations` times in a loop of its own and returns a value derived from
/// the results, which the harness folds into a sink so nothing is optimised away.
protocol BenchCase: AnyObject {
    /// What is timed, as shown in the baseline column.
    var name: String { get }
    /// Operations one iteration stands for (1000 for a 1000-key advance):
    /// figures are reported per operation.
    var opsPerIteration: Int { get }
    func setUp() throws
    /// Untimed work before each timed run (e.g. making the messages a
    /// receiver will consume).
    func prepare(iterations: Int) throws
    func run(iterations: Int) throws -> UInt64
    func tearDown()
}

extension BenchCase {
    var opsPerIteration: Int { 1 }
    func setUp() throws {}
    func prepare(iterations: Int) throws {}
    func tearDown() {}
}

/// A row of the table: one of our operations and the primitive it wraps.
struct Comparison {
    enum Kind {
        /// ours / baseline: how much our wrapper costs over the raw call.
        case overhead
        /// Also report baseline / ours: how much faster ours is (batches).
        case speedup
    }

    let name: String
    let kind: Kind
    let ours: () throws -> any BenchCase
    let baseline: () throws -> any BenchCase

    init(_ name: String, kind: Kind = .overhead,
         ours: @escaping () throws -> any BenchCase, baseline: @escaping () throws -> any BenchCase) {
        self.name = name
        self.kind = kind
        self.ours = ours
        self.baseline = baseline
    }
}

struct Config {
    var repetitions: Int
    /// Wall time one repetition of one side should take.
    var targetRepetitionNs: Double
    var quick: Bool

    static let full = Config(repetitions: 21, targetRepetitionNs: 20e6, quick: false)
    static let quick = Config(repetitions: 5, targetRepetitionNs: 8e6, quick: true)
}

@inline(__always)
func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Calibrates, then measures ours and the baseline in alternating
/// repetitions (ABBA order) so that machine noise falls on both alike.
struct Runner {
    let config: Config
    /// Everything the cases returned, folded together; printed at the end.
    private(set) var sink: UInt64 = 0

    init(config: Config) {
        self.config = config
    }

    mutating func measure(_ comparison: Comparison) throws -> RowResult {
        let ours = try comparison.ours()
        let base = try comparison.baseline()
        try ours.setUp()
        defer { ours.tearDown() }
        try base.setUp()
        defer { base.tearDown() }

        let nOurs = try calibrate(ours)
        let nBase = try calibrate(base)
        var tOurs = [Double](), tBase = [Double]()
        tOurs.reserveCapacity(config.repetitions)
        tBase.reserveCapacity(config.repetitions)
        for rep in 0..<config.repetitions {
            if rep % 2 == 0 {
                tOurs.append(try time(ours, iterations: nOurs))
                tBase.append(try time(base, iterations: nBase))
            } else {
                tBase.append(try time(base, iterations: nBase))
                tOurs.append(try time(ours, iterations: nOurs))
            }
        }
        return RowResult(name: comparison.name, kind: comparison.kind,
                         ours: Samples(name: ours.name, iterations: nOurs, nsPerOp: tOurs),
                         baseline: Samples(name: base.name, iterations: nBase, nsPerOp: tBase))
    }

    /// Nanoseconds per operation of one repetition.
    private mutating func time(_ c: any BenchCase, iterations: Int) throws -> Double {
        try c.prepare(iterations: iterations)
        let t0 = monotonicNs()
        let v = try c.run(iterations: iterations)
        let t1 = monotonicNs()
        sink = (sink &* 31) ^ v
        return Double(t1 - t0) / Double(iterations * c.opsPerIteration)
    }

    /// Iterations for one repetition of about `targetRepetitionNs`. Growing
    /// the count geometrically also warms caches, branch predictors and
    /// (for parallel batches) the worker threads.
    private mutating func calibrate(_ c: any BenchCase) throws -> Int {
        let target = config.targetRepetitionNs
        var n = 1
        while true {
            try c.prepare(iterations: n)
            let t0 = monotonicNs()
            let v = try c.run(iterations: n)
            let elapsed = Double(monotonicNs() - t0)
            sink = (sink &* 31) ^ v
            if elapsed >= target / 4 || n >= 1 << 30 {
                // One more run at the final size, then settle on it.
                let final = Swift.max(1, Int((Double(n) * target / Swift.max(elapsed, 1)).rounded()))
                try c.prepare(iterations: final)
                sink = (sink &* 31) ^ (try c.run(iterations: final))
                return final
            }
            // Jump fast while far from the target, carefully when close.
            n *= elapsed < target / 1000 ? 16 : 2
        }
    }
}
