/// Why bytes from the network or a bundle server were refused. Parsers throw
/// these and never trap, whatever the input.
public enum WireError: Error, Equatable, Sendable {
    /// The input ended early: `needed` more bytes, `available` left.
    case truncated(needed: Int, available: Int)
    /// The first byte is not the protocol version this build reads.
    case unknownVersion(UInt8)
    /// The type byte names no known message type.
    case unknownType(UInt8)
    /// Bytes left over where the layout is fixed.
    case trailingBytes(count: Int)
    /// A public key field (named) is malformed, all-zero or of low order.
    case invalidKey(field: String)
    /// Reserved bundle flag bits were set.
    case invalidFlags(UInt8)
    /// A ciphertext implies a plaintext larger than the caller's limit.
    case tooLarge(size: Int, max: Int)
    /// A known message type that this operation does not take.
    case unexpectedType(UInt8)
    /// A field holds a value the layout does not allow (named).
    case invalidField(String)
}
