/// X3DH key agreement (PROTOCOL.md §2). Pure functions: no store is touched
/// here, so a failure can never consume a prekey.
enum X3DH {
    static let info = Array("E2EE-v1 X3DH".utf8)
    static let salt = [UInt8](repeating: 0, count: 64)

    /// `AD = Encode(IK_A) || Encode(IK_B)`, initiator first (66 bytes).
    static func associatedData(initiator: IdentityKey.PublicKey, recipient: IdentityKey.PublicKey) -> [UInt8] {
        initiator.encoded + recipient.encoded
    }

    /// The initiator's side. The bundle's signatures must already be verified.
    static func initiatorSecret(identity: IdentityKey.PrivateKey, ephemeral: X25519.PrivateKey,
                                bundle: PreKeyBundle) throws(SessionSetupError) -> SecureBytes {
        do {
            let dh1 = try identity.sharedSecret(with: bundle.signedPreKey)
            let dh2 = try ephemeral.sharedSecret(with: bundle.identityKey.keyAgreementKey())
            let dh3 = try ephemeral.sharedSecret(with: bundle.signedPreKey)
            let dh4 = try bundle.oneTimePreKey.map { (otk) throws(CryptoError) in try ephemeral.sharedSecret(with: otk.publicKey) }
            return try derive([dh1, dh2, dh3] + (dh4.map { [$0] } ?? []))
        } catch {
            throw .weakKey
        }
    }

    /// The recipient's side, from its private keys and the PreKeyMessage fields.
    static func recipientSecret(identity: IdentityKey.PrivateKey, signedPreKey: X25519.PrivateKey,
                                oneTimePreKey: X25519.PrivateKey?, initiatorIdentity: IdentityKey.PublicKey,
                                baseKey: X25519.PublicKey) throws(SessionSetupError) -> SecureBytes {
        do {
            let dh1 = try signedPreKey.sharedSecret(with: initiatorIdentity.keyAgreementKey())
            let dh2 = try identity.sharedSecret(with: baseKey)
            let dh3 = try signedPreKey.sharedSecret(with: baseKey)
            let dh4 = try oneTimePreKey.map { (otk) throws(CryptoError) in try otk.sharedSecret(with: baseKey) }
            return try derive([dh1, dh2, dh3] + (dh4.map { [$0] } ?? []))
        } catch {
            throw .weakKey
        }
    }

    /// `SK = HKDF-SHA-512(64 zero bytes, 0xFF*32 || DH1 || … , "E2EE-v1 X3DH", 32)`.
    /// The DH outputs and the concatenation live only in wiped storage.
    private static func derive(_ dhs: [SharedSecret]) throws(CryptoError) -> SecureBytes {
        let ikm = try SecureBytes(count: 32 + 32 * dhs.count) { (buf) throws(CryptoError) in
            buf.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 32)
            for (i, dh) in dhs.enumerated() {
                dh.bytes.withUnsafeBytes { d in
                    UnsafeMutableRawBufferPointer(rebasing: buf[(32 + 32 * i)..<(64 + 32 * i)]).copyMemory(from: d)
                }
            }
        }
        return try HKDF.deriveKey(inputKeyMaterial: ikm, salt: salt, info: info, outputByteCount: 32)
    }
}
