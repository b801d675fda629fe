import Foundation
import Testing
@testable import E2EE

/// Decodes lowercase or uppercase hex; traps on malformed test data.
func hex(_ s: String) -> [UInt8] {
    precondition(s.count % 2 == 0, "odd-length hex in a test vector")
    var out = [UInt8]()
    out.reserveCapacity(s.count / 2)
    var it = s.utf8.makeIterator()
    while let hi = it.next(), let lo = it.next() {
        out.append(nibble(hi) << 4 | nibble(lo))
    }
    return out
}

private func nibble(_ c: UInt8) -> UInt8 {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x61...0x66: return c - 0x61 + 10
    case 0x41...0x46: return c - 0x41 + 10
    default: preconditionFailure("bad hex digit in a test vector")
    }
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// The one loader for `Tests/Vectors/*.json`.
func loadVectors<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors").appendingPathComponent(name)
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// Deterministic bytes for tests that need many distinct inputs.
func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ 1) }
}

func key(_ bytes: [UInt8]) throws -> MessageKey {
    try MessageKey(rawRepresentation: bytes)
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
}

extension Received {
    /// Lets a test compare what `receive` returned with the plaintext it expects.
    static func == (received: Received, plaintext: [UInt8]) -> Bool { received == .message(plaintext) }
}
