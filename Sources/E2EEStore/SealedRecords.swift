import E2EE

/// What a sealed blob holds. The raw value starts its associated data
/// (`kind || 0x00 || id`), so a blob only opens in the row it was written for.
enum SealedKind: String {
    /// `Account.serialized()`; id empty.
    case account
    /// ``keyCheckPlaintext``; id empty. Proves the key at open.
    case keyCheck = "keycheck"
    /// `SessionSet.serialized()`; id `ProtocolAddress.recordID`.
    case sessions
    /// The 32-byte identity public key; id `ProtocolAddress.recordID`.
    case identity
    /// ``InboundRecord``; id the u64 big-endian sequence number.
    case inbound
    /// A sender-key group state; id: the 16-byte distribution id.
    case group
    /// u64 big-endian: the highest sequence number ever acknowledged; id empty.
    case inboundAcknowledged = "inboundack"
}

/// The plaintext of the key-check record.
let keyCheckPlaintext = Array("swift-e2ee storage key check v1".utf8)

extension StorageKey {
    func seal(_ record: [UInt8], kind: SealedKind, id: [UInt8] = []) -> [UInt8] {
        seal(record, authenticating: associatedData(kind, id))
    }

    /// Opens a blob read from the row of `kind` and `id`; a blob that does not
    /// authenticate there is ``StorageError/sealedRecordRejected(kind:)``.
    func open(_ sealed: [UInt8], kind: SealedKind, id: [UInt8] = []) throws(StorageError) -> [UInt8] {
        guard let record = open(sealed, authenticating: associatedData(kind, id)) else {
            throw .sealedRecordRejected(kind: kind.rawValue)
        }
        return record
    }
}

private func associatedData(_ kind: SealedKind, _ id: [UInt8]) -> [UInt8] {
    var ad = Array(kind.rawValue.utf8)
    ad.reserveCapacity(ad.count + 1 + id.count)
    ad.append(0)
    ad += id
    return ad
}

func bigEndianBytes(_ v: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) }
}

/// An inbound message at rest (the sequence number is the row key and is
/// bound through the associated data, not stored again):
/// `u8 version || u32 len || sender user id (UTF-8) || u32 sender device
/// || u64 receivedAt || u32 len || plaintext`, integers big-endian; version 2
/// appends `u8 held (0 or 1) || [u32 len || reason (UTF-8)]` (the content
/// policy's hold). Version 1 records (before 0.8.0) still open, never held.
struct InboundRecord {
    static let version: UInt8 = 2

    var sender: ProtocolAddress
    var receivedAt: UInt64
    var plaintext: [UInt8]
    var heldReason: String?

    func serialized() -> [UInt8] {
        let user = Array(sender.userID.utf8)
        let reason = heldReason.map { Array($0.utf8) }
        var out = [UInt8]()
        out.reserveCapacity(1 + 4 + user.count + 4 + 8 + 4 + plaintext.count + 1 + 4 + (reason?.count ?? 0))
        out.append(Self.version)
        out += bigEndianBytes(UInt64(user.count)).suffix(4)
        out += user
        out += bigEndianBytes(UInt64(sender.deviceID)).suffix(4)
        out += bigEndianBytes(receivedAt)
        out += bigEndianBytes(UInt64(plaintext.count)).suffix(4)
        out += plaintext
        if let reason {
            out.append(1)
            out += bigEndianBytes(UInt64(reason.count)).suffix(4)
            out += reason
        } else {
            out.append(0)
        }
        return out
    }

    init(sender: ProtocolAddress, receivedAt: UInt64, plaintext: [UInt8], heldReason: String? = nil) {
        self.sender = sender
        self.receivedAt = receivedAt
        self.plaintext = plaintext
        self.heldReason = heldReason
    }

    init(serialized bytes: [UInt8]) throws(RecordError) {
        var r = Reader(bytes: bytes)
        let version = try r.integer(1)
        guard version == 1 || version == Self.version else { throw .unsupportedVersion(UInt16(version)) }
        let userBytes = try r.bytes(Int(r.integer(4)))
        guard let user = String(validating: userBytes, as: UTF8.self) else { throw .malformed("sender user id") }
        let device = UInt32(try r.integer(4))
        receivedAt = try r.integer(8)
        plaintext = Array(try r.bytes(Int(r.integer(4))))
        heldReason = nil
        if version >= 2 {
            switch try r.integer(1) {
            case 0: break
            case 1:
                let reasonBytes = try r.bytes(Int(r.integer(4)))
                guard let reason = String(validating: reasonBytes, as: UTF8.self) else { throw .malformed("held reason") }
                heldReason = reason
            default: throw .malformed("held flag")
            }
        }
        guard r.remaining == 0 else { throw .trailingBytes(count: r.remaining) }
        sender = ProtocolAddress(userID: user, deviceID: device)
    }

    /// Reads a u64 big-endian value, for ``SealedKind/inboundAcknowledged``.
    static func sequence(_ bytes: [UInt8]) throws(RecordError) -> UInt64 {
        var r = Reader(bytes: bytes)
        let v = try r.integer(8)
        guard r.remaining == 0 else { throw .trailingBytes(count: r.remaining) }
        return v
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var remaining: Int { bytes.count - offset }

        mutating func bytes(_ n: Int) throws(RecordError) -> ArraySlice<UInt8> {
            guard n <= remaining else { throw .truncated }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }

        /// `width` bytes big-endian.
        mutating func integer(_ width: Int) throws(RecordError) -> UInt64 {
            try bytes(width).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}
