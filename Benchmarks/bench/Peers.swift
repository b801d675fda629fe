import E2EE
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Peers side by side: `scripts/bench.sh --peers` builds the harnesses of
// Benchmarks/peers (libolm, libsignal-protocol-c), runs them, and hands their
// output to `bench --peers FILE`, which runs the matching rows of ours in the
// same sitting and prints both, with ratio = peer median / ours (> 1: ours is
// faster). Each harness's lines: `peer<TAB>name`, `op<TAB>key<TAB>median ns`,
// `size<TAB>key<TAB>bytes`.

/// One peer library's figures.
struct PeerResults {
    var name: String
    var ops: [String: Double] = [:]
    var sizes: [String: Int] = [:]
}

enum PeerError: Error, CustomStringConvertible {
    case unreadable(String)
    case malformed(String, line: String)

    var description: String {
        switch self {
        case .unreadable(let p): return "cannot read \(p)"
        case .malformed(let p, let line): return "\(p): unexpected line '\(line)'"
        }
    }
}

/// What the peer rows compare: our bench row (its median) and the peer's key.
enum PeerRows {
    static let operations: [(label: String, ours: String, key: String)] = [
        ("session setup pair (X3DH; libolm: 3DH)", SetupRows.classical, "setup_pair"),
        ("encrypt 100 B", "session encrypt 100 B", "encrypt_100"),
        ("decrypt 100 B (consecutive messages)", "session decrypt 100 B, a live receiver (consecutive messages)",
         "decrypt_100"),
        ("encrypt 16 KiB", "session encrypt 16 KiB", "encrypt_16k"),
        ("decrypt 16 KiB (consecutive messages)", "session decrypt 16 KiB, a live receiver (consecutive messages)",
         "decrypt_16k"),
        ("ping-pong round trip", "ping-pong round trip (a DH ratchet each way)", "ping_pong"),
        ("group encrypt 100 B", "group encrypt 100 B", "group_encrypt_100"),
        ("group decrypt 100 B", "group decrypt 100 B", "group_decrypt_100"),
    ]

    /// Rows of ours that are shown for information (no peer has them).
    static let extra = [SetupRows.pq]

    static let sizes: [(label: String, key: String)] = [
        ("first message, 100 B plaintext (X3DH; PQXDH below)", "first_message_100"),
        ("message in a session, 100 B plaintext", "message_100"),
        ("group message, 100 B plaintext", "group_message_100"),
        ("session record after one message each way", "session_record"),
    ]

    /// The rows `--peers` runs when no `--filter` is given.
    static var rowNames: [String] { operations.map(\.ours) + extra }
}

func loadPeerResults(_ path: String) throws(PeerError) -> PeerResults {
    guard let f = fopen(path, "r") else { throw .unreadable(path) }
    defer { fclose(f) }
    var result = PeerResults(name: path)
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), f) != nil {
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingSuffix("\n")
        if line.isEmpty { continue }
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        switch (fields.first, fields.count) {
        case ("peer", 2): result.name = fields[1]
        case ("op", 3):
            guard let v = Double(fields[2]), v > 0 else { throw .malformed(path, line: line) }
            result.ops[fields[1]] = v
        case ("size", 3):
            guard let v = Int(fields[2]), v > 0 else { throw .malformed(path, line: line) }
            result.sizes[fields[1]] = v
        default: throw .malformed(path, line: line)
        }
    }
    return result
}

private extension String {
    func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
}

/// Our sizes for the peer table, made the way the peers' are.
func ourPeerSizes() throws -> [String: Int] {
    let pt = FillerBytes.bytes(Sizes.small, seed: 27)
    var sizes = [String: Int]()
    let x3dh = try SetupFixture(.x3dh).once(pt)
    sizes["first_message_100"] = x3dh.first.count
    sizes["first_message_100_pq"] = try SetupFixture(.pqxdh).once(pt).first.count
    var p = try SessionPair()
    sizes["message_100"] = try p.alice.encrypt(pt).count
    _ = try p.bob.decrypt(try p.alice.encrypt(pt))
    sizes["session_record"] = p.bob.serialized().count
    var g = try GroupPair()
    sizes["group_message_100"] = try g.sender.encrypt(pt).count
    return sizes
}

/// The side-by-side table, and the figures for the JSON.
func peerTable(_ peers: [PeerResults], _ results: [RowResult]) throws -> (text: String, derived: [DerivedFigure], facts: [(String, Int)]) {
    var lines = [String]()
    var derived = [DerivedFigure]()
    var facts = [(String, Int)]()
    let labels = PeerRows.operations.map(\.label) + PeerRows.sizes.map(\.label)
        + ["session setup pair, PQXDH (no peer has it)", "first message, 100 B plaintext, PQXDH"]
    let width = labels.map(\.count).max() ?? 20
    func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        s.count >= n ? s : (left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
    func us(_ ns: Double) -> String { ns >= 10_000 ? Format.fixed(ns / 1000, 0) : Format.fixed(ns / 1000, 2) }

    var header = pad("operation (median µs)", width) + " | " + pad("swift-e2ee", 10, left: true)
    for p in peers { header += " | " + pad(p.name, 22, left: true) + " | " + pad("×", 6, left: true) }
    lines.append(header)
    lines.append(String(repeating: "-", count: header.count))
    for op in PeerRows.operations {
        guard let ours = results.first(where: { $0.name == op.ours })?.ours.median else { continue }
        var line = pad(op.label, width) + " | " + pad(us(ours), 10, left: true)
        for p in peers {
            if let theirs = p.ops[op.key] {
                line += " | " + pad(us(theirs), 22, left: true) + " | " + pad(Format.fixed(theirs / ours, 2), 6, left: true)
                derived.append(DerivedFigure("peer \(p.name): \(op.key) median", theirs, .ns))
                derived.append(DerivedFigure("peer \(p.name): \(op.key) / swift-e2ee", theirs / ours, .ratio))
            } else {
                line += " | " + pad("—", 22, left: true) + " | " + pad("", 6)
            }
        }
        lines.append(line)
    }
    if let pq = results.first(where: { $0.name == SetupRows.pq })?.ours.median {
        lines.append(pad("session setup pair, PQXDH (no peer has it)", width) + " | " + pad(us(pq), 10, left: true))
    }
    lines.append("")
    let ourSizes = try ourPeerSizes()
    var sizeHeader = pad("size (bytes)", width) + " | " + pad("swift-e2ee", 10, left: true)
    for p in peers { sizeHeader += " | " + pad(p.name, 22, left: true) + " | " + pad("", 6) }
    lines.append(sizeHeader)
    lines.append(String(repeating: "-", count: sizeHeader.count))
    for s in PeerRows.sizes {
        var line = pad(s.label, width) + " | " + pad(ourSizes[s.key].map(String.init) ?? "—", 10, left: true)
        for p in peers {
            line += " | " + pad(p.sizes[s.key].map(String.init) ?? "—", 22, left: true) + " | " + pad("", 6)
            if let v = p.sizes[s.key] { facts.append(("peer \(p.name): \(s.key) (bytes)", v)) }
        }
        lines.append(line)
    }
    if let pq = ourSizes["first_message_100_pq"] {
        lines.append(pad("first message, 100 B plaintext, PQXDH", width) + " | " + pad(String(pq), 10, left: true))
    }
    return (lines.joined(separator: "\n"), derived, facts)
}
