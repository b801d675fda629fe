import E2EE
import Testing
@testable import RelayProtocol

@Suite struct FrameTests {
    static let countingHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    @Test(arguments: zip(Fixture.frames, [
        "01" + countingHex,
        "02" + Fixture.aliceHex + String(repeating: "11", count: 64),
        "03" + Fixture.envelopeHex,
        "04 0000000000000102",
        "05",
        "07",
        "06 0191 0005 68656c6c6f",
    ]))
    func pinnedBytes(frame: Frame, expected: String) throws {
        #expect(frame.serialized == hex(expected))
        #expect(try Frame(serialized: hex(expected)) == frame)
        #expect(frame.serialized.first == frame.type.rawValue)
    }

    @Test func roundTrips() throws {
        var rng = SplitMix64(seed: 1)
        let frames = Fixture.frames + [
            .challenge(AuthNonce.random(using: &rng)),
            .auth(address: try RelayAddress(userID: String(repeating: "q", count: 64), deviceID: .max), signature: rng.bytes(64)),
            .envelope(try Envelope(serverID: .max, serverTimeMilliseconds: 0, sender: Fixture.alice, ciphertext: [])),
            .ack(serverID: 0),
            .ack(serverID: .max),
            .error(code: 0, reason: ""),
            .error(code: .max, reason: "é ✓ 🙂 \u{0}"),
            .error(code: 7, reason: String(repeating: "a", count: Frame.maxReasonBytes)),
            .ready,
            .send(requestID: 0, user: "bob", request: try SendRequest(messages: [:])),
            .send(requestID: .max, user: String(repeating: "z", count: 64),
                  request: try SendRequest(messages: [1: [], 7: rng.bytes(300), .max: [0]])),
            .sendResult(requestID: 9, status: 200, body: try SendResult(serverTimeMilliseconds: 5, serverIDs: [2: 3]).serialized),
            .sendResult(requestID: 9, status: 409, body: try DeviceMismatch(missing: [3], extra: [1, 2]).serialized),
            .sendResult(requestID: 1, status: 429, body: rng.bytes(Frame.maxResultBodyBytes)),
        ]
        for frame in frames {
            #expect(try Frame(serialized: frame.serialized) == frame)
        }
    }

    @Test func errorReasonHasItsUTF8Length() {
        #expect(Frame.error(code: 1, reason: "é").serialized == hex("06 0001 0002 c3a9"))
        #expect(Frame.error(code: 0x1234, reason: "🙂").serialized == hex("06 1234 0004 f09f9982"))
    }

    @Test func longReasonIsCutBetweenCharacters() throws {
        // 600 × 2 bytes: cut to 512 characters (1024 bytes).
        let twoByte = Frame.error(code: 1, reason: String(repeating: "é", count: 600))
        #expect(try Frame(serialized: twoByte.serialized) == .error(code: 1, reason: String(repeating: "é", count: 512)))
        // Odd start: the 513th "é" would end at byte 1025, so 1023 bytes are written.
        let odd = Frame.error(code: 1, reason: "a" + String(repeating: "é", count: 600))
        #expect(odd.serialized.count == 1 + 2 + 2 + 1023)
        #expect(try Frame(serialized: odd.serialized) == .error(code: 1, reason: "a" + String(repeating: "é", count: 511)))
        let fourByte = Frame.error(code: 1, reason: "abc" + String(repeating: "🙂", count: 300))
        #expect(try Frame(serialized: fourByte.serialized) == .error(code: 1, reason: "abc" + String(repeating: "🙂", count: 255)))
    }

    @Test(arguments: [0, 10, 11, 0x7F, 0xFF] as [UInt8])
    func unknownTypeIsRefused(type: UInt8) {
        #expect(throws: RelayWireError.unknownFrameType(type)) { try Frame(serialized: [type]) }
        #expect(throws: RelayWireError.unknownFrameType(type)) { try Frame(serialized: [type] + hex(Fixture.envelopeHex)) }
    }

    @Test func emptyIsTruncated() {
        #expect(throws: RelayWireError.truncated(needed: 1, available: 0)) { try Frame(serialized: []) }
    }

    @Test(arguments: Fixture.frames)
    func everyPrefixIsTruncated(frame: Frame) {
        let bytes = frame.serialized
        for n in 0..<bytes.count {
            let error = wireError { _ = try Frame(serialized: Array(bytes[0..<n])) }
            #expect(isTruncation(error), "prefix \(n): \(String(describing: error))")
        }
    }

    @Test(arguments: Fixture.frames)
    func trailingBytesAreRefused(frame: Frame) {
        #expect(throws: RelayWireError.trailingBytes(count: 1)) { try Frame(serialized: frame.serialized + [0]) }
        #expect(throws: RelayWireError.trailingBytes(count: 2)) { try Frame(serialized: frame.serialized + [1, 2]) }
    }

    @Test(arguments: [
        // A body is the layout's own: the address and envelope rules apply inside frames.
        ("02 00 00000001" + String(repeating: "11", count: 64), RelayWireError.invalidUserIDLength(0)),
        ("02 05616c69636500000000" + String(repeating: "11", count: 64), .invalidDeviceID(0)),
        ("03 02", .unknownVersion(2)),
        ("03 01 02", .unknownKind(2)),
        ("03 01 01 0102030405060708 0000019000000001 03 626f62 00000002 ffffffff",
         .tooLarge(field: "len", size: 0xFFFF_FFFF, max: Envelope.maxMessageBytes)),
        // Reason length: above 1 KiB is refused before reading, valid UTF-8 required.
        ("06 0001 0401", .tooLarge(field: "reason", size: 1025, max: 1024)),
        ("06 0001 ffff", .tooLarge(field: "reason", size: 0xFFFF, max: 1024)),
        ("06 0001 0002 61", .truncated(needed: 2, available: 1)),
        ("06 0001 0001 ff", .invalidUTF8(field: "reason")),
        ("06 0001 0001 80", .invalidUTF8(field: "reason")),
        ("06 0001 0002 c080", .invalidUTF8(field: "reason")),
        ("06 0001 0003 eda080", .invalidUTF8(field: "reason")),
        ("06 0001 0002 e282", .invalidUTF8(field: "reason")),
        ("06 0001 0004 f4908080", .invalidUTF8(field: "reason")),
    ] as [(String, RelayWireError)])
    func refused(bytes: String, expected: RelayWireError) {
        #expect(throws: expected) { try Frame(serialized: hex(bytes)) }
    }

    @Test func challengeMustBe32Bytes() {
        #expect(throws: RelayWireError.truncated(needed: 32, available: 31)) {
            try Frame(serialized: [1] + [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: RelayWireError.trailingBytes(count: 1)) {
            try Frame(serialized: [1] + [UInt8](repeating: 0, count: 33))
        }
    }

    @Test func sendFramesHaveTheirLayout() throws {
        let send = Frame.send(requestID: 0x01020304, user: "bob", request: try SendRequest(messages: [2: [0xaa, 0xbb]]))
        #expect(send.serialized == hex("08 01020304 03 626f62 0001 00000002 00000002 aabb"))
        let result = Frame.sendResult(requestID: 7, status: 409, body: [1, 2])
        #expect(result.serialized == hex("09 00000007 0199 0002 0102"))
    }

    @Test func badSendFramesAreRefused() {
        // A user id of length 0, one with a space, a request that does not parse, devices out of order.
        #expect(throws: RelayWireError.invalidUserIDLength(0)) { try Frame(serialized: hex("08 00000001 00 0000")) }
        #expect(throws: RelayWireError.invalidUserIDByte(0x20)) { try Frame(serialized: hex("08 00000001 03 622062 0000")) }
        #expect(throws: RelayWireError.truncated(needed: 2, available: 1)) { try Frame(serialized: hex("08 00000001 01 62 00")) }
        #expect(throws: RelayWireError.invalidField("devices out of order: 1 after 2")) {
            try Frame(serialized: hex("08 00000001 01 62 0002 00000002 00000000 00000001 00000000"))
        }
        let tooLong = hex("09 00000001 00c8 1001") + [UInt8](repeating: 0, count: Frame.maxResultBodyBytes + 1)
        #expect(throws: RelayWireError.tooLarge(field: "result", size: Frame.maxResultBodyBytes + 1, max: Frame.maxResultBodyBytes)) {
            try Frame(serialized: tooLong)
        }
    }
}
