import E2EE
import Testing
@testable import RelayProtocol

@Suite struct RelayAddressTests {
    @Test func pinnedBytes() {
        #expect(Fixture.alice.serialized == hex(Fixture.aliceHex))
        #expect(try! RelayAddress(userID: "A-z_0.9", deviceID: .max).serialized
            == hex("07 412d7a5f302e39 ffffffff"))
    }

    @Test(arguments: ["a", "alice", "A-z_0.9", String(repeating: "x", count: 64), "..", "-", "_"])
    func roundTrip(userID: String) throws {
        for device: UInt32 in [1, 2, 0x8000_0000, .max] {
            let address = try RelayAddress(userID: userID, deviceID: device)
            let parsed = try RelayAddress(serialized: address.serialized)
            #expect(parsed == address)
            #expect(parsed.protocolAddress == ProtocolAddress(userID: userID, deviceID: device))
            #expect(parsed.serialized.count == 1 + userID.utf8.count + 4)
        }
    }

    @Test(arguments: [
        ("", RelayWireError.invalidUserIDLength(0)),
        (String(repeating: "x", count: 65), .invalidUserIDLength(65)),
        (String(repeating: "é", count: 40), .invalidUserIDLength(80)),
        ("a b", .invalidUserIDByte(0x20)),
        ("a/b", .invalidUserIDByte(0x2F)),
        ("a@b", .invalidUserIDByte(0x40)),
        ("a+b", .invalidUserIDByte(0x2B)),
        ("a\u{0}", .invalidUserIDByte(0x00)),
        ("é", .invalidUserIDByte(0xC3)),
        ("alice\n", .invalidUserIDByte(0x0A)),
    ] as [(String, RelayWireError)])
    func constructionRefusesUserID(userID: String, expected: RelayWireError) {
        #expect(throws: expected) { try RelayAddress(userID: userID, deviceID: 1) }
        #expect(throws: expected) { try RelayAddress.checkUserID(userID) }
    }

    @Test func constructionRefusesDeviceZero() {
        #expect(throws: RelayWireError.invalidDeviceID(0)) { try RelayAddress(userID: "alice", deviceID: 0) }
        #expect(throws: RelayWireError.invalidDeviceID(0)) {
            try RelayAddress(ProtocolAddress(userID: "alice", deviceID: 0))
        }
    }

    @Test(arguments: [
        ("00 00000001", RelayWireError.invalidUserIDLength(0)),
        ("41" + String(repeating: "61", count: 65) + "00000001", .invalidUserIDLength(65)),
        ("ff", .invalidUserIDLength(255)),
        ("03 61 2f 62 00000001", .invalidUserIDByte(0x2F)),
        ("02 61 80 00000001", .invalidUserIDByte(0x80)),
        ("01 00 00000001", .invalidUserIDByte(0x00)),
        ("05 616c696365 00000000", .invalidDeviceID(0)),
        ("05 616c696365 00000001 00", .trailingBytes(count: 1)),
        ("05 616c696365 00000001 616c", .trailingBytes(count: 2)),
    ] as [(String, RelayWireError)])
    func parserRefuses(bytes: String, expected: RelayWireError) {
        #expect(throws: expected) { try RelayAddress(serialized: hex(bytes)) }
    }

    @Test func everyPrefixIsTruncated() {
        for address in [Fixture.alice, try! RelayAddress(userID: String(repeating: "z", count: 64), deviceID: 9)] {
            let bytes = address.serialized
            for n in 0..<bytes.count {
                let error = wireError { _ = try RelayAddress(serialized: Array(bytes[0..<n])) }
                #expect(isTruncation(error), "prefix \(n): \(String(describing: error))")
            }
        }
    }
}
