import CBenchRaw
import E2EE

/// Start-up check that each of our operations and its baseline compute the
/// same bytes, and that each setup row sets up the kind of session its name
/// says, so that the table compares like with like. Returns the failures;
/// empty means all agree.
func selfCheck() -> [String] {
    var failures = [String]()
    func expect(_ ok: Bool, _ what: String) {
        if !ok { failures.append(what) }
    }
    do {
        try checkChain(expect)
        for size in [Sizes.small, Sizes.large] {
            try checkAEAD(size: size, expect)
        }
        try checkBatch(expect)
        try checkEd25519(expect)
        try checkKEM(expect)
        try checkSetupKinds(expect)
    } catch {
        failures.append("threw \(error)")
    }
    return failures
}

private func checkChain(_ expect: (Bool, String) -> Void) throws {
    let start = FillerBytes.bytes(32, seed: Seeds.chainKey)

    // One step: libb2 output = next chain key || message key.
    var out = [UInt8](repeating: 0, count: 64)
    expect(bench_raw_kdf_ck(&out, start) == 0, "bench_raw_kdf_ck failed")
    var ck = try ChainKey(rawRepresentation: start)
    let mk = ck.next()
    expect(ck == (try ChainKey(rawRepresentation: out[0..<32])), "KDF_CK: chain key differs from raw libb2")
    expect(mk == (try MessageKey(rawRepresentation: out[32..<64])), "KDF_CK: message key differs from raw libb2")

    // 1000 steps.
    var rawKey = start
    var rawKeys = [UInt8](repeating: 0, count: 32 * Sizes.chainAdvance)
    let rc = bench_raw_chain_advance(&rawKey, &rawKeys, rawKeys.count, Sizes.chainAdvance)
    expect(rc == 0, "bench_raw_chain_advance failed")
    var ck2 = try ChainKey(rawRepresentation: start)
    let mks = try ck2.messageKeys(count: Sizes.chainAdvance)
    expect(ck2 == (try ChainKey(rawRepresentation: rawKey)), "chain advance: final chain key differs from raw")
    expect(mks.count == Sizes.chainAdvance, "chain advance: \(mks.count) keys")
    for i in [0, 1, Sizes.chainAdvance - 1] where i < mks.count {
        let raw = try MessageKey(rawRepresentation: rawKeys[(32 * i)..<(32 * i + 32)])
        expect(mks[i] == raw, "chain advance: message key \(i) differs from raw")
    }
}

private func checkAEAD(size: Int, _ expect: (Bool, String) -> Void) throws {
    let f = try AEADFixture(size: size, seed: Seeds.aead)
    var ct = [UInt8](repeating: 0, count: size + AEADv1.tagByteCount)
    var ctCount: UInt64 = 0
    let rc = crypto_aead_chacha20poly1305_ietf_encrypt(&ct, &ctCount, f.plaintext, UInt64(size),
                                                       f.associatedData, UInt64(f.associatedData.count),
                                                       nil, f.nonce, f.keyBytes)
    expect(rc == 0 && Int(ctCount) == ct.count, "AEAD \(size) B: raw encrypt failed")
    expect(f.sealed.count == size + AEADv1.overhead, "AEAD \(size) B: sealed length \(f.sealed.count)")
    expect(f.rawCiphertext == ct, "AEAD \(size) B: AEADv1.seal differs from raw ietf_encrypt under G || 0^8")

    let opened = try AEADv1.open(f.sealed, using: f.key, authenticating: f.associatedData)
    expect(opened == f.plaintext, "AEAD \(size) B: AEADv1.open did not return the plaintext")

    var pt = [UInt8](repeating: 0, count: size)
    var ptCount: UInt64 = 0
    let rc2 = crypto_aead_chacha20poly1305_ietf_decrypt(&pt, &ptCount, nil, ct, UInt64(ct.count),
                                                        f.associatedData, UInt64(f.associatedData.count),
                                                        f.nonce, f.keyBytes)
    expect(rc2 == 0 && pt == f.plaintext, "AEAD \(size) B: raw decrypt of our ciphertext failed")
}

private func checkBatch(_ expect: (Bool, String) -> Void) throws {
    let f = try BatchFixture(count: Sizes.batch, size: Sizes.small)
    for p in [AEADv1.Parallelism.serial, .automatic] {
        let r = AEADv1.openBatch(f.items, parallelism: p)
        expect(r.count == f.messages.count && r.failureCount == 0, "openBatch(\(p)): \(r.failureCount) failures")
        for (i, m) in f.messages.enumerated() where i < r.count {
            guard case .success(let pt) = r[i], pt.elementsEqual(m.plaintext) else {
                expect(false, "openBatch(\(p)): item \(i) differs from its plaintext")
                break
            }
        }
    }
}

private func checkEd25519(_ expect: (Bool, String) -> Void) throws {
    let f = CurveFixture()
    let sk = try IdentityKey.PrivateKey(seed: f.ed25519Seed)
    let raw = try RawSigningKey()
    expect(sk.publicKey.rawRepresentation == raw.publicKey.array, "Ed25519: public key differs from raw")
    var sig = [UInt8](repeating: 0, count: 64)
    expect(crypto_sign_detached(&sig, nil, f.message, UInt64(f.message.count), raw.secretKey.pointer) == 0,
           "Ed25519: raw sign failed")
    expect(sk.signature(for: f.message) == sig, "Ed25519: signature differs from raw crypto_sign_detached")
    expect(sk.publicKey.isValidSignature(sig, for: f.message), "Ed25519: raw signature rejected")
}

/// The PQXDH setup rows make post-quantum sessions on both sides from a
/// PQPreKeyMessage, the X3DH rows classical ones from a PreKeyMessage (which
/// only `allowClassical` lets through), and the pair the other session rows
/// use is PQXDH, the default.
private func checkSetupKinds(_ expect: (Bool, String) -> Void) throws {
    let pt = FillerBytes.bytes(Sizes.small, seed: 21)
    for kind in [SetupKind.pqxdh, .x3dh] {
        let pq = kind == .pqxdh
        let f = SetupFixture(kind)
        let r = try f.once(pt)
        expect(r.plaintext == pt, "\(kind): the first message did not decrypt to its plaintext")
        expect(r.alice.isPostQuantum == pq && r.bob.isPostQuantum == pq,
               "\(kind): sessions are \(r.alice.isPostQuantum ? "PQ" : "classical") / \(r.bob.isPostQuantum ? "PQ" : "classical")")
        expect(try PreKeyBundle(serialized: f.bundle).isPostQuantum == pq, "\(kind): bundle kind")
        let type = (pq ? MessageType.pqPreKey : .preKey).rawValue
        expect(r.first.count > 1 && r.first[1] == type, "\(kind): first message type \(r.first.count > 1 ? r.first[1] : 0)")
        if case .preKey(let m) = try WireMessage(serialized: r.first) {
            expect(m.isPostQuantum == pq && (m.kem?.id == nil) == !pq, "\(kind): parsed first message kind")
        } else {
            expect(false, "\(kind): the first message is not a PreKeyMessage")
        }
        if pq {
            expect(r.alice.kemPreKeyID == f.account.oneTimeKEMPreKeys.first?.id, "PQXDH: not the one-time KEM prekey")
        } else {
            // Without the opt-in, both sides refuse classical setup.
            do {
                _ = try Session.initiate(identity: f.identity, bundle: f.bundle)
                expect(false, "X3DH: a classical bundle was used without allowClassical")
            } catch {
                expect(error == .postQuantumRequired, "X3DH: initiate without allowClassical threw \(error)")
            }
            var account = f.account
            do {
                _ = try account.acceptSession(from: r.first)
                expect(false, "X3DH: a classical first message was accepted without allowClassical")
            } catch {
                expect(error == .postQuantumRequired, "X3DH: acceptSession without allowClassical threw \(error)")
            }
        }
    }
    let p = try SessionPair()
    expect(p.alice.isPostQuantum && p.bob.isPostQuantum, "SessionPair: not PQXDH (the default)")
}
