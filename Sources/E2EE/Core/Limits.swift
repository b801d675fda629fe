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
    /// Sender-key chains kept per group member (the newest first): a member's
    /// messages on a chain it rotated away from still decrypt for a while.
    public static let maxChainsPerSender = 5

    /// Bounds a record reader enforces (PROTOCOL.md §6), far above what any
    /// writer produces: a damaged or hostile record can never make a reader
    /// allocate or loop without bound.
    enum Record {
        static let signedPreKeys = 64
        static let oneTimePreKeys = 1 << 20
        static let acceptedBaseKeys = 1 << 24
        static let groupMembers = 100_000
        /// One session record inside a session-set record.
        static let sessionBytes = 1 << 20
        /// A user id in a group record.
        static let userIDBytes = 1024
    }
}
