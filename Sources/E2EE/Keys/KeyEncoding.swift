/// `Encode(K)` of PROTOCOL.md §1: a type byte, then the raw key.
enum KeyEncoding {
    static let x25519: UInt8 = 0x05
    static let ed25519: UInt8 = 0xED
    static let mlkem1024: UInt8 = 0x0A
}

extension X25519.PublicKey {
    /// `0x05 || key` (33 bytes), the form signed in a signed prekey.
    public var encoded: [UInt8] { [KeyEncoding.x25519] + bytes }
}

extension MLKEM.PublicKey {
    /// `EncodeKEM(PK) = 0x0A || key` (1569 bytes), the form signed in a KEM prekey.
    public var encoded: [UInt8] { [KeyEncoding.mlkem1024] + bytes }

    /// `BLAKE2b(EncodeKEM(PK), 32, "E2EEv1 kem bind")`: the KEM prekey as PQXDH
    /// binds it into `SK` (PROTOCOL.md §2b), kept beside each KEM prekey.
    var binding: [UInt8] {
        // Fixed, valid parameters: BLAKE2b cannot refuse them.
        (try? BLAKE2b.hash(encoded, personal: "E2EEv1 kem bind", outputByteCount: 32)) ?? []
    }
}

extension IdentityKey.PublicKey {
    /// `0xED || key` (33 bytes), as it enters the associated data.
    public var encoded: [UInt8] { [KeyEncoding.ed25519] + bytes }
}
