/// Why bytes of the relay's own framing (docs/RELAY.md) were refused. Parsers
/// throw these and never trap, whatever the input; each case names what was
/// wrong so that a server can log it without logging the bytes.
public enum RelayWireError: Error, Equatable, Sendable {
    /// The input ended early: `needed` more bytes, `available` left.
    case truncated(needed: Int, available: Int)
    /// Bytes left over where the layout ends.
    case trailingBytes(count: Int)
    /// An envelope version this relay does not speak.
    case unknownVersion(UInt8)
    /// An envelope kind this relay does not know (a later sealed-sender kind
    /// arrives as this, not as a malformed envelope).
    case unknownKind(UInt8)
    /// A WebSocket frame type byte this relay does not know.
    case unknownFrameType(UInt8)
    /// A user id of a length outside 1…64 bytes.
    case invalidUserIDLength(Int)
    /// A user id byte outside `[A-Za-z0-9._-]`.
    case invalidUserIDByte(UInt8)
    /// A device id the relay does not allow (0).
    case invalidDeviceID(UInt32)
    /// A length field (named) above its limit, refused before anything is read or allocated.
    case tooLarge(field: String, size: Int, max: Int)
    /// A count (named) above its per-request bound.
    case tooMany(field: String, count: Int, max: Int)
    /// Reserved flag bits were set.
    case invalidFlags(UInt8)
    /// A public key field (named) is malformed, non-canonical or of low order.
    case invalidKey(field: String)
    /// A text field (named) is not valid UTF-8.
    case invalidUTF8(field: String)
    /// A field (named) holds a value the layout does not allow.
    case invalidField(String)
    /// An id (named field) appears twice where ids must be distinct.
    case duplicateID(field: String, id: UInt32)
}

/// `code: explanation` on one line, like the errors of E2EE: `code` is the
/// case as Swift spells it (`tooMany(field: "OPK", count: 1001, max: 1000)`,
/// what `String(describing:)` printed before this conformance), for logs and
/// scripts; the explanation says what to do. A server sends it back in a 400,
/// so it names fields, never the bytes.
extension RelayWireError: CustomStringConvertible {
    public var code: String {
        // The name from the switch (a case without payload has no child to
        // read it from); the payload as Swift prints it, strings quoted.
        guard let payload = Mirror(reflecting: self).children.first?.value else { return parts.name }
        let fields = Mirror(reflecting: payload)
        guard fields.displayStyle == .tuple else { return "\(parts.name)(\(Self.render(payload)))" }
        let items = fields.children.map { child -> String in
            guard let label = child.label, !label.hasPrefix(".") else { return Self.render(child.value) }
            return "\(label): \(Self.render(child.value))"
        }
        return "\(parts.name)(\(items.joined(separator: ", ")))"
    }

    public var description: String { "\(code): \(parts.explanation)" }

    private static func render(_ value: Any) -> String {
        if let text = value as? String { return String(reflecting: text) }
        return String(describing: value)
    }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .truncated:
            ("truncated", "the input ended before the field being read: it was cut short; nothing was stored. Send the complete request or frame.")
        case .trailingBytes:
            ("trailingBytes", "bytes follow the end of the layout: the input was padded, joined to other data, or damaged; nothing was stored. Send exactly one request or frame.")
        case .unknownVersion:
            ("unknownVersion", "the envelope is in a version this relay does not speak (a newer client); nothing was stored. Use an envelope version the relay supports (docs/RELAY.md).")
        case .unknownKind:
            ("unknownKind", "the envelope kind is not one this relay knows (perhaps a later sealed-sender kind); nothing was stored. Send a kind this relay supports, or upgrade the relay.")
        case .unknownFrameType:
            ("unknownFrameType", "the WebSocket frame type byte is not one this relay knows; the frame was refused. Send only the frame types of docs/RELAY.md, or upgrade the relay.")
        case .invalidUserIDLength:
            ("invalidUserIDLength", "a user id must be 1 to 64 bytes long; nothing was stored. Use a shorter (or non-empty) user id.")
        case .invalidUserIDByte:
            ("invalidUserIDByte", "a user id byte is outside [A-Za-z0-9._-]; nothing was stored. Use only those characters in user ids.")
        case .invalidDeviceID:
            ("invalidDeviceID", "device id 0 is not allowed; nothing was stored. Number devices from 1.")
        case .tooLarge:
            ("tooLarge", "the named length field is above its limit, so the input was refused before anything was read or allocated. Send less (split the message or upload).")
        case .tooMany:
            ("tooMany", "the named count is above its per-request bound; nothing was stored. Split the request into smaller ones.")
        case .invalidFlags:
            ("invalidFlags", "reserved flag bits are set: the sender is newer or broken; nothing was stored. Clear the reserved bits, or upgrade the relay.")
        case .invalidKey:
            ("invalidKey", "the named public key is malformed, non-canonical or of low order; nothing was stored. Send the key as the library encodes it, regenerating it if it is damaged.")
        case .invalidUTF8:
            ("invalidUTF8", "the named text field is not valid UTF-8; nothing was stored. Encode the text as UTF-8.")
        case .invalidField:
            ("invalidField", "the named field holds a value the layout does not allow; nothing was stored. Fix the field as docs/RELAY.md lays it out.")
        case .duplicateID:
            ("duplicateID", "the named id appears twice where ids must be distinct; nothing was stored. Send each id once.")
        }
    }
}
