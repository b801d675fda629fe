import Metrics
import Synchronization

/// A swift-metrics backend that keeps counters and gauges in memory and
/// renders them in Prometheus' text format for `GET /metrics`. Only numbers
/// and route names are recorded: never a key, an address or a body.
public final class PrometheusMetrics: MetricsFactory, Sendable {
    private final class Counter: CounterHandler, Sendable {
        let value = Atomic<Int64>(0)
        func increment(by amount: Int64) { value.wrappingAdd(amount, ordering: .relaxed) }
        func reset() { value.store(0, ordering: .relaxed) }
    }

    private final class Gauge: RecorderHandler, Sendable {
        let value = Mutex<Double>(0)
        func record(_ v: Int64) { value.withLock { $0 = Double(v) } }
        func record(_ v: Double) { value.withLock { $0 = v } }
    }

    /// Seconds as a sum and a count: a mean, not a histogram, is all this needs.
    private final class Timer: TimerHandler, Sendable {
        let state = Mutex<(sum: Double, count: Int64)>((0, 0))
        func recordNanoseconds(_ duration: Int64) {
            state.withLock { $0.sum += Double(duration) / 1e9; $0.count += 1 }
        }
    }

    private struct Key: Hashable {
        let label: String
        let dimensions: [String]
    }

    private let counters = Mutex<[Key: Counter]>([:])
    private let gauges = Mutex<[Key: Gauge]>([:])
    private let timers = Mutex<[Key: Timer]>([:])

    public init() {}

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { Self.handler(in: &$0, Self.key(label, dimensions), Counter()) }
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        gauges.withLock { Self.handler(in: &$0, Self.key(label, dimensions), Gauge()) }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        timers.withLock { Self.handler(in: &$0, Self.key(label, dimensions), Timer()) }
    }

    /// The handler already made for `key` (one series per name and labels), else `fresh`, kept.
    private static func handler<H>(in table: inout [Key: H], _ key: Key, _ fresh: @autoclosure () -> H) -> H {
        if let existing = table[key] { return existing }
        let made = fresh()
        table[key] = made
        return made
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    /// The exposition: one `# TYPE` line per metric name, series sorted.
    public func render() -> String {
        var lines = [String]()
        func emit(_ type: String, _ series: [(Key, String)]) {
            var typed = Set<String>()
            for (key, value) in series.sorted(by: { Self.name($0.0) < Self.name($1.0) }) {
                if typed.insert(key.label).inserted { lines.append("# TYPE \(key.label) \(type)") }
                lines.append("\(Self.name(key)) \(value)")
            }
        }
        emit("counter", counters.withLock { $0.map { ($0.key, String($0.value.value.load(ordering: .relaxed))) } })
        emit("gauge", gauges.withLock { $0.map { ($0.key, Self.number($0.value.value.withLock { $0 })) } })
        let timed = timers.withLock { $0.map { ($0.key, $0.value.state.withLock { $0 }) } }
        emit("summary", timed.flatMap { key, state in
            [(Key(label: key.label + "_sum", dimensions: key.dimensions), Self.number(state.sum)),
             (Key(label: key.label + "_count", dimensions: key.dimensions), String(state.count))]
        })
        return lines.joined(separator: "\n") + "\n"
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> Key {
        Key(label: sanitize(label), dimensions: dimensions.map { "\(sanitize($0.0))=\"\(escape($0.1))\"" }.sorted())
    }

    private static func name(_ key: Key) -> String {
        key.dimensions.isEmpty ? key.label : "\(key.label){\(key.dimensions.joined(separator: ","))}"
    }

    private static func sanitize(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) ? Character($0) : "_" })
    }

    private static func escape(_ s: String) -> String {
        s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n")
    }

    private static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
