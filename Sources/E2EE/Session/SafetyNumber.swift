/// The 60-digit number two users compare out of band (read aloud, or side by
/// side) to confirm that each holds the other's real identity key.
///
/// Computed as Signal computes its displayable fingerprint (libsignal's
/// `NumericFingerprintGenerator`, fingerprint version 0). For each party,
/// with `key` the identity key's ``IdentityKey/PublicKey/encoded`` form:
///
/// ```
/// h = u16be(0) || key || stableID
/// repeat 5200 times: h = SHA-512(h || key)
/// ```
///
/// so the first of the 5200 hashes covers `u16be(0) || key || stableID || key`.
/// The first 30 bytes of `h`, as six big-endian 40-bit integers each taken
/// mod 100 000 and written as five digits, give that party's 30 digits; the
/// number is the smaller half followed by the larger, so both sides see the
/// same digits.
///
/// libsignal hashes its 33-byte serialized Curve25519 key, `0x05 || key`; our
/// identity keys are Ed25519 and enter as `0xED || key` (PROTOCOL.md §1), so
/// the same 32 bytes give a different number than Signal would show, and a
/// Signal key can never be mistaken for one of ours. The algorithm itself is
/// checked against libsignal's published test vector.
///
/// A stable ID is whatever names the party in the application (for example
/// the UTF-8 of a user id). Both sides must use the same ID for each party;
/// it ties the number to the person, not only to the key.
public struct SafetyNumber: Sendable, Equatable, CustomStringConvertible {
    /// SHA-512 invocations per party; fixed, as every client must agree on it.
    public static let iterations = 5200
    /// Digits per party.
    static let halfDigitCount = 30
    static let version: UInt16 = 0

    /// The 60 decimal digits, ASCII `0`–`9`.
    public let digits: String

    /// The safety number for a conversation between the local party and a
    /// remote one. Swapping the two sides gives the same number.
    public init(localIdentity: IdentityKey.PublicKey, localStableID: [UInt8],
                remoteIdentity: IdentityKey.PublicKey, remoteStableID: [UInt8]) {
        let local = Self.displayHalf(Self.fingerprint(encodedKey: localIdentity.encoded, stableID: localStableID))
        let remote = Self.displayHalf(Self.fingerprint(encodedKey: remoteIdentity.encoded, stableID: remoteStableID))
        self.init(half: local, otherHalf: remote)
    }

    /// Orders the halves so that the result does not depend on which side is local.
    init(half a: String, otherHalf b: String) {
        digits = a.utf8.lexicographicallyPrecedes(b.utf8) ? a + b : b + a
    }

    /// The digits in 12 groups of 5, as they are usually shown.
    public var displayGroups: [String] {
        let d = Array(digits.utf8)
        return stride(from: 0, to: d.count, by: 5).map {
            String(decoding: d[$0..<min($0 + 5, d.count)], as: UTF8.self)
        }
    }

    /// The groups separated by single spaces.
    public var description: String { displayGroups.joined(separator: " ") }

    /// One party's 64-byte iterated hash over an already-encoded key
    /// (`0xED || key` for ours, `0x05 || key` for libsignal's vector).
    static func fingerprint(encodedKey key: [UInt8], stableID: [UInt8], iterations: Int = iterations) -> [UInt8] {
        precondition(iterations >= 1, "a fingerprint needs at least one hash")
        var hash = SHA512.hash([UInt8(truncatingIfNeeded: version >> 8), UInt8(truncatingIfNeeded: version)]
                               + key + stableID + key)
        var block = [UInt8]()
        block.reserveCapacity(hash.count + key.count)
        for _ in 1..<iterations {
            block.removeAll(keepingCapacity: true)
            block += hash
            block += key
            hash = SHA512.hash(block)
        }
        return hash
    }

    /// 30 digits from the first 30 bytes of a fingerprint: six 5-byte
    /// big-endian integers, each mod 100 000, zero-padded to 5 digits.
    static func displayHalf(_ fingerprint: [UInt8]) -> String {
        precondition(fingerprint.count >= 30, "a fingerprint has at least 30 bytes")
        var out = [UInt8](repeating: 0x30, count: halfDigitCount)
        for chunk in 0..<6 {
            var value: UInt64 = 0
            for byte in fingerprint[(chunk * 5)..<(chunk * 5 + 5)] {
                value = value << 8 | UInt64(byte)
            }
            value %= 100_000
            for position in stride(from: chunk * 5 + 4, through: chunk * 5, by: -1) {
                out[position] = 0x30 + UInt8(value % 10)
                value /= 10
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
