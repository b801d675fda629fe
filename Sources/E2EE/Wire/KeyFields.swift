internal import CE2EE

/// Key fields of messages and bundles: the raw key, checked as the wire requires.
extension X25519.PublicKey {
    /// Parses a key field of a message, naming the field in the error. Beyond
    /// the low-order check, the encoding must be canonical (bit 255 clear,
    /// u < p): keys are identified by their bytes on the wire, and X25519's
    /// indifference to those bits would make messages malleable.
    init(wire raw: [UInt8], field: String) throws(WireError) {
        // The same checks as init(rawRepresentation:), on the parser's array
        // itself, so no second copy.
        guard raw.count == X25519.keyByteCount else { throw .invalidKey(field: field) }
        try raw.withUnsafeBufferPointer { (p) throws(WireError) in try Self.checkWire(p.baseAddress!, field: field) }
        self.init(trusted: raw)
    }

    /// The checks of a key field, on 32 bytes in place.
    static func checkWire(_ p: UnsafePointer<UInt8>, field: String) throws(WireError) {
        guard e2ee_x25519_public_is_canonical(p) == 0, e2ee_x25519_public_validate(p) == 0 else {
            throw .invalidKey(field: field)
        }
    }
}

extension MLKEM.PublicKey {
    init(wire raw: [UInt8], field: String) throws(WireError) {
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }
}

extension IdentityKey.PublicKey {
    init(wire raw: [UInt8], field: String) throws(WireError) {
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }
}
