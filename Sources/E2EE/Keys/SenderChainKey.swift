internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A sender-key chain key for group messages (PROTOCOL.md §5, `KDF_GK`).
public struct SenderChainKey: Sendable, Equatable, CustomStringConvertible {
    /// The key's length in bytes.
    public static let byteCount = 32
    var bytes: SecureBytes

    /// A chain key from 32 raw bytes (test vectors); throws ``CryptoError`` for another length.
    public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
        bytes = try SecureBytes(checkedKey: rawRepresentation)
    }

    init(bytes: SecureBytes) {
        self.bytes = bytes
    }

    /// A fresh random chain key for a new sending chain.
    public init() {
        bytes = SecureBytes(randomCount: 32)
    }

    /// A redacted description: a chain key never prints its bytes.
    public var description: String { "SenderChainKey(<redacted>)" }

    /// One `KDF_GK` step: returns the message key and moves the chain on.
    public mutating func next() -> MessageKey {
        MessageKey(bytes: bytes.chainStep(kind: E2EE_CHAIN_GROUP))
    }

    /// `count` steps in one C call, for backlogs.
    public mutating func messageKeys(count: Int) throws(CryptoError) -> [MessageKey] {
        try bytes.chainAdvance(count: count, kind: E2EE_CHAIN_GROUP).map(MessageKey.init(bytes:))
    }
}
