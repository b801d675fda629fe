internal import CE2EE

/// `Encode(K)` of PROTOCOL.md §1: a type byte, then the raw key.
enum KeyEncoding {
    static let x25519: UInt8 = 0x05
    static let ed25519: UInt8 = 0xED
    static let mlkem1024: UInt8 = 0x0A
}

extension X25519.PublicKey {
    /// `0x05 || key` (33 bytes), the form signed in a signed prekey.
    public var encoded: [UInt8] { [KeyEncoding.x25519] + bytes }

    /// Parses a key field of a message, naming the field in the error. Beyond
    /// the low-order check, the encoding must be canonical (bit 255 clear,
    /// u < p): keys are identified by their bytes on the wire, and X25519's
    /// indifference to those bits would make messages malleable.
    init(wire raw: [UInt8], field: String) throws(WireError) {
        guard raw.count == X25519.keyByteCount,
              raw.withUnsafeBufferPointer({ e2ee_x25519_public_is_canonical($0.baseAddress) }) == 0 else {
            throw .invalidKey(field: field)
        }
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }
}

extension MLKEM.PublicKey {
    /// `EncodeKEM(PK) = 0x0A || key` (1569 bytes), the form signed in a KEM prekey.
    public var encoded: [UInt8] { [KeyEncoding.mlkem1024] + bytes }

    init(wire raw: [UInt8], field: String) throws(WireError) {
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }
}

extension IdentityKey.PublicKey {
    /// `0xED || key` (33 bytes), as it enters the associated data.
    public var encoded: [UInt8] { [KeyEncoding.ed25519] + bytes }

    init(wire raw: [UInt8], field: String) throws(WireError) {
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }
}
