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
