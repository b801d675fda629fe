import Testing
@testable import RelayProtocol

// One example per case with the code `String(describing:)` printed before
// RelayWireError had a description. `RelayWireCase` mirrors the cases without payload;
// `key` and `example` are switches without `default`, so a new case stops them
// compiling until it has an example.
enum RelayWireCase: CaseIterable, Sendable {
    case truncated, trailingBytes, unknownVersion, unknownKind, unknownFrameType, invalidUserIDLength
    case invalidUserIDByte, invalidDeviceID, tooLarge, tooMany, invalidFlags, invalidKey, invalidUTF8
    case invalidField, duplicateID

    static func key(_ e: RelayWireError) -> Self {
        switch e {
        case .truncated: .truncated
        case .trailingBytes: .trailingBytes
        case .unknownVersion: .unknownVersion
        case .unknownKind: .unknownKind
        case .unknownFrameType: .unknownFrameType
        case .invalidUserIDLength: .invalidUserIDLength
        case .invalidUserIDByte: .invalidUserIDByte
        case .invalidDeviceID: .invalidDeviceID
        case .tooLarge: .tooLarge
        case .tooMany: .tooMany
        case .invalidFlags: .invalidFlags
        case .invalidKey: .invalidKey
        case .invalidUTF8: .invalidUTF8
        case .invalidField: .invalidField
        case .duplicateID: .duplicateID
        }
    }

    var example: (RelayWireError, String) {
        switch self {
        case .truncated: (.truncated(needed: 8, available: 3), "truncated(needed: 8, available: 3)")
        case .trailingBytes: (.trailingBytes(count: 1), "trailingBytes(count: 1)")
        case .unknownVersion: (.unknownVersion(2), "unknownVersion(2)")
        case .unknownKind: (.unknownKind(9), "unknownKind(9)")
        case .unknownFrameType: (.unknownFrameType(0x7f), "unknownFrameType(127)")
        case .invalidUserIDLength: (.invalidUserIDLength(65), "invalidUserIDLength(65)")
        case .invalidUserIDByte: (.invalidUserIDByte(0x2f), "invalidUserIDByte(47)")
        case .invalidDeviceID: (.invalidDeviceID(0), "invalidDeviceID(0)")
        case .tooLarge: (.tooLarge(field: "ciphertext", size: 70_000, max: 65_536), "tooLarge(field: \"ciphertext\", size: 70000, max: 65536)")
        case .tooMany: (.tooMany(field: "OPK", count: 1001, max: 1000), "tooMany(field: \"OPK\", count: 1001, max: 1000)")
        case .invalidFlags: (.invalidFlags(0x80), "invalidFlags(128)")
        case .invalidKey: (.invalidKey(field: "KEM"), "invalidKey(field: \"KEM\")")
        case .invalidUTF8: (.invalidUTF8(field: "reason"), "invalidUTF8(field: \"reason\")")
        case .invalidField: (.invalidField("OPK_id"), "invalidField(\"OPK_id\")")
        case .duplicateID: (.duplicateID(field: "KEM_id", id: 8), "duplicateID(field: \"KEM_id\", id: 8)")
        }
    }
}

@Suite struct RelayWireErrorDescriptionTests {
    @Test func everyCaseHasAnExample() {
        for k in RelayWireCase.allCases { #expect(RelayWireCase.key(k.example.0) == k) }
    }

    @Test(arguments: RelayWireCase.allCases)
    func codeIsTheOldDefaultRendering(_ k: RelayWireCase) {
        #expect(k.example.0.code == k.example.1)
    }

    @Test func descriptionsAreOneDistinctLineAfterTheCode() {
        var seen = Set<Substring>()
        for k in RelayWireCase.allCases {
            let e = k.example.0
            #expect(e.description.hasPrefix(e.code + ": "), "\(e.description)")
            let text = e.description.dropFirst(e.code.count + 2)
            #expect(text.count > 20 && !text.contains { $0.isNewline }, "\(e.code)")
            #expect(seen.insert(text).inserted, "\(e.code) shares its explanation")
        }
    }
}
