// The figures of one row: per-operation samples of both sides, their medians,
// ratios and noise, and the figures derived across rows.

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
