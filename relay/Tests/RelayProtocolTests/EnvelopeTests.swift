import E2EE
import Testing
@testable import RelayProtocol

@Suite struct EnvelopeTests {
    @Test func pinnedBytes() throws {
        #expect(Fixture.envelope.serialized == hex(Fixture.envelopeHex))
        let parsed = try Envelope(serialized: hex(Fixture.envelopeHex))
        #expect(parsed == Fixture.envelope)
        #expect(parsed.kind == .message)
        #expect(parsed.serverID == 0x0102_0304_0506_0708)
        #expect(parsed.serverTimeMilliseconds == 0x0000_0190_0000_0001)
        #expect(parsed.sender == Fixture.bob)
        #expect(parsed.ciphertext == [0xAA, 0xBB, 0xCC])
    }

    @Test(arguments: [0, 1, 1000, Envelope.maxMessageBytes])
    func roundTrip(size: Int) throws {
        var rng = SplitMix64(seed: UInt64(size))
        let envelope = try Envelope(serverID: rng.next(), serverTimeMilliseconds: rng.next(),
                                    sender: Fixture.alice, ciphertext: rng.bytes(size))
        let bytes = envelope.serialized
        #expect(bytes.count == Envelope.fixedByteCount + 5 + size)
        #expect(try Envelope(serialized: bytes) == envelope)
    }

    @Test func maxMessageBytesIs256KiB() {
        #expect(Envelope.maxMessageBytes == 262_144)
    }

    @Test func constructionRefusesOversizedCiphertext() {
        let size = Envelope.maxMessageBytes + 1
        #expect(throws: RelayWireError.tooLarge(field: "len", size: size, max: Envelope.maxMessageBytes)) {
            try Envelope(serverID: 1, serverTimeMilliseconds: 1, sender: Fixture.alice,
                         ciphertext: [UInt8](repeating: 0, count: size))
        }
    }

    @Test func everyPrefixIsTruncated() {
        let bytes = Fixture.envelope.serialized
        for n in 0..<bytes.count {
            let error = wireError { _ = try Envelope(serialized: Array(bytes[0..<n])) }
            #expect(isTruncation(error), "prefix \(n): \(String(describing: error))")
        }
    }

    /// The envelope with its `len` field and ciphertext replaced.
    static func withLength(_ len: String, ciphertext: String = "") -> [UInt8] {
        hex("01 01 0102030405060708 0000019000000001 03 626f62 00000002" + len + ciphertext)
    }

    @Test(arguments: [
        // An unknown version or kind is its own error, whatever follows.
        ("00", RelayWireError.unknownVersion(0)),
        ("02 01", .unknownVersion(2)),
        ("ff 01", .unknownVersion(255)),
        ("01 00", .unknownKind(0)),
        ("01 02 0102030405060708", .unknownKind(2)),
        ("01 ff", .unknownKind(255)),
        (Fixture.envelopeHex + "00", .trailingBytes(count: 1)),
        (Fixture.envelopeHex + "aabbcc", .trailingBytes(count: 3)),
        // A bad sender is the address's error.
        ("01 01 0102030405060708 0000019000000001 00 00000002 00000000", .invalidUserIDLength(0)),
        ("01 01 0102030405060708 0000019000000001 03 626f62 00000000 00000000", .invalidDeviceID(0)),
    ] as [(String, RelayWireError)])
    func refused(bytes: String, expected: RelayWireError) {
        #expect(throws: expected) { try Envelope(serialized: hex(bytes)) }
    }

    @Test func lengthFieldMustCoverTheRestExactly() {
        let max = Envelope.maxMessageBytes
        // Above the limit: refused on the field alone, before any read or allocation.
        #expect(throws: RelayWireError.tooLarge(field: "len", size: 0xFFFF_FFFF, max: max)) {
            try Envelope(serialized: Self.withLength("ffffffff"))
        }
        #expect(throws: RelayWireError.tooLarge(field: "len", size: max + 1, max: max)) {
            try Envelope(serialized: Self.withLength("00040001"))
        }
        #expect(throws: RelayWireError.tooLarge(field: "len", size: 0x8000_0000, max: max)) {
            try Envelope(serialized: Self.withLength("80000000", ciphertext: "aabbcc"))
        }
        // Within the limit but beyond the input.
        #expect(throws: RelayWireError.truncated(needed: max, available: 3)) {
            try Envelope(serialized: Self.withLength("00040000", ciphertext: "aabbcc"))
        }
        #expect(throws: RelayWireError.truncated(needed: 4, available: 3)) {
            try Envelope(serialized: Self.withLength("00000004", ciphertext: "aabbcc"))
        }
        // Short of the input: the rest is trailing.
        #expect(throws: RelayWireError.trailingBytes(count: 1)) {
            try Envelope(serialized: Self.withLength("00000002", ciphertext: "aabbcc"))
        }
        #expect(throws: RelayWireError.trailingBytes(count: 3)) {
            try Envelope(serialized: Self.withLength("00000000", ciphertext: "aabbcc"))
        }
        #expect((try? Envelope(serialized: Self.withLength("00000003", ciphertext: "aabbcc"))) == Fixture.envelope)
    }
}
