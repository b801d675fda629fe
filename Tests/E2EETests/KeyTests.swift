import Testing
@testable import E2EE

@Suite("Key validation and secret hygiene")
struct KeyTests {
    /// Encodings of low-order X25519 points (PROTOCOL.md §4 says reject them).
    static let lowOrder: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ]

    @Test func x25519RejectsLowOrderPointsWithEitherTopBit() {
        for p in Self.lowOrder {
            var high = p
            high[31] |= 0x80
            for candidate in [p, high] {
                #expect(throws: CryptoError.invalidPublicKey, "\(hexString(candidate))") {
                    try X25519.PublicKey(rawRepresentation: candidate)
                }
            }
        }
    }

    @Test func x25519RejectsWrongLengths() {
        for n in [0, 31, 33] {
            #expect(throws: CryptoError.invalidLength(expected: 32, got: n)) {
                try X25519.PublicKey(rawRepresentation: [UInt8](repeating: 9, count: n))
            }
            #expect(throws: CryptoError.invalidLength(expected: 32, got: n)) {
                try X25519.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: n))
            }
        }
    }

    @Test func x25519AcceptsRealKeysAndAgrees() throws {
        let a = X25519.PrivateKey(), b = X25519.PrivateKey()
        let pa = try X25519.PublicKey(rawRepresentation: a.publicKey.rawRepresentation)
        #expect(pa == a.publicKey)
        #expect(try a.sharedSecret(with: b.publicKey) == b.sharedSecret(with: pa))
        #expect(try a.sharedSecret(with: b.publicKey) != a.sharedSecret(with: X25519.PrivateKey().publicKey))
        var base = [UInt8](repeating: 0, count: 32); base[0] = 9
        #expect(throws: Never.self) { try X25519.PublicKey(rawRepresentation: base) }
    }

    @Test func weakSharedSecretIsAnError() throws {
        // Only reachable by bypassing validation, which the C core still catches.
        let sk = X25519.PrivateKey()
        let zero = X25519.PublicKey(trusted: [UInt8](repeating: 0, count: 32))
        #expect(throws: CryptoError.weakSharedSecret) { try sk.sharedSecret(with: zero) }
    }

    @Test func ed25519PublicKeyValidation() throws {
        let id = IdentityKey.PrivateKey()
        #expect(try IdentityKey.PublicKey(rawRepresentation: id.publicKey.rawRepresentation) == id.publicKey)
        let identity = [1] + [UInt8](repeating: 0, count: 31) // the neutral element: small order
        for bad in [[UInt8](repeating: 0, count: 32), identity, [UInt8](repeating: 0xff, count: 32)] {
            #expect(throws: CryptoError.invalidPublicKey) { try IdentityKey.PublicKey(rawRepresentation: bad) }
        }
        #expect(throws: CryptoError.invalidLength(expected: 32, got: 31)) {
            try IdentityKey.PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: CryptoError.invalidLength(expected: 32, got: 64)) {
            try IdentityKey.PrivateKey(seed: [UInt8](repeating: 1, count: 64))
        }
    }

    @Test func identitySignaturesAndKeyAgreement() throws {
        let a = IdentityKey.PrivateKey(), b = IdentityKey.PrivateKey()
        let msg = pattern(77, seed: 5)
        let sig = a.signature(for: msg)
        #expect(a.publicKey.isValidSignature(sig, for: msg))
        #expect(!b.publicKey.isValidSignature(sig, for: msg))
        #expect(!a.publicKey.isValidSignature(Array(sig.prefix(63)), for: msg))
        // DH through the birational map agrees from both sides (PROTOCOL.md §1).
        let ab = try a.sharedSecret(with: b.publicKey.keyAgreementKey())
        let ba = try b.sharedSecret(with: a.publicKey.keyAgreementKey())
        #expect(ab == ba)
        // The seed round-trips to the same identity.
        #expect(try IdentityKey.PrivateKey(seed: a.seed.unsafeArrayCopy).publicKey == a.publicKey)
    }

    @Test func secretsNeverPrint() throws {
        let raw = pattern(32, seed: 77)
        let rawHex = hexString(raw)
        let things: [Any] = [
            try X25519.PrivateKey(rawRepresentation: raw), try IdentityKey.PrivateKey(seed: raw),
            try MessageKey(rawRepresentation: raw), try ChainKey(rawRepresentation: raw),
            try RootKey(rawRepresentation: raw), try SenderChainKey(rawRepresentation: raw), SecureBytes(raw),
        ]
        for t in things {
            for text in [String(describing: t), String(reflecting: t), "\(t)"] {
                #expect(!text.contains(rawHex), "\(type(of: t)) prints its secret")
                #expect(!text.contains(String(rawHex.prefix(8))), "\(type(of: t)) prints part of its secret")
                #expect(!text.contains("\(raw[0]), \(raw[1]), \(raw[2])"), "\(type(of: t)) prints its bytes")
            }
        }
    }

    @Test func constantTimeEquality() {
        let a = pattern(64, seed: 1)
        #expect(constantTimeEquals(a, a))
        #expect(constantTimeEquals([UInt8](), [UInt8]()))
        for i in [0, 31, 63] {
            var b = a; b[i] ^= 1
            #expect(!constantTimeEquals(a, b), "differs at \(i)")
        }
        #expect(!constantTimeEquals(a, Array(a.prefix(63))))
        #expect(SecureBytes(a) == SecureBytes(a))
        #expect(SecureBytes(a) != SecureBytes(Array(a.prefix(63))))
        var c = a; c[63] ^= 0x80
        #expect(SecureBytes(a) != SecureBytes(c))
    }

    @Test func secureBytesCopyOnWrite() {
        var a = SecureBytes(pattern(32, seed: 1))
        let b = a
        a.withUnsafeMutableBytes { $0[0] ^= 1 }
        #expect(a != b)
        #expect(b.unsafeArrayCopy == pattern(32, seed: 1))
    }
}

/// The set of identity keys that passed the full check; serialized, since the
/// bound test empties the set.
@Suite("Remembered identity keys", .serialized)
struct IdentityKeyMemoTests {
    /// Keys that passed the full check are remembered by their exact bytes
    /// (the check costs more than a DH and a peer's key comes in every bundle
    /// and PreKeyMessage): a remembered key never lets another encoding in —
    /// the same point plus an order-8 torsion point, refused before and after
    /// the valid key was seen — and a refused key is never remembered.
    @Test func rememberedIdentityKeysAdmitNothingElse() throws {
        // The RFC 8032 key of seed 01 02 … 20, and that point plus an order-8 point.
        let valid = hex("79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664")
        let mixed = hex("287f6bda7a57f4f2873f3bff5e5ea9c260a6a6343bdf37c7abcd346ed5904c11")
        let seed = (1...32).map { UInt8($0) }
        #expect(try IdentityKey.PrivateKey(seed: seed).publicKey.rawRepresentation == valid)
        for _ in 0..<2 {
            #expect(throws: CryptoError.invalidPublicKey) { try IdentityKey.PublicKey(rawRepresentation: mixed) }
        }
        #expect(!ValidatedIdentityKeys.contains(mixed))
        let key = try IdentityKey.PublicKey(rawRepresentation: valid)
        #expect(ValidatedIdentityKeys.contains(valid))
        #expect(throws: CryptoError.invalidPublicKey) { try IdentityKey.PublicKey(rawRepresentation: mixed) }
        #expect(try IdentityKey.PublicKey(rawRepresentation: valid) == key)
        // The map to X25519 of a remembered key is libsodium's (its RFC 7748 form).
        let x = try key.keyAgreementKey()
        let priv = try IdentityKey.PrivateKey(seed: seed)
        let other = X25519.PrivateKey()
        #expect(try other.sharedSecret(with: x) == priv.sharedSecret(with: other.publicKey))
    }

    /// The set is bounded: past its capacity it starts over.
    @Test func rememberedIdentityKeysAreBounded() throws {
        for _ in 0..<(ValidatedIdentityKeys.capacity + 10) {
            _ = try IdentityKey.PublicKey(rawRepresentation: IdentityKey.PrivateKey().publicKey.rawRepresentation)
        }
        #expect(ValidatedIdentityKeys.count <= ValidatedIdentityKeys.capacity)
    }
}
