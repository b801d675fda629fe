import Testing
@testable import E2EE

// Known answers: RFC vectors for the primitives, and our own vectors (made by
// scripts/gen_vectors.py with Python's hashlib/hmac/cryptography) for the
// constructions PROTOCOL.md pins.

@Suite("RFC 7748 X25519")
struct X25519VectorTests {
    struct File: Decodable {
        struct V: Decodable { let scalar, u, out: String }
        struct I: Decodable { let iterations: Int; let out: String }
        struct DH: Decodable {
            let alice_private, alice_public, bob_private, bob_public, shared: String
        }
        let vectors: [V]; let iterated: [I]; let dh: DH
    }

    @Test func scalarMultiplication() throws {
        let file = try loadVectors("x25519_rfc7748.json", as: File.self)
        #expect(file.vectors.count == 2)
        for v in file.vectors {
            let sk = try X25519.PrivateKey(rawRepresentation: hex(v.scalar))
            let pk = try X25519.PublicKey(rawRepresentation: hex(v.u))
            #expect(try sk.sharedSecret(with: pk).bytes.unsafeArrayCopy == hex(v.out))
        }
    }

    @Test func iterated() throws {
        let file = try loadVectors("x25519_rfc7748.json", as: File.self)
        var k = [UInt8](repeating: 0, count: 32); k[0] = 9
        var u = k
        var done = 0
        for target in file.iterated.sorted(by: { $0.iterations < $1.iterations }) {
            while done < target.iterations {
                let r = try X25519.PrivateKey(rawRepresentation: k)
                    .sharedSecret(with: X25519.PublicKey(rawRepresentation: u)).bytes.unsafeArrayCopy
                u = k
                k = r
                done += 1
            }
            #expect(hexString(k) == target.out, "after \(target.iterations) iterations")
        }
    }

    @Test func diffieHellman() throws {
        let dh = try loadVectors("x25519_rfc7748.json", as: File.self).dh
        let a = try X25519.PrivateKey(rawRepresentation: hex(dh.alice_private))
        let b = try X25519.PrivateKey(rawRepresentation: hex(dh.bob_private))
        #expect(a.publicKey.rawRepresentation == hex(dh.alice_public))
        #expect(b.publicKey.rawRepresentation == hex(dh.bob_public))
        #expect(try a.sharedSecret(with: b.publicKey).bytes.unsafeArrayCopy == hex(dh.shared))
        #expect(try b.sharedSecret(with: a.publicKey).bytes.unsafeArrayCopy == hex(dh.shared))
    }
}

@Suite("RFC 8032 Ed25519")
struct Ed25519VectorTests {
    struct File: Decodable {
        struct V: Decodable { let name, seed, `public`, message, signature: String }
        let vectors: [V]
    }

    @Test func signAndVerify() throws {
        let file = try loadVectors("ed25519_rfc8032.json", as: File.self)
        #expect(file.vectors.map(\.name) == ["TEST 1", "TEST 2", "TEST 3"])
        for v in file.vectors {
            let sk = try IdentityKey.PrivateKey(seed: hex(v.seed))
            #expect(sk.publicKey.rawRepresentation == hex(v.public), "\(v.name)")
            #expect(sk.signature(for: hex(v.message)) == hex(v.signature), "\(v.name)")
            let pk = try IdentityKey.PublicKey(rawRepresentation: hex(v.public))
            #expect(pk.isValidSignature(hex(v.signature), for: hex(v.message)), "\(v.name)")
            var bad = hex(v.signature); bad[0] ^= 1
            #expect(!pk.isValidSignature(bad, for: hex(v.message)), "\(v.name)")
            #expect(!pk.isValidSignature(hex(v.signature), for: hex(v.message) + [0]), "\(v.name)")
        }
    }
}

@Suite("RFC 8439 ChaCha20-Poly1305")
struct ChaChaVectorTests {
    struct File: Decodable {
        struct V: Decodable { let name, key, nonce, aad, plaintext, ciphertext, tag: String }
        let vectors: [V]
    }

    @Test func sealAndOpen() throws {
        let file = try loadVectors("chacha20poly1305_rfc8439.json", as: File.self)
        #expect(file.vectors.count == 2)
        for v in file.vectors {
            let k = try key(hex(v.key))
            let sealed = try ChaCha20Poly1305IETF.seal(hex(v.plaintext), key: k, nonce: hex(v.nonce), ad: hex(v.aad))
            #expect(sealed == hex(v.ciphertext) + hex(v.tag), "\(v.name)")
            #expect(try ChaCha20Poly1305IETF.open(sealed, key: k, nonce: hex(v.nonce), ad: hex(v.aad)) == hex(v.plaintext))
            var bad = sealed; bad[bad.count - 1] ^= 0x80
            #expect(throws: CryptoError.authenticationFailure) {
                try ChaCha20Poly1305IETF.open(bad, key: k, nonce: hex(v.nonce), ad: hex(v.aad))
            }
        }
    }
}

@Suite("HKDF-SHA-512")
struct HKDFVectorTests {
    struct File: Decodable {
        struct V: Decodable { let name, ikm, salt, info, okm: String; let length: Int }
        let vectors: [V]
    }

    @Test func vectors() throws {
        let file = try loadVectors("hkdf_sha512.json", as: File.self)
        #expect(file.vectors.count >= 9)
        for v in file.vectors {
            let okm = try HKDF.deriveKey(inputKeyMaterial: SecureBytes(hex(v.ikm)), salt: hex(v.salt),
                                         info: hex(v.info), outputByteCount: v.length)
            #expect(hexString(okm.unsafeArrayCopy) == v.okm, "\(v.name)")
        }
    }

    @Test func lengthLimits() throws {
        let ikm = SecureBytes([1, 2, 3])
        for bad in [0, -1, HKDF.maxOutputByteCount + 1] {
            #expect(throws: CryptoError.self) {
                try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [], info: [], outputByteCount: bad)
            }
        }
        // An empty salt is 64 zero bytes (RFC 5869 §2.2).
        let a = try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [], info: [9], outputByteCount: 40)
        let b = try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [UInt8](repeating: 0, count: 64), info: [9],
                                   outputByteCount: 40)
        #expect(a == b)
    }
}

@Suite("BLAKE2b KDFs of PROTOCOL.md")
struct KDFVectorTests {
    struct File: Decodable {
        struct G: Decodable { let key, input, personal, out: String; let outlen: Int }
        struct RK: Decodable { let rk, dh, rk_out, ck_out: String }
        struct CK: Decodable { let ck, ck_out, mk: String }
        struct Chain: Decodable { let ck, mk_last, ck_final: String; let steps: Int; let mks_first: [String] }
        let generic: [G]; let kdf_rk: [RK]; let kdf_ck: [CK]; let kdf_gk: [CK]
        let chain_ck: Chain; let chain_gk: Chain
    }

    @Test func generic() throws {
        let file = try loadVectors("blake2b_kdf.json", as: File.self)
        #expect(file.generic.count >= 15)
        for v in file.generic {
            let k = v.key.isEmpty ? nil : SecureBytes(hex(v.key))
            let out = try BLAKE2b.hash(hex(v.input), key: k, personal: v.personal, outputByteCount: v.outlen)
            #expect(hexString(out) == v.out, "\(v.personal) outlen \(v.outlen) key \(v.key.count / 2)")
        }
    }

    @Test func genericRejectsBadParameters() {
        #expect(throws: CryptoError.self) { try BLAKE2b.hash([], personal: "x", outputByteCount: 0) }
        #expect(throws: CryptoError.self) { try BLAKE2b.hash([], personal: "x", outputByteCount: 65) }
        #expect(throws: CryptoError.self) { try BLAKE2b.hash([], personal: "seventeen bytes!!", outputByteCount: 32) }
        #expect(throws: CryptoError.self) {
            try BLAKE2b.hash([], key: SecureBytes(randomCount: 65), personal: "x", outputByteCount: 32)
        }
    }

    @Test func rootKDF() throws {
        let file = try loadVectors("blake2b_kdf.json", as: File.self)
        #expect(file.kdf_rk.count >= 3)
        for v in file.kdf_rk {
            let rk = try RootKey(rawRepresentation: hex(v.rk))
            let dh = SharedSecret(unsafeBytes: SecureBytes(hex(v.dh)))
            let (rk2, ck) = rk.advanced(with: dh)
            #expect(rk2.bytes.unsafeArrayCopy == hex(v.rk_out))
            #expect(ck.bytes.unsafeArrayCopy == hex(v.ck_out))
            #expect(rk.bytes.unsafeArrayCopy == hex(v.rk), "advancing must not touch the old root key")
        }
    }

    @Test func chainKDFs() throws {
        let file = try loadVectors("blake2b_kdf.json", as: File.self)
        #expect(file.kdf_ck.count >= 3 && file.kdf_gk.count >= 3)
        for v in file.kdf_ck {
            var ck = try ChainKey(rawRepresentation: hex(v.ck))
            let mk = ck.next()
            #expect(mk.bytes.unsafeArrayCopy == hex(v.mk))
            #expect(ck.bytes.unsafeArrayCopy == hex(v.ck_out))
        }
        for v in file.kdf_gk {
            var ck = try SenderChainKey(rawRepresentation: hex(v.ck))
            let mk = ck.next()
            #expect(mk.bytes.unsafeArrayCopy == hex(v.mk))
            #expect(ck.bytes.unsafeArrayCopy == hex(v.ck_out))
        }
    }

    @Test func longChains() throws {
        let file = try loadVectors("blake2b_kdf.json", as: File.self)
        // Step by step and in one C call must both reach the published values.
        var stepped = try ChainKey(rawRepresentation: hex(file.chain_ck.ck))
        var stepKeys = [MessageKey]()
        for _ in 0..<file.chain_ck.steps { stepKeys.append(stepped.next()) }
        var bulk = try ChainKey(rawRepresentation: hex(file.chain_ck.ck))
        let bulkKeys = try bulk.messageKeys(count: file.chain_ck.steps)
        for (i, mk) in file.chain_ck.mks_first.enumerated() {
            #expect(stepKeys[i].bytes.unsafeArrayCopy == hex(mk))
        }
        #expect(stepKeys.last!.bytes.unsafeArrayCopy == hex(file.chain_ck.mk_last))
        #expect(stepped.bytes.unsafeArrayCopy == hex(file.chain_ck.ck_final))
        #expect(bulkKeys == stepKeys)
        #expect(bulk == stepped)

        var group = try SenderChainKey(rawRepresentation: hex(file.chain_gk.ck))
        let groupKeys = try group.messageKeys(count: file.chain_gk.steps)
        for (i, mk) in file.chain_gk.mks_first.enumerated() {
            #expect(groupKeys[i].bytes.unsafeArrayCopy == hex(mk))
        }
        #expect(groupKeys.last!.bytes.unsafeArrayCopy == hex(file.chain_gk.mk_last))
        #expect(group.bytes.unsafeArrayCopy == hex(file.chain_gk.ck_final))
    }

    @Test func chainEdgeCases() throws {
        var ck = try ChainKey(rawRepresentation: pattern(32, seed: 3))
        let before = ck
        #expect(try ck.messageKeys(count: 0).isEmpty)
        #expect(ck == before)
        #expect(throws: CryptoError.self) { try ck.messageKeys(count: -1) }
        // A copy of a chain key does not move when the original does.
        var copy = ck
        _ = ck.next()
        #expect(copy == before)
        #expect(copy != ck)
        _ = copy.next()
        #expect(copy == ck)
    }
}

@Suite("AEAD_v1 vectors")
struct AEADVectorTests {
    struct File: Decodable {
        struct V: Decodable { let name, key, `guard`, ad, plaintext, sealed: String }
        let vectors: [V]
    }

    @Test func vectors() throws {
        let file = try loadVectors("aead_v1.json", as: File.self)
        #expect(file.vectors.count >= 7)
        for v in file.vectors {
            let k = try key(hex(v.key))
            let sealed = try AEADv1.seal(hex(v.plaintext), using: k, authenticating: hex(v.ad), reuseGuard: hex(v.guard))
            #expect(hexString(sealed) == v.sealed, "\(v.name)")
            #expect(try AEADv1.open(hex(v.sealed), using: k, authenticating: hex(v.ad)) == hex(v.plaintext))
        }
    }
}
