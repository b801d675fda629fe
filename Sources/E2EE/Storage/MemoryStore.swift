
/// An in-memory ``E2EEStore`` for tests and benchmarks. It keeps records in
/// their serialised form, so it exercises the same encode/decode path as a
/// persistent store, and commits under one lock, so it is atomic.
public final class MemoryStore: E2EEStore {
    private struct State {
        var account: [UInt8]?
        var sessions: [ProtocolAddress: [UInt8]] = [:]
        var identities: [ProtocolAddress: [UInt8]] = [:]
        var groups: [DistributionID: [UInt8]] = [:]
        var inbound: [InboundMessage] = []
        var nextSequence: UInt64 = 1
    }

    private let state = Locked(State())

    /// An empty store.
    public init() {}

    /// The account, or nil before ``SessionManager/createAccount(store:identity:now:)``.
    public func loadAccount() throws(StorageError) -> Account? {
        guard let bytes = state.withLock({ $0.account }) else { return nil }
        do { return try Account(serialized: bytes) } catch { throw .corruptRecord(kind: "account", error) }
    }

    /// The sessions with `address`, or nil if there are none.
    public func loadSessions(for address: ProtocolAddress) throws(StorageError) -> SessionSet? {
        guard let bytes = state.withLock({ $0.sessions[address] }) else { return nil }
        do { return try SessionSet(serialized: bytes) } catch { throw .corruptRecord(kind: "sessions", error) }
    }

    public func deviceIDs(of userID: String) throws(StorageError) -> [UInt32] {
        state.withLock { s in s.sessions.keys.filter { $0.userID == userID }.map(\.deviceID).sorted() }
    }

    /// The identity key trusted for `address`, or nil if none is yet.
    public func loadIdentity(for address: ProtocolAddress) throws(StorageError) -> IdentityKey.PublicKey? {
        guard let bytes = state.withLock({ $0.identities[address] }) else { return nil }
        do { return try IdentityKey.PublicKey(rawRepresentation: bytes) } catch {
            throw .corruptRecord(kind: "identity", .malformed("identity key"))
        }
    }

    public func loadGroup(_ id: DistributionID) throws(StorageError) -> GroupSession? {
        guard let bytes = state.withLock({ $0.groups[id] }) else { return nil }
        do { return try GroupSession(serialized: bytes) } catch { throw .corruptRecord(kind: "group", error) }
    }

    public func inboundMessages(after: UInt64, limit: Int) throws(StorageError) -> [InboundMessage] {
        state.withLock { s in Array(s.inbound.filter { $0.sequence > after }.prefix(limit)) }
    }

    public func acknowledgeInbound(through: UInt64) throws(StorageError) {
        state.withLock { s in s.inbound.removeAll { $0.sequence <= through } }
    }

    public func commit(_ changes: StoreChanges) throws(StorageError) {
        // Serialise outside the lock; apply inside it.
        let account = changes.account?.serialized()
        let sessions = changes.sessions.mapValues { $0.serialized() }
        let groups = changes.groups.mapValues { $0.serialized() }
        state.withLock { s in
            // A replaced record held keys: wipe it before it is released.
            if let account {
                if s.account != nil { SecureBytes.wipe(&s.account!) }
                s.account = account
            }
            for (address, record) in sessions {
                if s.sessions[address] != nil { SecureBytes.wipe(&s.sessions[address]!) }
                s.sessions[address] = record
            }
            for (id, record) in groups {
                if s.groups[id] != nil { SecureBytes.wipe(&s.groups[id]!) }
                s.groups[id] = record
            }
            for (a, k) in changes.identities { s.identities[a] = k.rawRepresentation }
            for m in changes.inbound {
                s.inbound.append(InboundMessage(sequence: s.nextSequence, sender: m.sender, plaintext: m.plaintext,
                                                receivedAt: m.receivedAt, heldReason: m.heldReason))
                s.nextSequence += 1
            }
        }
    }
}
