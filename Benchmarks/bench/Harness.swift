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

/// Per-operation times of one side over all repetitions.
struct Samples {
    let name: String
    let iterations: Int
    let nsPerOp: [Double]

    var median: Double { Stats.median(nsPerOp) }
    var min: Double { nsPerOp.min() ?? .nan }
    var max: Double { nsPerOp.max() ?? .nan }
    /// Median absolute deviation relative to the median: a robust noise figure.
    var relativeMAD: Double {
        let m = median
        return Stats.median(nsPerOp.map { abs($0 - m) }) / m
    }
}

struct RowResult {
    let name: String
    let kind: Comparison.Kind
    let ours: Samples
    let baseline: Samples

    var ratio: Double { ours.median / baseline.median }
    /// Median of the per-repetition ratios: each pair ran back to back, so
    /// this one cancels slow drifts of the machine even better.
    var pairedRatio: Double { Stats.median(zip(ours.nsPerOp, baseline.nsPerOp).map { $0 / $1 }) }
    var speedup: Double { baseline.median / ours.median }
    var opsPerSecond: Double { 1e9 / ours.median }
}

/// A figure computed from the medians of rows measured in the same run
/// (a difference of two medians, or a ratio across rows), printed under the
/// table and written to the JSON's "derived" object.
struct DerivedFigure {
    enum Unit { case ns, ratio }

    let name: String
    let value: Double
    let unit: Unit

    init(_ name: String, _ value: Double, _ unit: Unit) {
        self.name = name
        self.value = value
        self.unit = unit
    }

    var formatted: String {
        switch unit {
        case .ns: return Format.ns(value) + " ns"
        case .ratio: return Format.fixed(value, 3) + "×"
        }
    }

    /// The JSON key: the unit is part of the name, as in the facts.
    var key: String { name + (unit == .ns ? " (ns)" : " (ratio)") }
}

enum Stats {
    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }
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

// MARK: - Output

enum Format {
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "nan" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let r = (abs(x) * scale).rounded()
        let whole = Int(r / scale)
        let frac = Int(r - Double(whole) * scale)
        var s = (x < 0 && r != 0 ? "-" : "") + String(whole)
        if decimals > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: decimals - f.count) + f
        }
        return s
    }

    /// ns with precision that suits its size.
    static func ns(_ x: Double) -> String {
        x < 100 ? fixed(x, 2) : x < 10_000 ? fixed(x, 1) : fixed(x, 0)
    }

    /// Integers with thousands separators.
    static func grouped(_ x: Double) -> String {
        guard x.isFinite else { return "nan" }
        let digits = String(Int(x.rounded()))
        var out = ""
        for (i, ch) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: Swift.max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}

/// Prints rows as they are measured, in columns sized for the selected rows.
struct TablePrinter {
    let nameWidth: Int
    let baselineWidth: Int
    static let headers = ["operation", "median ns/op", "±MAD", "ops/s", "baseline", "base ns/op", "ratio", "paired", "note"]

    init(rowNames: [String], baselineNames: [String]) {
        nameWidth = Swift.max(Self.headers[0].count, rowNames.map(\.count).max() ?? 0)
        baselineWidth = Swift.max(Self.headers[4].count, baselineNames.map(\.count).max() ?? 0)
    }

    func header() -> String {
        let h = Self.headers
        let line = line(h)
        return line + "\n" + String(repeating: "-", count: line.count)
    }

    func row(_ r: RowResult) -> String {
        let note: String
        switch r.kind {
        case .overhead: note = ""
        case .speedup: note = "speedup " + Format.fixed(r.speedup, 2) + "×"
        }
        return line([r.name, Format.ns(r.ours.median), Format.fixed(r.ours.relativeMAD * 100, 1) + "%",
                     Format.grouped(r.opsPerSecond), r.baseline.name, Format.ns(r.baseline.median),
                     Format.fixed(r.ratio, 3), Format.fixed(r.pairedRatio, 3), note])
    }

    private func line(_ c: [String]) -> String {
        [Format.pad(c[0], nameWidth), Format.pad(c[1], 12, right: true), Format.pad(c[2], 6, right: true),
         Format.pad(c[3], 12, right: true), Format.pad(c[4], baselineWidth), Format.pad(c[5], 11, right: true),
         Format.pad(c[6], 7, right: true), Format.pad(c[7], 7, right: true), c[8]]
            .joined(separator: " | ")
    }
}

// MARK: - JSON

enum JSON {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        return Format.fixed(x, x < 100 ? 3 : 1)
    }

    static func document(results: [RowResult], facts: [(String, Int)], derived: [DerivedFigure], config: Config,
                         machine: MachineInfo, sink: UInt64) -> String {
        var rows = [String]()
        for r in results {
            var fields = [
                ("name", string(r.name)),
                ("median_ns", number(r.ours.median)),
                ("ops_per_s", number(r.opsPerSecond)),
                ("baseline_name", string(r.baseline.name)),
                ("baseline_median_ns", number(r.baseline.median)),
                ("ratio", Format.fixed(r.ratio, 4)),
                ("paired_ratio", Format.fixed(r.pairedRatio, 4)),
                ("repetitions", String(r.ours.nsPerOp.count)),
                ("ours_name", string(r.ours.name)),
                ("iterations_per_repetition", String(r.ours.iterations)),
                ("baseline_iterations_per_repetition", String(r.baseline.iterations)),
                ("min_ns", number(r.ours.min)),
                ("max_ns", number(r.ours.max)),
                ("baseline_min_ns", number(r.baseline.min)),
                ("baseline_max_ns", number(r.baseline.max)),
            ]
            if r.kind == .speedup {
                fields.append(("speedup", Format.fixed(r.speedup, 4)))
            }
            rows.append("    {" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}")
        }
        return """
        {
          "date": \(string(machine.date)),
          "machine": {"arch": \(string(machine.arch)), "nproc": \(machine.nproc), "cpu": \(string(machine.cpu))},
          "swift_version": \(string(machine.swiftVersion)),
          "mode": \(string(config.quick ? "quick" : "full")),
          "target_repetition_ms": \(Format.fixed(config.targetRepetitionNs / 1e6, 1)),
          "sink": \(string(String(sink, radix: 16))),
          "facts": {\(facts.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", "))},
          "derived": {\(derived.map { "\(string($0.key)): \(number($0.value))" }.joined(separator: ", "))},
          "results": [
        \(rows.joined(separator: ",\n"))
          ]
        }

        """
    }
}

// MARK: - Machine

struct MachineInfo {
    var date: String
    var arch: String
    var nproc: Int
    var cpu: String
    var swiftVersion: String

    static func current() -> MachineInfo {
        MachineInfo(date: utcNow(), arch: unameMachine(), nproc: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
                    cpu: cpuModel(), swiftVersion: swiftVersion())
    }

    private static func utcNow() -> String {
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func unameMachine() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &u.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The first line of `command`'s output that contains `marker`, or nil.
    private static func line(of command: String, containing marker: String) -> String? {
        guard let f = popen(command, "r") else { return nil }
        defer { pclose(f) }
        var buf = [CChar](repeating: 0, count: 512)
        while fgets(&buf, Int32(buf.count), f) != nil {
            let bytes = buf.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }
            let line = String(decoding: bytes, as: UTF8.self)
            if line.contains(marker) { return line }
        }
        return nil
    }

    private static func cpuModel() -> String {
        guard let f = fopen("/proc/cpuinfo", "r") else { return "unknown" }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 512)
        while fgets(&buf, Int32(buf.count), f) != nil {
            let line = String(decoding: buf.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) },
                              as: UTF8.self)
            if line.hasPrefix("model name"), let colon = line.firstIndex(of: ":") {
                return String(line[line.index(after: colon)...].drop { $0 == " " })
            }
        }
        return "unknown"
    }

    /// The toolchain on PATH (normally the one that built the bench under `swift run`).
    private static func swiftVersion() -> String {
        line(of: "swift --version 2>/dev/null", containing: "Swift version") ?? "unknown"
    }
}

/// Writes `text` to `path`; false on failure.
func writeFile(_ path: String, _ text: String) -> Bool {
    guard let f = fopen(path, "w") else { return false }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    return fclose(f) == 0 && written == bytes.count
}
