/// Every bound the protocol enforces, in one place (PROTOCOL.md §3–§5).
/// Exceeding one is a specific error, never a silent truncation.
public enum Limits {
    /// Message keys computed in one skip step (`MAX_SKIP`).
    public static let maxSkip: UInt32 = 1000
    /// Skipped message keys stored per session; the oldest is evicted first.
    public static let maxStoredSkippedKeys = 2000
    /// Remote ratchet keys remembered after their chain is gone, so a late
    /// message for them is reported as a duplicate rather than as a forgery.
    public static let maxPreviousRatchetKeys = 5
    /// Sessions kept per peer besides the current one.
    public static let maxArchivedSessions = 40
    /// An initiator session that got no reply within this many seconds expires:
    /// encrypting to it fails until a fresh bundle starts a new one (30 days, as libsignal).
    public static let maxUnacknowledgedSessionAge: UInt64 = 30 * 24 * 3600
    /// Default bound on a plaintext (and so on a message) a parser accepts.
    public static let defaultMaxPlaintext = 256 * 1024
    /// Skipped keys kept per sender-key chain (§5).
    public static let maxSenderKeySkipped = 2000
    /// Largest iteration jump accepted on a sender-key chain (§5).
    public static let maxSenderKeyJump: UInt32 = 25_000
}
