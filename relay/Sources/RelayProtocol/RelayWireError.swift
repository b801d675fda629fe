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
