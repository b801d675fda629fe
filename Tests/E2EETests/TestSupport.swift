import Foundation
import Testing
import ToolSupport
@testable import E2EE

/// Decodes lowercase or uppercase hex; traps on malformed test data.
func hex(_ s: String) -> [UInt8] {
    guard let bytes = Hex.decode(s) else { preconditionFailure("malformed hex in a test vector: \(s)") }
    return bytes
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    Hex.encode(bytes)
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
