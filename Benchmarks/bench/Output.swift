// What the bench prints and writes: number formatting, the table, the JSON
// document, the machine description.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ToolSupport

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

/// The `--json` document. Strings are escaped by ToolSupport's `JSON.quoted`,
/// the one the command-line tool's JSON uses.
enum BenchJSON {
    private static func string(_ s: String) -> String {
        JSON.quoted(s)
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
