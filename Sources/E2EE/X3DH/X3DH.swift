/// X3DH and PQXDH key agreement (PROTOCOL.md §2, §2b). Pure functions: no
/// store is touched here, so a failure can never consume a prekey.
enum X3DH {
    static let info = Array("E2EE-v1 X3DH".utf8)
    static let pqInfo = Array("E2EE-v1 PQXDH X25519 SHA-512 ML-KEM-1024".utf8)
    static let salt = [UInt8](repeating: 0, count: 64)

    /// PQXDH's extra input: the KEM shared secret `SS` and the hash of the KEM
    /// prekey it was encapsulated to (``kemBinding(_:)``), bound into `SK`.
    struct KEMInput {
        let sharedSecret: SecureBytes
        let binding: [UInt8]
    }

    /// `BLAKE2b(key = none, EncodeKEM(KEM_pub), 32, "E2EEv1 kem bind")`.
    static func kemBinding(_ key: MLKEM.PublicKey) -> [UInt8] { key.binding }

    /// `AD = Encode(IK_A) || Encode(IK_B)`, initiator first (66 bytes).
    static func associatedData(initiator: IdentityKey.PublicKey, recipient: IdentityKey.PublicKey) -> [UInt8] {
        initiator.encoded + recipient.encoded
    }

    /// The initiator's side. The bundle's signatures must already be verified.
    static func initiatorSecret(identity: IdentityKey.PrivateKey, ephemeral: X25519.PrivateKey,
                                bundle: PreKeyBundle, kem: KEMInput? = nil) throws(SessionSetupError) -> SecureBytes {
        do {
            let dh1 = try identity.sharedSecret(with: bundle.signedPreKey)
            let dh2 = try ephemeral.sharedSecret(with: bundle.identityKey.keyAgreementKey())
            let dh3 = try ephemeral.sharedSecret(with: bundle.signedPreKey)
            let dh4 = try bundle.oneTimePreKey.map { (otk) throws(CryptoError) in try ephemeral.sharedSecret(with: otk.publicKey) }
            return try derive([dh1, dh2, dh3] + (dh4.map { [$0] } ?? []), kem: kem)
        } catch {
            throw .weakKey
        }
    }

    /// The recipient's side, from its private keys and the PreKeyMessage fields.
    static func recipientSecret(identity: IdentityKey.PrivateKey, signedPreKey: X25519.PrivateKey,
                                oneTimePreKey: X25519.PrivateKey?, initiatorIdentity: IdentityKey.PublicKey,
                                baseKey: X25519.PublicKey, kem: KEMInput? = nil) throws(SessionSetupError) -> SecureBytes {
        do {
            let dh1 = try signedPreKey.sharedSecret(with: initiatorIdentity.keyAgreementKey())
            let dh2 = try identity.sharedSecret(with: baseKey)
            let dh3 = try signedPreKey.sharedSecret(with: baseKey)
            let dh4 = try oneTimePreKey.map { (otk) throws(CryptoError) in try otk.sharedSecret(with: baseKey) }
            return try derive([dh1, dh2, dh3] + (dh4.map { [$0] } ?? []), kem: kem)
        } catch {
            throw .weakKey
        }
    }

    /// `SK = HKDF-SHA-512(64 zero bytes, 0xFF*32 || DH1 || … [|| SS || kem bind], info, 32)`,
    /// info naming X3DH or PQXDH. The DH outputs, `SS` and the concatenation
    /// live only in wiped storage.
    private static func derive(_ dhs: [SharedSecret], kem: KEMInput?) throws(CryptoError) -> SecureBytes {
        let binding = kem?.binding ?? []
        let kemCount = kem == nil ? 0 : MLKEM.sharedSecretByteCount + binding.count
        let dhEnd = 32 + 32 * dhs.count
        let ikm = try SecureBytes(count: dhEnd + kemCount) { (buf) throws(CryptoError) in
            buf.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 32)
            for (i, dh) in dhs.enumerated() {
                dh.bytes.withUnsafeBytes { d in
                    UnsafeMutableRawBufferPointer(rebasing: buf[(32 + 32 * i)..<(64 + 32 * i)]).copyMemory(from: d)
                }
            }
            if let kem {
                guard kem.sharedSecret.count == MLKEM.sharedSecretByteCount, binding.count == 32 else {
                    throw .invalidLength(expected: MLKEM.sharedSecretByteCount, got: kem.sharedSecret.count)
                }
                kem.sharedSecret.withUnsafeBytes { ss in
                    UnsafeMutableRawBufferPointer(rebasing: buf[dhEnd..<(dhEnd + 32)]).copyMemory(from: ss)
                }
                binding.withUnsafeBytes { b in
                    UnsafeMutableRawBufferPointer(rebasing: buf[(dhEnd + 32)...]).copyMemory(from: b)
                }
            }
        }
        return try HKDF.deriveKey(inputKeyMaterial: ikm, salt: salt, info: kem == nil ? info : pqInfo,
                                  outputByteCount: 32)
    }
}
