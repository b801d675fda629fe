internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A symmetric-ratchet chain key (PROTOCOL.md §3, `KDF_CK`).
///
/// Each step replaces the chain key in place and yields one message key, so
/// an old chain key is gone as soon as the chain moves on.
public struct ChainKey: Sendable, Equatable, CustomStringConvertible {
    /// The key's length in bytes.
    public static let byteCount = 32
    var bytes: SecureBytes

    init(bytes: SecureBytes) {
        self.bytes = bytes
    }

    /// A chain key from 32 raw bytes; throws ``CryptoError`` for another length.
    public init<Bytes: ContiguousBytes>(rawRepresentation: Bytes) throws(CryptoError) {
        bytes = try SecureBytes(checkedKey: rawRepresentation)
    }

    /// A redacted description: a chain key never prints its bytes.
    public var description: String { "ChainKey(<redacted>)" }

    /// One `KDF_CK` step: returns the message key and moves the chain on.
    public mutating func next() -> MessageKey {
        MessageKey(bytes: bytes.chainStep(kind: E2EE_CHAIN_RATCHET))
    }

    /// `count` steps in one call into the C core: the message keys in order,
    /// and the chain moved on by `count`. Used for skipped keys and backlogs.
    public mutating func messageKeys(count: Int) throws(CryptoError) -> [MessageKey] {
        try bytes.chainAdvance(count: count, kind: E2EE_CHAIN_RATCHET).map(MessageKey.init(bytes:))
    }

    /// The message key `n` steps ahead (0: the next one) and the chain after
    /// it, leaving `self` as it is and keeping none of the keys in between:
    /// what a receiver needs to try a message before it knows it is genuine.
    func seek(_ n: UInt32) -> (chain: ChainKey, key: MessageKey) {
        let (ck, mk) = bytes.chainSeek(n, kind: E2EE_CHAIN_RATCHET)
        return (ChainKey(bytes: ck), MessageKey(bytes: mk))
    }
}

extension SecureBytes {
    /// One chain step written over `self`; returns the 32-byte message key.
    mutating func chainStep(kind: e2ee_chain_kind) -> SecureBytes {
        precondition(count == 32, "chain keys are 32 bytes")
        // The C core only fails on NULL pointers, which cannot occur here.
        return try! SecureBytes(count: 32) { (mk) throws(CryptoError) in
            let rc = withUnsafeMutableBytes { ck in
                let p = ck.baseAddress!
                let m = mk.baseAddress!
                return kind == E2EE_CHAIN_GROUP ? e2ee_kdf_gk(p, m, p) : e2ee_kdf_ck(p, m, p)
            }
            try check(rc, .invalidParameter("chain step"))
        }
    }

    /// `n + 1` chain steps from `self` (unchanged), one C call: the chain key
    /// after them and the last message key.
    func chainSeek(_ n: UInt32, kind: e2ee_chain_kind) -> (chain: SecureBytes, key: SecureBytes) {
        precondition(count == 32, "chain keys are 32 bytes")
        var ck = SecureBytes?.none
        // The C core only fails on NULL pointers or n == SIZE_MAX, which cannot occur here.
        let mk = try! SecureBytes(count: 32) { (mk) throws(CryptoError) in
            ck = try SecureBytes(count: 32) { (out) throws(CryptoError) in
                let rc = withUnsafeBytes { from in
                    e2ee_chain_seek(out.baseAddress!, mk.baseAddress!, from.baseAddress!, Int(n), kind)
                }
                try check(rc, .invalidParameter("chain seek"))
            }
        }
        return (ck!, mk)
    }

    /// `count` chain steps over `self`, one C call; returns the message keys.
    mutating func chainAdvance(count: Int, kind: e2ee_chain_kind) throws(CryptoError) -> [SecureBytes] {
        guard count >= 0 else { throw .invalidParameter("negative chain advance \(count)") }
        guard count > 0 else { return [] }
        let arena = try SecureBytes(count: count * 32) { (mks) throws(CryptoError) in
            let rc = withUnsafeMutableBytes { ck in
                let p = ck.baseAddress!
                return e2ee_chain_advance(p, mks.baseAddress!, mks.count, p, count, kind)
            }
            try check(rc, .invalidParameter("chain advance"))
        }
        return arena.withUnsafeBytes { all in
            (0..<count).map { i in SecureBytes(UnsafeRawBufferPointer(rebasing: all[(i * 32)..<((i + 1) * 32)])) }
        }
    }
}
