#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A 32-byte message key: one per message, used once by ``AEADv1``.
public struct MessageKey: Sendable, Equatable, CustomStringConvertible {
    /// The key's length in bytes.
    public static let byteCount = 32
    let bytes: SecureBytes

    init(bytes: SecureBytes) {
        self.bytes = bytes
    }

    /// A key from its 32 raw bytes (for example restored from a record).
    public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
        bytes = try SecureBytes(checkedKey: rawRepresentation)
    }

    /// A redacted description: a message key never prints its bytes.
    public var description: String { "MessageKey(<redacted>)" }

    /// Pointer to the 32 key bytes, valid while `self` is alive.
    var keyPointer: UnsafeRawPointer { bytes.baseAddress }
}
