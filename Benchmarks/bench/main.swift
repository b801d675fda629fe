// swift run -c release bench [--quick] [--filter SUBSTRING]... [--json FILE] [--list] [--peers FILE]...
//
// Times each E2EE operation next to the raw libsodium/libb2/swift-crypto call it wraps,
// from the same run, and prints median ns/op and ours/baseline ratios.
import CBenchRaw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let usage = """
    usage: bench [--quick] [--filter SUBSTRING]... [--json FILE] [--list] [--peers FILE]...
      --quick             \(Config.quick.repetitions) repetitions of ~\(Int(Config.quick.targetRepetitionNs / 1e6)) ms \
    (default \(Config.full.repetitions) of ~\(Int(Config.full.targetRepetitionNs / 1e6)) ms), for CI smoke runs
      --filter SUBSTRING  only rows whose name contains SUBSTRING (case-insensitive);
                          repeated, rows that match any of them
      --json FILE         also write the results as JSON to FILE
      --list              print the row names and exit
      --peers FILE        a peer library's figures (Benchmarks/peers harness output;
                          scripts/bench.sh --peers makes them): runs the rows they
                          compare with (unless --filter says otherwise) and prints
                          both side by side; repeated, one file per peer
    """

struct Options {
    var quick = false
    var filters: [String] = []
    var jsonPath: String?
    var list = false
    var help = false
    var peers: [String] = []
}

struct UsageError: Error {
    let message: String
}

func parseOptions(_ args: ArraySlice<String>) throws(UsageError) -> Options {
    var o = Options()
    var it = args.makeIterator()
    func value(for flag: String) throws(UsageError) -> String {
        guard let v = it.next(), !v.hasPrefix("--") else { throw UsageError(message: "\(flag) needs a value") }
        return v
    }
    while let arg = it.next() {
        switch arg {
        case "--quick": o.quick = true
        case "--filter": o.filters.append(try value(for: arg))
        case "--json": o.jsonPath = try value(for: arg)
        case "--list": o.list = true
        case "--peers": o.peers.append(try value(for: arg))
        case "-h", "--help": o.help = true
        default: throw UsageError(message: "unknown argument '\(arg)'")
        }
    }
    return o
}

func printError(_ s: String) {
    let line = s + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
}

func runBench() -> Int32 {
    let options: Options
    do {
        options = try parseOptions(CommandLine.arguments.dropFirst())
    } catch {
        printError("bench: \(error.message)\n\(usage)")
        return 2
    }
    if options.help {
        print(usage)
        return 0
    }

    var comparisons = allComparisons()
    var peers = [PeerResults]()
    do { peers = try options.peers.map(loadPeerResults) } catch {
        printError("bench: \(error)")
        return 2
    }
    if !peers.isEmpty, options.filters.isEmpty {
        let wanted = Set(PeerRows.rowNames)
        comparisons = comparisons.filter { wanted.contains($0.name) }
    }
    if !options.filters.isEmpty {
        let fs = options.filters.map { $0.lowercased() }
        comparisons = comparisons.filter { c in fs.contains { c.name.lowercased().contains($0) } }
        if comparisons.isEmpty {
            printError("bench: no row matches '\(fs.joined(separator: "' or '"))'; --list shows the rows")
            return 2
        }
    }
    if options.list {
        comparisons.forEach { print($0.name) }
        return 0
    }

    guard sodium_init() >= 0 else {
        printError("bench: sodium_init failed")
        return 1
    }
    #if DEBUG
    printError("bench: WARNING: debug build, figures are meaningless; use swift run -c release bench")
    #endif

    let failures = selfCheck()
    guard failures.isEmpty else {
        failures.forEach { printError("bench: self-check: \($0)") }
        return 1
    }

    // Fail before the run, not after it, if the JSON cannot be written.
    if let path = options.jsonPath, !writeFile(path, "") {
        printError("bench: cannot write \(path)")
        return 1
    }

    let config = options.quick ? Config.quick : Config.full
    let started = monotonicNs()
    print("self-check passed: KDF_CK, chain advance, AEAD_v1 (100 B, 16 KiB), batches and Ed25519 match raw libb2/libsodium;")
    print("ML-KEM-1024 matches raw swift-crypto; the PQXDH setup rows make PQ sessions, the X3DH ones classical")
    print("mode \(config.quick ? "quick" : "full"): \(config.repetitions) repetitions per side of ~\(Format.fixed(config.targetRepetitionNs / 1e6, 0)) ms, ours and baseline alternating; medians")
    print("ratio = median(ours) / median(baseline), 1.00 = no overhead; paired = median of the back-to-back")
    print("per-repetition ratios (steadier on a noisy machine); for batches, speedup = baseline / ours\n")

    // Build the cases once to size the baseline column.
    var baselineNames = [String]()
    for c in comparisons {
        guard let b = try? c.baseline() else { continue }
        baselineNames.append(b.name)
    }
    let table = TablePrinter(rowNames: comparisons.map(\.name), baselineNames: baselineNames)
    print(table.header())
    fflush(nil)

    var runner = Runner(config: config)
    var results = [RowResult]()
    for c in comparisons {
        do {
            let r = try runner.measure(c)
            results.append(r)
            print(table.row(r))
            fflush(nil)
        } catch {
            printError("bench: \(c.name): \(error)")
            return 1
        }
    }
    let facts: [(String, Int)]
    do { facts = try sessionFacts() + storeFacts() + groupFacts() } catch {
        printError("bench: record sizes: \(error)")
        return 1
    }
    print("")
    for (name, value) in facts { print("\(name): \(value)") }
    var derived = setupFigures(results)
    if !derived.isEmpty {
        print("\nfrom the medians above (same run):")
        for d in derived { print("\(d.name): \(d.formatted)") }
    }
    var allFacts = facts
    if !peers.isEmpty {
        let table: (text: String, derived: [DerivedFigure], facts: [(String, Int)])
        do { table = try peerTable(peers, results) } catch {
            printError("bench: peer table: \(error)")
            return 1
        }
        print("\nside by side with peers (same sitting; × = peer median / swift-e2ee median, above 1: swift-e2ee is faster)")
        print(table.text)
        derived += table.derived
        allFacts += table.facts
    }
    let seconds = Double(monotonicNs() - started) / 1e9
    print("\n\(results.count) rows in \(Format.fixed(seconds, 1)) s (sink \(String(runner.sink, radix: 16)))")

    if let path = options.jsonPath {
        let doc = BenchJSON.document(results: results, facts: allFacts, derived: derived, config: config,
                                     machine: MachineInfo.current(), sink: runner.sink)
        guard writeFile(path, doc) else {
            printError("bench: cannot write \(path)")
            return 1
        }
        print("wrote \(path)")
    }
    return 0
}

exit(runBench())
