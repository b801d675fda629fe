import Testing
@testable import E2EE

/// Exact-byte PQXDH vectors (PROTOCOL.md §2b) from the independent Python
/// implementation scripts/gen_pqxdh_vectors.py, whose ML-KEM-1024 is kyber-py:
/// swift-crypto's ML-KEM against it, then whole conversations.
@Suite("PQXDH vectors (suite v1)")
struct PQXDHVectorTests {
    struct File: Decodable {
        struct KEMCheck: Decodable {
            let seed, `public`, m, ciphertext, shared_secret, tampered_ciphertext, tampered_shared_secret: String
            let tampered_index: Int
        }
        let kem_checks: [KEMCheck]
        let scenarios: [Scenario]
    }
    struct Scenario: Decodable {
        struct Alice: Decodable {
            let identity_seed, identity_public, ephemeral_private, ephemeral_public: String
            let ratchet_privates: [String]
        }
        struct Bob: Decodable {
            let identity_seed, spk_private, spk_signature, kem_seed, kem_public, kem_signature: String
            let spk_id, kem_id: UInt32
            let kem_last_resort: Bool
            let opk_id: UInt32?
            let opk_private: String?
            let ratchet_privates: [String]
        }
        struct PQXDHValues: Decodable {
            let dh1, dh2, dh3, encaps_m, ciphertext, shared_secret, kem_bind, sk, ad: String
            let dh4: String?
        }
        let name, bundle: String
        let alice: Alice
        let bob: Bob
        let pqxdh: PQXDHValues
        let alice_init: ProtocolVectorTests.Scenario.Init
        let messages: [ProtocolVectorTests.Scenario.Message]
    }

    /// swift-crypto (BoringSSL) and kyber-py agree on keys from seeds, on
    /// decapsulation, and on FIPS 203's implicit rejection of a tampered ciphertext.
    @Test func mlkemAgreesWithKyberPy() throws {
        let file = try loadVectors("pqxdh_v1.json", as: File.self)
        #expect(file.kem_checks.count == 4)
        for (i, c) in file.kem_checks.enumerated() {
            let key = try MLKEM.PrivateKey(seedRepresentation: hex(c.seed))
            #expect(key.publicKey.rawRepresentation == hex(c.public), "check \(i): public key from seed")
            #expect(try key.decapsulate(hex(c.ciphertext)).unsafeArrayCopy == hex(c.shared_secret), "check \(i): Decaps")
            let rejected = try key.decapsulate(hex(c.tampered_ciphertext)).unsafeArrayCopy
            #expect(rejected == hex(c.tampered_shared_secret) && rejected != hex(c.shared_secret),
                    "check \(i): implicit rejection")
            // Our wrapper's encapsulation round-trips with the vector's key.
            let (ss, ct) = try MLKEM.PublicKey(rawRepresentation: hex(c.public)).encapsulate()
            #expect(try key.decapsulate(ct) == ss)
        }
        #expect(throws: CryptoError.invalidLength(expected: 64, got: 32)) {
            try MLKEM.PrivateKey(seedRepresentation: [UInt8](repeating: 1, count: 32))
        }
        #expect(throws: CryptoError.invalidPublicKey) {
            try MLKEM.PublicKey(rawRepresentation: [UInt8](repeating: 0xff, count: MLKEM.publicKeyByteCount))
        }
    }

    @Test func scenarios() throws {
        let file = try loadVectors("pqxdh_v1.json", as: File.self)
        #expect(file.scenarios.map(\.name).sorted() == ["pqxdh_last_resort_no_opk", "pqxdh_opk_onetime_kem"])
        for sc in file.scenarios { try run(sc) }
    }

    func account(_ sc: Scenario) throws -> Account {
        let bobID = try IdentityKey.PrivateKey(seed: hex(sc.bob.identity_seed))
        let spk = SignedPreKey(id: SignedPreKeyID(rawValue: sc.bob.spk_id), signedBy: bobID,
                               privateKey: try X25519.PrivateKey(rawRepresentation: hex(sc.bob.spk_private)))
        #expect(spk.signature == hex(sc.bob.spk_signature))
        var otks = [OneTimePreKey]()
        if let id = sc.bob.opk_id, let sk = sc.bob.opk_private {
            otks.append(OneTimePreKey(id: PreKeyID(rawValue: id), privateKey: try X25519.PrivateKey(rawRepresentation: hex(sk))))
        }
        let kem = KEMPreKey(id: KEMPreKeyID(rawValue: sc.bob.kem_id), seed: SecureBytes(hex(sc.bob.kem_seed)),
                            isLastResort: sc.bob.kem_last_resort, createdAt: 0)
        #expect(kem.privateKey().publicKey.rawRepresentation == hex(sc.bob.kem_public), "\(sc.name) KEM public key")
        #expect(kem.signed(by: bobID).signature == hex(sc.bob.kem_signature), "\(sc.name) KEM signature")
        return Account(identity: bobID, signedPreKeys: [spk], oneTimePreKeys: otks, publishedCount: 0,
                       nextPreKeyID: 100, nextSignedPreKeyID: 100,
                       lastResortKEMPreKeys: kem.isLastResort ? [kem] : [],
                       oneTimeKEMPreKeys: kem.isLastResort ? [] : [kem], nextKEMPreKeyID: 5000)
    }

    func run(_ sc: Scenario) throws {
        let aliceID = try IdentityKey.PrivateKey(seed: hex(sc.alice.identity_seed))
        #expect(aliceID.publicKey.rawRepresentation == hex(sc.alice.identity_public))
        var account = try account(sc)
        // Bob's bundle, KEM part included, to the byte.
        #expect(hexString(account.publishBundle().serialized) == sc.bundle, "\(sc.name) bundle")
        let untouched = try self.account(sc)

        // PQXDH values, computed directly.
        let bundle = try PreKeyBundle(serialized: hex(sc.bundle))
        let kemPublic = try #require(bundle.kemPreKey).publicKey
        #expect(X3DH.kemBinding(kemPublic) == hex(sc.pqxdh.kem_bind), "\(sc.name) KEM binding")
        let ek = try X25519.PrivateKey(rawRepresentation: hex(sc.alice.ephemeral_private))
        let kemInput = X3DH.KEMInput(sharedSecret: SecureBytes(hex(sc.pqxdh.shared_secret)),
                                     binding: X3DH.kemBinding(kemPublic))
        // The hash the account stores beside the seed is the vector's.
        #expect((untouched.oneTimeKEMPreKeys + untouched.lastResortKEMPreKeys).map(\.binding) == [hex(sc.pqxdh.kem_bind)])
        let sk = try X3DH.initiatorSecret(identity: aliceID, ephemeral: ek, bundle: bundle, kem: kemInput)
        #expect(hexString(sk.unsafeArrayCopy) == sc.pqxdh.sk, "\(sc.name) SK")
        #expect(try X3DH.initiatorSecret(identity: aliceID, ephemeral: ek, bundle: bundle) != sk, "PQXDH SK is not X3DH's")

        // The conversation through the API; the encapsulation's randomness is the vector's.
        let aliceRandom = ScriptedRandom(keys: [hex(sc.alice.ephemeral_private)] + sc.alice.ratchet_privates.map(hex),
                                         guards: sc.messages.filter { $0.from == "alice" }.map { hex($0.`guard`) })
        let bobRandom = ScriptedRandom(keys: sc.bob.ratchet_privates.map(hex),
                                       guards: sc.messages.filter { $0.from == "bob" }.map { hex($0.`guard`) })
        var alice = try Session.initiate(identity: aliceID, bundle: bundle, random: aliceRandom, now: 0,
                                         allowClassical: false) { (key) throws(CryptoError) in
            #expect(key == kemPublic)
            return (SecureBytes(hex(sc.pqxdh.shared_secret)), hex(sc.pqxdh.ciphertext))
        }
        #expect(alice.isPostQuantum && alice.kemPreKeyID == KEMPreKeyID(rawValue: sc.bob.kem_id))
        #expect(hexString(alice.ratchet.rootKey.bytes.unsafeArrayCopy) == sc.alice_init.root_key)
        #expect(hexString(alice.ratchet.sendingRatchetKey.publicKey.rawRepresentation) == sc.alice_init.ratchet_public)
        var bob: Session?
        var firstMessage: [UInt8]?
        for m in sc.messages {
            let ctx = "\(sc.name) \(m.name)"
            let pt = hex(m.plaintext), wire = hex(m.wire)
            #expect((m.type == "pqprekey") == (wire[1] == MessageType.pqPreKey.rawValue), "\(ctx) type")
            if m.from == "alice" {
                #expect(try alice.encrypt(pt, random: aliceRandom) == wire, "\(ctx) wire")
                if var b = bob {
                    #expect(try b.decrypt(wire, random: bobRandom) == pt, "\(ctx) plaintext")
                    bob = b
                } else {
                    // A flipped ciphertext byte gives Bob another SS (implicit
                    // rejection), so the first message fails to authenticate
                    // and nothing is consumed.
                    var tampered = wire
                    tampered[78 + 700] ^= 1
                    let before = account.serialized()
                    #expect(throws: SessionSetupError.firstMessageRejected(.authenticationFailure)) {
                        try account.acceptSession(from: tampered, random: bobRandom)
                    }
                    #expect(account.serialized() == before)
                    let (b, first) = try account.acceptSession(from: wire, random: bobRandom)
                    #expect(first == pt, "\(ctx) plaintext")
                    #expect(b.isPostQuantum && b.kemPreKeyID == alice.kemPreKeyID)
                    bob = b
                    firstMessage = wire
                }
                ProtocolVectorTests().check(bob!.ratchet, m.receiver_after, "\(ctx) receiver", next: bobRandom)
            } else {
                var b = try #require(bob)
                #expect(try b.encrypt(pt, random: bobRandom) == wire, "\(ctx) wire")
                bob = b
                #expect(try alice.decrypt(wire, random: aliceRandom) == pt, "\(ctx) plaintext")
                ProtocolVectorTests().check(alice.ratchet, m.receiver_after, "\(ctx) receiver", next: aliceRandom)
            }
        }
        // Exactly the scripted keys, but for a last step's deferred sending half.
        #expect(aliceRandom.remainingKeys == (alice.ratchet.pendingSendingStep == nil ? 0 : 1)
                && bobRandom.remainingKeys == (bob?.ratchet.pendingSendingStep == nil ? 0 : 1),
                "\(sc.name): exactly the scripted keys")
        // A one-time KEM prekey is gone once used; a last-resort one stays, and
        // a replay against it is stopped by the base key rule (§2, §2b).
        if sc.bob.kem_last_resort {
            #expect(account.lastResortKEMPreKeys.map(\.id.rawValue) == [sc.bob.kem_id])
        } else {
            #expect(account.oneTimeKEMPreKeys.isEmpty && account.consumedKEMPreKeyIDs.map(\.rawValue) == [sc.bob.kem_id])
        }
        let first = try #require(firstMessage)
        #expect(throws: SessionSetupError.baseKeyAlreadyAccepted) { try account.acceptSession(from: first) }
        // Against an account that never saw it: a fresh acceptance, so the
        // refusal above was the base key rule, not a missing key.
        var fresh = untouched
        _ = try fresh.acceptSession(from: first, random: ScriptedRandom(keys: [hex(sc.bob.ratchet_privates[0])]))
    }
}
