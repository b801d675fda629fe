import E2EE
import Testing
@testable import RelayProtocol

/// A seeded random-input loop through every parser: random bytes and
/// mutations of valid encodings. No input may trap (a trap ends the test
/// process), and whatever parses must serialise back to the same bytes, so
/// each layout has exactly one encoding of each value.
@Suite struct RandomInputTests {
    static let iterations = 25_000

    static func corpus() throws -> [[UInt8]] {
        var rng = SplitMix64(seed: 7)
        var items: [[UInt8]] = [
            Fixture.alice.serialized,
            try RelayAddress(userID: "A-z_0.9", deviceID: .max).serialized,
            try RelayAddress(userID: String(repeating: "u", count: 64), deviceID: 3).serialized,
            Fixture.envelope.serialized,
            try Envelope(serverID: 0, serverTimeMilliseconds: .max, sender: Fixture.alice, ciphertext: []).serialized,
            try Envelope(serverID: 9, serverTimeMilliseconds: 1, sender: Fixture.bob, ciphertext: rng.bytes(200)).serialized,
            Frame.error(code: 500, reason: "é ✓ 🙂").serialized,
            try KeyUpload().serialized,
            try KeyUploadTests.pinned().serialized,
            try KeyUpload(lastResortKEMPreKey: Fixture.kem(id: 1, key: 0)).serialized,
            Fixture.fullUpload().serialized,
        ]
        items += Fixture.frames.map(\.serialized)
        return items
    }

    enum Mutation: CaseIterable {
        case randomBytes, randomFrameLike, flipBits, setByte, truncate, append, insert, delete, extremeField, splice
    }

    static func mutate(_ corpus: [[UInt8]], _ rng: inout SplitMix64) -> [UInt8] {
        var input = corpus.randomElement(using: &rng)!
        switch Mutation.allCases.randomElement(using: &rng)! {
        case .randomBytes:
            return rng.bytes(Int.random(in: 0...64, using: &rng))
        case .randomFrameLike:
            // A plausible leading byte, so that parsers get past their first check.
            return [UInt8.random(in: 0...7, using: &rng)] + rng.bytes(Int.random(in: 0...300, using: &rng))
        case .flipBits:
            guard !input.isEmpty else { return input }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                input[Int.random(in: 0..<input.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
        case .setByte:
            guard !input.isEmpty else { return input }
            input[Int.random(in: 0..<input.count, using: &rng)] = [0x00, 0xFF, 0x7F, 0x80, UInt8.random(in: 0...255, using: &rng)]
                .randomElement(using: &rng)!
        case .truncate:
            input.removeLast(Int.random(in: 0...input.count, using: &rng))
        case .append:
            input += rng.bytes(Int.random(in: 1...4, using: &rng))
        case .insert:
            input.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...input.count, using: &rng))
        case .delete:
            guard !input.isEmpty else { return input }
            input.remove(at: Int.random(in: 0..<input.count, using: &rng))
        case .extremeField:
            // Where a length or count may sit: all ones, all zeros, the top bit, small values.
            let width = [2, 4, 8].randomElement(using: &rng)!
            guard input.count >= width else { return input }
            let at = Int.random(in: 0...(input.count - width), using: &rng)
            let fill: [UInt8] = [[0xFF], [0x00], [0x80] + [UInt8](repeating: 0, count: width - 1),
                                 [UInt8](repeating: 0, count: width - 1) + [UInt8.random(in: 0...8, using: &rng)]]
                .randomElement(using: &rng)!
            for i in 0..<width { input[at + i] = fill.count == 1 ? fill[0] : fill[i] }
        case .splice:
            let other = corpus.randomElement(using: &rng)!
            let cut = Int.random(in: 0...input.count, using: &rng)
            let from = Int.random(in: 0...other.count, using: &rng)
            input = Array(input[0..<cut]) + other[from...]
        }
        return input
    }

    @Test func corpusParses() throws {
        for input in try Self.corpus() {
            // Layouts may coincide (an envelope of 33 bytes starting 0x01 is also a
            // challenge frame); what matters is that a valid encoding is taken.
            #expect(parsers.contains { (try? $0.parse(input)) == input }, "\(input.prefix(8))")
        }
    }

    @Test func randomInputsNeverTrapAndParsedRoundTrips() throws {
        let corpus = try Self.corpus()
        var rng = SplitMix64(seed: 0x5EED_0001)
        var accepted = [String: Int]()
        for iteration in 0..<Self.iterations {
            let input = Self.mutate(corpus, &rng)
            for parser in parsers {
                guard let again = try? parser.parse(input) else { continue }
                accepted[parser.name, default: 0] += 1
                if again != input {
                    Issue.record("\(parser.name) re-serialised differently, iteration \(iteration), input \(input)")
                }
            }
        }
        // Mutations that keep an encoding valid (ids, times, key bits) reach
        // every parser's accepting path, so the loop is not all refusals.
        for parser in parsers {
            #expect(accepted[parser.name, default: 0] > 100, "\(parser.name): \(accepted[parser.name, default: 0]) accepted")
        }
    }
}
