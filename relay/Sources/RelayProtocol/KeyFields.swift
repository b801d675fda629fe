import E2EE

extension X25519.PublicKey {
    /// The public initialiser refuses all-zero and low-order points; the
    /// canonical encoding is ``KeyUpload``'s check, made on every value.
    init(relayWire raw: [UInt8], field: String) throws(RelayWireError) {
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }

    /// Whether `raw` is 32 bytes, little-endian, with bit 255 clear and a value
    /// below p = 2^255 - 19. The library's wire parsers require this beyond the
    /// public initialiser (keys are identified by their bytes, and X25519's
    /// indifference to those bits would make them malleable), but only
    /// internally: it is repeated here so that a key the relay stores parses in
    /// `PreKeyBundle(serialized:)` when it is served.
    static func isCanonical(_ raw: [UInt8]) -> Bool {
        guard raw.count == X25519.keyByteCount, raw[31] & 0x80 == 0 else { return false }
        // With bit 255 clear, u ≥ p only for 0x7f ff … ff followed by a low byte ≥ 0xed.
        let top = raw[31] == 0x7f && raw[1...30].allSatisfy { $0 == 0xff }
        return !(top && raw[0] >= 0xed)
    }
}

extension MLKEM.PublicKey {
    /// The public initialiser checks the length and FIPS 203's modulus check.
    init(relayWire raw: [UInt8], field: String) throws(RelayWireError) {
        do {
            try self.init(rawRepresentation: raw)
        } catch {
            throw .invalidKey(field: field)
        }
    }
}
