internal import CE2EE

/// Key fields of messages and bundles: the raw key, checked as the wire requires.
extension X25519.PublicKey {
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
