import E2EE
import Testing
@testable import RelayProtocol

@Suite struct KeyUploadTests {
    static let signature5A = String(repeating: "5a", count: 64)
    /// A signed prekey, one one-time prekey and removals, written out from the layout.
    static let pinnedHex = "01"                                         // flags: signed prekey
        + "00000007" + "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" + signature5A
        + "0001" + "0000002a" + "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
        + "0000"                                                         // no one-time KEM prekeys
        + "0002 00000005 00000006"                                      // removed signed prekeys
        + "0001 00000009"                                               // removed KEM prekeys

    static func pinned() throws -> KeyUpload {
        try KeyUpload(
            signedPreKey: .init(id: SignedPreKeyID(rawValue: 7), publicKey: X25519.PublicKey(rawRepresentation: Fixture.alicePublic),
                                signature: [UInt8](repeating: 0x5A, count: 64)),
            oneTimePreKeys: [.init(id: PreKeyID(rawValue: 42), publicKey: X25519.PublicKey(rawRepresentation: Fixture.bobPublic))],
            removedSignedPreKeyIDs: [SignedPreKeyID(rawValue: 5), SignedPreKeyID(rawValue: 6)],
            removedKEMPreKeyIDs: [KEMPreKeyID(rawValue: 9)])
    }

    @Test func pinnedBytes() throws {
        let upload = try Self.pinned()
        #expect(upload.serialized == hex(Self.pinnedHex))
        #expect(try KeyUpload(serialized: hex(Self.pinnedHex)) == upload)
        #expect(try KeyUpload().serialized == hex("00 0000 0000 0000 0000"))
    }

    @Test func kemLayout() throws {
        let lastResort = Fixture.kem(id: 0x0102_0304, key: 0)
        let oneTime = Fixture.kem(id: 5, key: 1)
        let upload = try KeyUpload(lastResortKEMPreKey: lastResort, oneTimeKEMPreKeys: [oneTime])
        let expected = hex("02 0000 01020304") + lastResort.publicKey.rawRepresentation + lastResort.signature
            + hex("0001 00000005") + oneTime.publicKey.rawRepresentation + oneTime.signature + hex("0000 0000")
        #expect(upload.serialized == expected)
        #expect(expected.count == 1 + 2 + 1636 + 2 + 1636 + 4)
        #expect(try KeyUpload(serialized: expected) == upload)
    }

    @Test func roundTrips() throws {
        let uploads = [
            try KeyUpload(),
            try Self.pinned(),
            Fixture.fullUpload(),
            try KeyUpload(signedPreKey: Fixture.signedPreKey()),
            try KeyUpload(removedKEMPreKeyIDs: [KEMPreKeyID(rawValue: 0), KEMPreKeyID(rawValue: .max)]),
            try KeyUpload(oneTimeKEMPreKeys: [Fixture.kem(id: 0, key: 2)]),
        ]
        for upload in uploads {
            #expect(try KeyUpload(serialized: upload.serialized) == upload)
        }
    }

    @Test func boundsAreInclusiveAndMaxByteCountIsExact() throws {
        #expect(KeyUpload.maxOneTimePreKeys == 1000)
        #expect(KeyUpload.maxKEMPreKeys == 200)
        #expect(KeyUpload.maxRemovedIDs == 1000)
        let x = (0..<4).map { Fixture.x25519(UInt8(10 + $0)) }
        let kems = (0..<3).map { Fixture.kem(id: 0, key: $0) }
        let upload = try KeyUpload(
            signedPreKey: Fixture.signedPreKey(),
            oneTimePreKeys: (0..<1000).map { KeyUpload.OneTimePreKey(id: PreKeyID(rawValue: UInt32($0)), publicKey: x[$0 % 4]) },
            lastResortKEMPreKey: Fixture.kem(id: 1000, key: 0),
            oneTimeKEMPreKeys: (0..<200).map {
                PreKeyBundle.KEM(id: KEMPreKeyID(rawValue: UInt32($0)), publicKey: kems[$0 % 3].publicKey, signature: kems[$0 % 3].signature)
            },
            removedSignedPreKeyIDs: (0..<1000).map { SignedPreKeyID(rawValue: UInt32($0)) },
            removedKEMPreKeyIDs: (0..<1000).map { KEMPreKeyID(rawValue: UInt32($0)) })
        let bytes = upload.serialized
        #expect(bytes.count == KeyUpload.maxByteCount)
        #expect(KeyUpload.maxByteCount == 372_945)
        #expect(try KeyUpload(serialized: bytes) == upload)
        #expect(upload.verifySignatures(identity: Fixture.identity.publicKey))
    }

    @Test(arguments: [
        ("00 03e9", RelayWireError.tooMany(field: "OPK", count: 1001, max: 1000)),
        ("00 ffff", .tooMany(field: "OPK", count: 0xFFFF, max: 1000)),
        ("00 0000 00c9", .tooMany(field: "KEM", count: 201, max: 200)),
        ("00 0000 ffff", .tooMany(field: "KEM", count: 0xFFFF, max: 200)),
        ("00 0000 0000 03e9", .tooMany(field: "removed SPK", count: 1001, max: 1000)),
        ("00 0000 0000 ffff", .tooMany(field: "removed SPK", count: 0xFFFF, max: 1000)),
        ("00 0000 0000 0000 03e9", .tooMany(field: "removed KEM", count: 1001, max: 1000)),
        ("00 0000 0000 0000 ffff", .tooMany(field: "removed KEM", count: 0xFFFF, max: 1000)),
        ("04 0000 0000 0000 0000", .invalidFlags(0x04)),
        ("08", .invalidFlags(0x08)),
        ("80", .invalidFlags(0x80)),
        ("ff", .invalidFlags(0xFF)),
        ("00 0000 0000 0000 0000 00", .trailingBytes(count: 1)),
        ("00 0000 0000 0000 0001", .truncated(needed: 4, available: 0)),
        // The id the library reserves for "no one-time prekey".
        ("00 0001 ffffffff de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f 0000 0000 0000",
         .invalidField("OPK_id")),
        ("00 0002 00000001 de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
            + " 00000001 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a 0000 0000 0000",
         .duplicateID(field: "OPK_id", id: 1)),
        ("00 0001 00000001" + String(repeating: "00", count: 32) + "0000 0000 0000", .invalidKey(field: "OPK")),
        ("01 00000001" + String(repeating: "00", count: 32), .invalidKey(field: "SPK")),
    ] as [(String, RelayWireError)])
    func parserRefuses(bytes: String, expected: RelayWireError) {
        #expect(throws: expected) { try KeyUpload(serialized: hex(bytes)) }
    }

    @Test(arguments: [
        Fixture.fullUpload().serialized,
        try! KeyUploadTests.pinned().serialized,
        try! KeyUpload().serialized,
    ])
    func everyPrefixIsTruncatedAndTrailingIsRefused(bytes: [UInt8]) {
        for n in 0..<bytes.count {
            let error = wireError { _ = try KeyUpload(serialized: Array(bytes[0..<n])) }
            #expect(isTruncation(error), "prefix \(n): \(String(describing: error))")
        }
        #expect(throws: RelayWireError.trailingBytes(count: 1)) { try KeyUpload(serialized: bytes + [0]) }
    }

    @Test func kemKeyOfTheWrongSizeOrValueIsRefused() throws {
        let kem = Fixture.kem(id: 1, key: 0)
        let head = hex("02 0000 00000001")
        let tail = kem.signature + hex("0000 0000 0000")
        #expect(try KeyUpload(serialized: head + kem.publicKey.rawRepresentation + tail).lastResortKEMPreKey == kem)
        // One byte short or long shifts every later field: the upload cannot parse.
        #expect(throws: RelayWireError.self) { try KeyUpload(serialized: head + kem.publicKey.rawRepresentation.dropLast() + tail) }
        #expect(throws: RelayWireError.self) { try KeyUpload(serialized: head + kem.publicKey.rawRepresentation + [0] + tail) }
        // Coefficients of 0xFFF are above q = 3329: FIPS 203's modulus check.
        #expect(throws: RelayWireError.invalidKey(field: "KEM")) {
            try KeyUpload(serialized: head + [UInt8](repeating: 0xFF, count: MLKEM.publicKeyByteCount) + tail)
        }
        #expect(throws: RelayWireError.invalidKey(field: "KEM")) {
            try KeyUpload(serialized: hex("00 0000 0001 00000002") + [UInt8](repeating: 0xFF, count: MLKEM.publicKeyByteCount)
                + kem.signature + hex("0000 0000"))
        }
    }

    @Test func constructionRefusesWhatTheParserRefuses() throws {
        let x = Fixture.x25519(9)
        let opk = { (id: UInt32) in KeyUpload.OneTimePreKey(id: PreKeyID(rawValue: id), publicKey: x) }
        #expect(throws: RelayWireError.tooMany(field: "OPK", count: 1001, max: 1000)) {
            try KeyUpload(oneTimePreKeys: (0..<1001).map { opk(UInt32($0)) })
        }
        #expect(throws: RelayWireError.tooMany(field: "KEM", count: 201, max: 200)) {
            try KeyUpload(oneTimeKEMPreKeys: (0..<201).map { Fixture.kem(id: UInt32($0), key: 0) })
        }
        #expect(throws: RelayWireError.tooMany(field: "removed SPK", count: 1001, max: 1000)) {
            try KeyUpload(removedSignedPreKeyIDs: (0..<1001).map { SignedPreKeyID(rawValue: UInt32($0)) })
        }
        #expect(throws: RelayWireError.tooMany(field: "removed KEM", count: 1001, max: 1000)) {
            try KeyUpload(removedKEMPreKeyIDs: (0..<1001).map { KEMPreKeyID(rawValue: UInt32($0)) })
        }
        #expect(throws: RelayWireError.invalidField("OPK_id")) { try KeyUpload(oneTimePreKeys: [opk(0xFFFF_FFFF)]) }
        #expect(throws: RelayWireError.duplicateID(field: "OPK_id", id: 3)) {
            try KeyUpload(oneTimePreKeys: [opk(3), opk(4), opk(3)])
        }
        #expect(throws: RelayWireError.duplicateID(field: "KEM_id", id: 8)) {
            try KeyUpload(lastResortKEMPreKey: Fixture.kem(id: 8, key: 0), oneTimeKEMPreKeys: [Fixture.kem(id: 8, key: 1)])
        }
        #expect(throws: RelayWireError.duplicateID(field: "KEM_id", id: 2)) {
            try KeyUpload(oneTimeKEMPreKeys: [Fixture.kem(id: 2, key: 1), Fixture.kem(id: 2, key: 2)])
        }
        #expect(throws: RelayWireError.invalidField("SPK_sig: 63 bytes, not 64")) {
            try KeyUpload(signedPreKey: .init(id: SignedPreKeyID(rawValue: 1), publicKey: x, signature: [UInt8](repeating: 0, count: 63)))
        }
        let kem = Fixture.kem(id: 1, key: 0)
        #expect(throws: RelayWireError.invalidField("KEM_sig: 65 bytes, not 64")) {
            try KeyUpload(oneTimeKEMPreKeys: [PreKeyBundle.KEM(id: kem.id, publicKey: kem.publicKey, signature: kem.signature + [0])])
        }
        // p + 2: not of low order, so the public initialiser takes it, but not canonical.
        let nonCanonical = try X25519.PublicKey(rawRepresentation: [0xEF] + [UInt8](repeating: 0xFF, count: 30) + [0x7F])
        #expect(throws: RelayWireError.invalidKey(field: "SPK")) {
            try KeyUpload(signedPreKey: .init(id: SignedPreKeyID(rawValue: 1), publicKey: nonCanonical, signature: [UInt8](repeating: 0, count: 64)))
        }
        #expect(throws: RelayWireError.invalidKey(field: "OPK")) {
            try KeyUpload(oneTimePreKeys: [.init(id: PreKeyID(rawValue: 1), publicKey: nonCanonical)])
        }
    }

    /// A key the relay stores is served in a bundle: both parsers must agree on
    /// which X25519 keys they take, at every edge of the canonical and low-order rules.
    @Test func x25519KeysAsTheBundleParserTakesThem() {
        let ff30 = String(repeating: "ff", count: 30)
        let cases: [(key: String, accepted: Bool)] = [
            ("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", true),    // RFC 7748 Alice
            ("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4eea", false),   // with bit 255 set
            ("eb" + ff30 + "7f", true),                                                    // p - 2
            ("ec" + ff30 + "7f", false),                                                   // p - 1, low order
            ("ed" + ff30 + "7f", false),                                                   // p
            ("ee" + ff30 + "7f", false),                                                   // p + 1
            ("ef" + ff30 + "7f", false),                                                   // p + 2, non-canonical
            ("ff" + ff30 + "7f", false),                                                   // 2^255 - 1
            ("ff" + ff30 + "ff", false),
            (String(repeating: "00", count: 32), false),
            ("01" + String(repeating: "00", count: 31), false),
            ("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", false),   // order 8
            ("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", false),   // order 8
            ("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7", false),
            ("09" + String(repeating: "00", count: 31), true),                             // the base point
        ]
        let sig = String(repeating: "00", count: 64)
        for (key, accepted) in cases {
            let spkUpload = hex("01 00000007" + key + sig + "0000 0000 0000 0000")
            let opkUpload = hex("00 0001 00000007" + key + "0000 0000 0000")
            let bundle = hex("01 00") + Fixture.rfcPublic + hex("00000007" + key + sig)
            let bundleWithOPK = hex("01 01") + Fixture.rfcPublic + hex("00000007") + Fixture.alicePublic + hex(sig + "00000007" + key)
            let bundleTakes = (try? PreKeyBundle(serialized: bundle)) != nil
            let bundleTakesOPK = (try? PreKeyBundle(serialized: bundleWithOPK)) != nil
            #expect(bundleTakes == accepted && bundleTakesOPK == accepted, "bundle, \(key)")
            #expect(((try? KeyUpload(serialized: spkUpload)) != nil) == accepted, "SPK \(key)")
            #expect(((try? KeyUpload(serialized: opkUpload)) != nil) == accepted, "OPK \(key)")
        }
    }

    @Test func genuineSignaturesVerify() throws {
        let upload = Fixture.fullUpload()
        let identity = Fixture.identity.publicKey
        #expect(upload.verifySignatures(identity: identity))
        #expect(try KeyUpload(serialized: upload.serialized).verifySignatures(identity: identity))
        #expect(!upload.verifySignatures(identity: Fixture.otherIdentity.publicKey))
        #expect(!Fixture.fullUpload(by: Fixture.otherIdentity).verifySignatures(identity: identity))
        #expect(Fixture.fullUpload(by: Fixture.otherIdentity).verifySignatures(identity: Fixture.otherIdentity.publicKey))
        // Nothing signed, nothing to refuse.
        #expect(try KeyUpload(oneTimePreKeys: upload.oneTimePreKeys).verifySignatures(identity: identity))
    }

    @Test func signatureOverTheRawKeyDoesNotVerify() throws {
        let key = Fixture.x25519(1)
        let upload = try KeyUpload(signedPreKey: .init(id: SignedPreKeyID(rawValue: 1), publicKey: key,
                                                       signature: Fixture.identity.signature(for: key.rawRepresentation)))
        #expect(!upload.verifySignatures(identity: Fixture.identity.publicKey))
        let kemKey = Fixture.kemKeys[0]
        let kem = PreKeyBundle.KEM(id: KEMPreKeyID(rawValue: 1), publicKey: kemKey,
                                   signature: Fixture.identity.signature(for: kemKey.rawRepresentation))
        #expect(try !KeyUpload(lastResortKEMPreKey: kem).verifySignatures(identity: Fixture.identity.publicKey))
    }

    /// Flips one bit of each signature in turn (at several positions), in the
    /// serialised upload, as a tampering server or network would.
    @Test(arguments: [0, 7, 8, 255, 256, 511])
    func oneFlippedBitOfAnySignatureFails(bit: Int) throws {
        let upload = Fixture.fullUpload()
        let bytes = upload.serialized
        let spkSig = 1 + 4 + 32
        let lastResortSig = 1 + 100 + 2 + 3 * 36 + 4 + 1568
        let kemSigs = (0..<2).map { lastResortSig + 64 + 2 + $0 * 1636 + 4 + 1568 }
        #expect(Array(bytes[spkSig..<spkSig + 64]) == upload.signedPreKey?.signature)
        #expect(Array(bytes[lastResortSig..<lastResortSig + 64]) == upload.lastResortKEMPreKey?.signature)
        #expect(kemSigs.map { Array(bytes[$0..<$0 + 64]) } == upload.oneTimeKEMPreKeys.map(\.signature))
        for offset in [spkSig, lastResortSig] + kemSigs {
            var flipped = bytes
            flipped[offset + bit / 8] ^= 1 << (bit % 8)
            let parsed = try KeyUpload(serialized: flipped)
            #expect(!parsed.verifySignatures(identity: Fixture.identity.publicKey), "signature at \(offset), bit \(bit)")
        }
    }

    @Test func fromTheLibrarysMaintenance() throws {
        var account = Account(identity: Fixture.identity, createdAt: 0)
        let policy = PreKeyPolicy(minimumOneTimePreKeys: 5, targetOneTimePreKeys: 5,
                                  minimumOneTimeKEMPreKeys: 2, targetOneTimeKEMPreKeys: 2)
        let week: UInt64 = 7 * 24 * 3600
        let first = try KeyUpload(account.maintainPreKeys(now: week, policy: policy))
        #expect(first.signedPreKey?.id == SignedPreKeyID(rawValue: 2))
        #expect(first.oneTimePreKeys.count == 5)
        #expect(first.lastResortKEMPreKey != nil)
        #expect(first.oneTimeKEMPreKeys.count == 2)
        #expect(first.verifySignatures(identity: account.identity.publicKey))
        #expect(try KeyUpload(serialized: first.serialized) == first)
        // Past the grace period the replaced signed and last-resort KEM prekeys are removed.
        let later = try KeyUpload(account.maintainPreKeys(now: week + 31 * 24 * 3600, policy: policy))
        #expect(later.removedSignedPreKeyIDs == [SignedPreKeyID(rawValue: 1)])
        #expect(later.removedKEMPreKeyIDs == [KEMPreKeyID(rawValue: 1)])
        #expect(later.verifySignatures(identity: account.identity.publicKey))
        #expect(try KeyUpload(serialized: later.serialized) == later)
    }
}
