/// A decrypted message, kept (sealed) until the application has consumed it.
public struct InboundMessage: Sendable, Equatable {
    /// Assigned by the store, increasing in commit order.
    public let sequence: UInt64
    /// The device the message came from.
    public let sender: ProtocolAddress
    /// The decrypted message.
    public let plaintext: [UInt8]
    /// Seconds since 1970 at receipt.
    public let receivedAt: UInt64
    /// Why the content policy held this message (``IncomingVerdict/hold(reason:)``);
    /// nil for a message delivered as usual.
    public let heldReason: String?

    /// An inbound message as a store returns it.
    public init(sequence: UInt64, sender: ProtocolAddress, plaintext: [UInt8], receivedAt: UInt64,
                heldReason: String? = nil) {
        self.sequence = sequence
        self.sender = sender
        self.plaintext = plaintext
        self.receivedAt = receivedAt
        self.heldReason = heldReason
    }

    /// Whether the content policy held this message.
    public var isHeld: Bool { heldReason != nil }
}

/// What one operation changes, applied by ``E2EEStore/commit(_:)`` all at once
/// or not at all.
public struct StoreChanges: Sendable {
    /// The account to write, if it changed.
    public var account: Account?
    /// Session sets to write, by peer device.
    public var sessions: [ProtocolAddress: SessionSet] = [:]
    /// Identity keys to trust, by peer device.
    public var identities: [ProtocolAddress: IdentityKey.PublicKey] = [:]
    /// Sender-key group states to write, by distribution id.
    public var groups: [DistributionID: GroupSession] = [:]
    /// Decrypted messages to append to the inbound table (sequence assigned by
    /// the store), with the content policy's reason for those it held.
    public var inbound: [(sender: ProtocolAddress, plaintext: [UInt8], receivedAt: UInt64, heldReason: String?)] = []

    /// No changes.
    public init() {}

    /// Whether committing these changes would write nothing.
    public var isEmpty: Bool {
        account == nil && sessions.isEmpty && identities.isEmpty && groups.isEmpty && inbound.isEmpty
    }

    /// Folds `later` into these changes as if it were committed right after
    /// them: its records replace ours, its inbound messages follow ours. One
    /// commit of the merged changes leaves the store as the two commits in
    /// order would (but for the inbound sequence numbers, which stay in order).
    public mutating func merge(_ later: StoreChanges) {
        if let account = later.account { self.account = account }
        sessions.merge(later.sessions) { _, new in new }
        identities.merge(later.identities) { _, new in new }
        groups.merge(later.groups) { _, new in new }
        inbound += later.inbound
    }
}

/// Why the store failed. A record that does not open or parse is an error,
/// never an empty result.
public enum StorageError: Error, Equatable, Sendable {
    /// A sealed record did not authenticate: wrong storage key, tampering, or a record moved to another row.
    case sealedRecordRejected(kind: String)
    /// A record opened but did not parse.
    case corruptRecord(kind: String, RecordError)
    /// The database or file system failed (message from the backend).
    case backend(String)
}

/// Persistence for everything a device holds, in the style of libsignal's store
/// traits but with one atomic ``commit(_:)`` for all of them, so that a
/// message's session advance and its plaintext land together.
///
/// Implementations must be safe to call from many threads; the session
/// manager serialises work per address itself.
public protocol E2EEStore: Sendable {
    /// The account, or nil if none was committed yet.
    func loadAccount() throws(StorageError) -> Account?
    /// The sessions with `address`, or nil if there are none.
    func loadSessions(for address: ProtocolAddress) throws(StorageError) -> SessionSet?
    /// Devices of `userID` with a stored session set, ascending.
    func deviceIDs(of userID: String) throws(StorageError) -> [UInt32]
    /// The identity key trusted for `address` (trust on first use), or nil.
    func loadIdentity(for address: ProtocolAddress) throws(StorageError) -> IdentityKey.PublicKey?
    /// A sender-key group state.
    func loadGroup(_ id: DistributionID) throws(StorageError) -> GroupSession?
    /// Inbound messages with sequence greater than `after`, oldest first.
    func inboundMessages(after: UInt64, limit: Int) throws(StorageError) -> [InboundMessage]
    /// Deletes inbound messages up to and including `through` (the application has them).
    func acknowledgeInbound(through: UInt64) throws(StorageError)
    /// Applies every change atomically: after a crash at any instant, all or none is visible.
    func commit(_ changes: StoreChanges) throws(StorageError)
    /// Runs `body` — the loads and the commit of one load-modify-commit — so
    /// that no other process sharing the store (an app and its notification
    /// extension) commits in between: otherwise both could load one session,
    /// and the later commit would roll the earlier one back. A call nested in
    /// another on the same thread runs inside it. `storageError` turns a
    /// failure to begin or end the exclusive section into the body's error
    /// type; if `body` throws, nothing it committed stays.
    func exclusively<R, E: Error>(_ body: () throws(E) -> R, storageError: (StorageError) -> E) throws(E) -> R
}

extension E2EEStore {
    /// A store that only one process opens needs nothing more than the
    /// caller's own locks: `body` runs as it is.
    public func exclusively<R, E: Error>(_ body: () throws(E) -> R, storageError: (StorageError) -> E) throws(E) -> R {
        try body()
    }
}
