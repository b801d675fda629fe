
/// Why a ``SessionManager`` call failed. In every case nothing was committed.
public enum MessagingError: Error, Equatable, Sendable {
    /// The store holds no account: create one with ``SessionManager/createAccount(store:identity:now:)``.
    case noAccount
    /// No session with this device: start one from its bundle.
    case noSession(ProtocolAddress)
    /// The current session never got a reply within ``Limits/maxUnacknowledgedSessionAge``:
    /// fetch a fresh bundle and start again.
    case sessionExpired(ProtocolAddress)
    /// The peer's identity key differs from the one trusted for this address.
    /// Nothing is decrypted or sent until ``SessionManager/acceptIdentity(_:for:)``.
    case untrustedIdentity(ProtocolAddress)
    /// Session setup failed (a bad bundle or first message, or classical setup refused).
    case setup(SessionSetupError)
    /// The message did not decrypt; the session is unchanged.
    case decrypt(DecryptError)
    /// The message could not be encrypted.
    case encrypt(EncryptError)
    /// The store failed; nothing was committed.
    case storage(StorageError)
    /// No state for this group: create or join it, or wait for a member's distribution.
    case unknownGroup(DistributionID)
    /// The address is not a member of the group.
    case notAMember(ProtocolAddress)
    /// A group operation or group message failed.
    case group(GroupError)
    /// An application plaintext that starts like a group update or
    /// distribution (`0x01 0x04`, `0x01 0x06`): reserved, so that a receiver
    /// can never mistake one for the other.
    case reservedPlaintext
    /// The ``ContentPolicy`` refused to send this plaintext, for `reason`.
    /// Nothing was encrypted.
    case rejectedByPolicy(reason: String)
}

/// What ``SessionManager/receive(_:from:)`` did with a message.
public enum Received: Sendable, Equatable {
    /// An application message, also appended to the inbound table.
    case message([UInt8])
    /// A roster update for a group was applied (no plaintext is kept).
    case groupUpdate(DistributionID, GroupChange)
    /// A member's sender-key chain was stored (no plaintext is kept).
    case senderKey(DistributionID, from: ProtocolAddress)
    /// An application message the ``ContentPolicy`` held for `reason`: it was
    /// received (the session advanced) and stored in the inbound table marked
    /// held, and is not to be shown as an ordinary message.
    case held([UInt8], reason: String)

    /// The application plaintext, if this was an application message
    /// delivered as usual (nil for a held one: see ``held(_:reason:)``).
    public var plaintext: [UInt8]? {
        if case .message(let p) = self { return p }
        return nil
    }
}

/// Many peers and devices over one ``E2EEStore``: the layer a messenger uses.
///
/// Every operation loads the records it needs, works on copies and commits
/// all of its changes in one ``E2EEStore/commit(_:)``: a received message's
/// session advance and its plaintext land together or not at all, and a
/// ciphertext is returned only after the state that produced it is committed.
///
/// Thread-safe: calls for different addresses run in parallel, calls for one
/// address are serialised (striped locks), and changes to the account (new
/// sessions consuming one-time prekeys, maintenance) take the account lock.
public final class SessionManager: Sendable {
    /// The store that holds this device's account, sessions, groups and inbox.
    public let store: any E2EEStore
    /// This device's address.
    public let localAddress: ProtocolAddress
    let random: any RandomSource
    let clock: @Sendable () -> UInt64
    private let stripes: [Lock]
    let accountLock = Lock()
    /// The identity never changes, so it is loaded once.
    public let identity: IdentityKey.PrivateKey
    /// Whether classical X3DH setup is allowed, both ways (PROTOCOL.md §2b).
    /// Off by default: sessions are set up with PQXDH, a bundle without a KEM
    /// prekey and a classical PreKeyMessage are refused with
    /// ``SessionSetupError/postQuantumRequired``.
    public let allowsClassicalSetup: Bool
    /// The client-side moderation hook asked about every application
    /// plaintext sent and received, if any.
    public let contentPolicy: (any ContentPolicy)?

    /// Opens a manager over a store that already holds an account. Pass
    /// `allowClassical: true` only to talk to peers that cannot do PQXDH, and
    /// a `contentPolicy` to review plaintext before it is encrypted and after
    /// it is decrypted.
    public init(store: any E2EEStore, localAddress: ProtocolAddress, random: any RandomSource = .system,
                clock: @escaping @Sendable () -> UInt64 = SessionManager.systemClock,
                allowClassical: Bool = false, contentPolicy: (any ContentPolicy)? = nil) throws(MessagingError) {
        let account: Account?
        do { account = try store.loadAccount() } catch { throw .storage(error) }
        guard let account else { throw .noAccount }
        self.store = store
        self.localAddress = localAddress
        self.random = random
        self.clock = clock
        self.allowsClassicalSetup = allowClassical
        self.contentPolicy = contentPolicy
        self.identity = account.identity
        stripes = (0..<64).map { _ in Lock() }
    }

    /// Creates and commits a new account: identity, signed prekey, last-resort
    /// KEM prekey, 100 one-time prekeys and 100 one-time KEM prekeys (seeds:
    /// each is expanded when it is first published).
    @discardableResult
    public static func createAccount(store: any E2EEStore, identity: IdentityKey.PrivateKey = IdentityKey.PrivateKey(),
                                     now: UInt64 = systemClock()) throws(MessagingError) -> Account {
        var account = Account(identity: identity, createdAt: now)
        account.generateOneTimePreKeys(count: PreKeyPolicy().targetOneTimePreKeys)
        account.generateOneTimeKEMPreKeys(count: PreKeyPolicy().targetOneTimeKEMPreKeys, createdAt: now)
        var changes = StoreChanges()
        changes.account = account
        do { try store.commit(changes) } catch { throw .storage(error) }
        return account
    }

    /// The wall clock in seconds since 1970: the default `now` of the manager.
    public static let systemClock: @Sendable () -> UInt64 = {
        UInt64(ContinuousClockEpoch.secondsSince1970())
    }

    // MARK: Locks

    private func stripe(for address: ProtocolAddress) -> Int {
        var h = Hasher()
        h.combine(address)
        return Int(UInt(bitPattern: h.finalize()) % UInt(stripes.count))
    }

    /// Runs `body` under the address's lock, as one exclusive section of the
    /// store (``E2EEStore/exclusively(_:storageError:)``): its loads and its
    /// commit see no other process's commit in between.
    func withAddressLock<R: Sendable>(_ address: ProtocolAddress,
                                      _ body: () throws(MessagingError) -> R) throws(MessagingError) -> R {
        try stripes[stripe(for: address)].withLock { () throws(MessagingError) -> R in try exclusively(body) }
    }

    /// Locks several addresses in stripe order (so two callers cannot deadlock),
    /// then runs `body` as one exclusive section of the store.
    func withAddressLocks<R: Sendable>(_ addresses: [ProtocolAddress],
                                       _ body: () throws(MessagingError) -> R) throws(MessagingError) -> R {
        let order = Set(addresses.map(stripe(for:))).sorted()
        return try lockChain(order[...]) { () throws(MessagingError) -> R in try exclusively(body) }
    }

    private func lockChain<R: Sendable, E: Error>(_ order: ArraySlice<Int>, _ body: () throws(E) -> R) throws(E) -> R {
        guard let first = order.first else { return try body() }
        return try stripes[first].withLock { () throws(E) -> R in try lockChain(order.dropFirst(), body) }
    }

    /// The store's exclusive section. Lock order: address stripes, then this,
    /// then the account lock.
    func exclusively<R>(_ body: () throws(MessagingError) -> R) throws(MessagingError) -> R {
        try store.exclusively(body, storageError: { MessagingError.storage($0) })
    }

    /// The account lock inside the store's exclusive section, for calls that
    /// change only the account.
    private func withAccountLock<R: Sendable>(_ body: () throws(MessagingError) -> R) throws(MessagingError) -> R {
        try exclusively { () throws(MessagingError) -> R in
            try accountLock.withLock { () throws(MessagingError) -> R in try body() }
        }
    }

    func load(_ address: ProtocolAddress) throws(MessagingError) -> SessionSet {
        do { return try store.loadSessions(for: address) ?? SessionSet() } catch { throw .storage(error) }
    }

    func commit(_ changes: StoreChanges) throws(MessagingError) {
        do { try store.commit(changes) } catch { throw .storage(error) }
    }

    // MARK: Identity trust

    /// The identity trusted for `address` (first use), if any.
    public func trustedIdentity(for address: ProtocolAddress) throws(MessagingError) -> IdentityKey.PublicKey? {
        do { return try store.loadIdentity(for: address) } catch { throw .storage(error) }
    }

    /// Trust on first use: an unknown address trusts the key it first presents;
    /// a known one must present the same key.
    /// `pending`: changes of this batch not yet committed (read before the store).
    private func checkTrust(_ key: IdentityKey.PublicKey, for address: ProtocolAddress,
                            into changes: inout StoreChanges, pending: StoreChanges = StoreChanges()) throws(MessagingError) {
        switch try trustedIdentity(for: address, pending: pending) {
        case nil: changes.identities[address] = key
        case let trusted? where trusted == key: break
        default: throw .untrustedIdentity(address)
        }
    }

    /// The identity trusted for `address`, as `pending` (uncommitted changes of
    /// this batch) leaves it.
    func trustedIdentity(for address: ProtocolAddress, pending: StoreChanges) throws(MessagingError) -> IdentityKey.PublicKey? {
        if let key = pending.identities[address] { return key }
        return try trustedIdentity(for: address)
    }

    /// Accepts a changed identity for `address` (after the user compared safety
    /// numbers). Sessions made with the old identity are dropped.
    public func acceptIdentity(_ key: IdentityKey.PublicKey, for address: ProtocolAddress) throws(MessagingError) {
        try withAddressLock(address) { () throws(MessagingError) in
            var set = try load(address)
            let keep = ([set.current].compactMap { $0 } + set.archived).filter { $0.remoteIdentity == key }
            set = SessionSet(current: keep.first, archived: Array(keep.dropFirst()))
            var changes = StoreChanges()
            changes.identities[address] = key
            changes.sessions[address] = set
            try commit(changes)
        }
    }

    /// The safety number of this device's identity and the one trusted for
    /// `address`, with the user ids as stable identifiers.
    public func safetyNumber(for address: ProtocolAddress) throws(MessagingError) -> SafetyNumber? {
        guard let remote = try trustedIdentity(for: address) else { return nil }
        return SafetyNumber(localIdentity: identity.publicKey, localStableID: Array(localAddress.userID.utf8),
                            remoteIdentity: remote, remoteStableID: Array(address.userID.utf8))
    }

    // MARK: Sessions

    /// Starts a session with `address` from its bundle and makes it current.
    public func startSession(with address: ProtocolAddress, bundle: PreKeyBundle) throws(MessagingError) {
        try withAddressLock(address) { () throws(MessagingError) in try startSessionLocked(address, bundle) }
    }

    private func startSessionLocked(_ address: ProtocolAddress, _ bundle: PreKeyBundle) throws(MessagingError) {
        var changes = StoreChanges()
        try checkTrust(bundle.identityKey, for: address, into: &changes)
        let session: Session
        do { session = try Session.initiate(identity: identity, bundle: bundle, random: random, now: clock(),
                                           allowClassical: allowsClassicalSetup) } catch {
            throw .setup(error)
        }
        var set = try load(address)
        set.promote(session)
        changes.sessions[address] = set
        try commit(changes)
    }

    /// Encrypts for one device; the session advance is committed before the
    /// ciphertext is returned, so a crash can never make it reuse a key. The
    /// multi-device fan-out with one address: both give the same bytes.
    public func encrypt(_ plaintext: [UInt8], to address: ProtocolAddress) throws(MessagingError) -> [UInt8] {
        let plaintext = try screenOutgoing(plaintext, peers: [address])
        return try withAddressLock(address) { () throws(MessagingError) in try fanOutLocked(plaintext, [address])[0].message }
    }

    func checkUsable(_ set: SessionSet, _ address: ProtocolAddress) throws(MessagingError) {
        guard let current = set.current else { throw .noSession(address) }
        if current.awaitingReply, clock() > current.createdAt &+ Limits.maxUnacknowledgedSessionAge {
            throw .sessionExpired(address)
        }
    }

    /// Receives one message from `address`: decrypts it and commits, in one
    /// transaction, the session state, any account change (a consumed one-time
    /// prekey, a remembered base key), a first-seen identity and either the
    /// plaintext into the inbound table or, for a group update or
    /// distribution, the group state (chain keys never reach the inbox).
    /// After a crash at any instant the message is either fully received or can
    /// be received again; a second delivery of a received message is a
    /// ``DecryptError/duplicate(index:)``. A refused group update or
    /// distribution commits nothing. A queue is faster through
    /// ``receive(batch:commitEvery:)``: one transaction per chunk.
    @discardableResult
    public func receive(_ message: [UInt8], from address: ProtocolAddress) throws(MessagingError) -> Received {
        // Parsed once: the identity key's check is paid here, and the parsed
        // message is what the session set routes.
        let parsed = try Self.parse(message)
        let first = try withAddressLock(address) { () throws(MessagingError) in
            try receiveCommitting(parsed, address, groups: [])
        }
        guard case .needsGroupLock(let id) = first else { return try first.committed(address) }
        // Group state changes under the group's lock too, all locks taken in one
        // order: the message is decrypted again (nothing was committed).
        let second = try withAddressLocks([address, groupLockAddress(id)]) { () throws(MessagingError) in
            try receiveCommitting(parsed, address, groups: [id])
        }
        guard case .done = second else { throw .group(.wrongGroup(id)) }
        return try second.committed(address)
    }

    static func parse(_ message: [UInt8]) throws(MessagingError) -> WireMessage {
        do { return try WireMessage(serialized: message) } catch { throw .decrypt(.malformed(error)) }
    }

    /// One message's receive, committed on its own.
    private func receiveCommitting(_ parsed: WireMessage, _ address: ProtocolAddress,
                                   groups: Set<DistributionID>) throws(MessagingError) -> ReceiveStep {
        let step = try receiveChanges(parsed, from: address, lockedGroups: groups, account: .lockPerMessage,
                                      pending: StoreChanges())
        if case .done(_, let changes) = step { try commit(changes) }
        return step
    }

    /// What one message's receive needs or did.
    enum ReceiveStep: Sendable {
        /// Received: what to report and what to commit.
        case done(Received, StoreChanges)
        /// A group update or distribution for a group whose lock is not held.
        case needsGroupLock(DistributionID)
        /// A first message, and the account lock is not held.
        case needsAccountLock

        func committed(_ address: ProtocolAddress) throws(MessagingError) -> Received {
            // Not reached: callers ask for the group lock first, and take the
            // account lock themselves (`.lockPerMessage`).
            guard case .done(let received, _) = self else { throw .noSession(address) }
            return received
        }
    }

    /// How a receive may reach the account (lock order: address stripes, the
    /// store's exclusive section, then the account lock).
    enum AccountAccess: Sendable {
        /// Take the account lock around a first message's work.
        case lockPerMessage
        /// The caller holds it.
        case held
        /// The caller does not hold it: a first message returns ``ReceiveStep/needsAccountLock``.
        case notHeld
    }

    /// Decrypts one message and returns, without committing, the changes that
    /// receiving it makes: the session set, any account change (a consumed
    /// one-time prekey, a remembered base key), a first-seen identity and
    /// either the plaintext for the inbound table or, for a group update or
    /// distribution, the group state. Every record is read from `pending`
    /// (changes of the same batch, not yet committed) before the store, so a
    /// batch sees its own earlier messages; the returned changes already
    /// include what was read from `pending` and changed. The caller holds the
    /// address's lock and those of `lockedGroups` inside the store's exclusive section.
    func receiveChanges(_ parsed: WireMessage, from address: ProtocolAddress, lockedGroups: Set<DistributionID>,
                        account access: AccountAccess, pending: StoreChanges) throws(MessagingError) -> ReceiveStep {
        var changes = StoreChanges()
        var set: SessionSet
        if let batched = pending.sessions[address] { set = batched } else { set = try load(address) }
        if case .preKey(let m) = parsed { try checkTrust(m.identityKey, for: address, into: &changes, pending: pending) }
        var plaintext: [UInt8]
        if let first = set.newSessionMessage(parsed) {
            // A new session consumes a one-time prekey and remembers its base key:
            // the account changes too, under its lock.
            let accept = { (set: inout SessionSet, changes: inout StoreChanges) throws(MessagingError) -> [UInt8] in
                var account: Account
                if let batched = pending.account { account = batched } else { account = try self.loadAccount() }
                let p = try self.mapReceiveError { () throws(ReceiveError) in
                    try set.accept(first, account: &account, random: self.random, now: self.clock(),
                                   allowClassical: self.allowsClassicalSetup)
                }
                changes.account = account
                return p
            }
            switch access {
            case .notHeld: return .needsAccountLock
            case .held: plaintext = try accept(&set, &changes)
            case .lockPerMessage:
                plaintext = try accountLock.withLock { () throws(MessagingError) -> [UInt8] in try accept(&set, &changes) }
            }
        } else {
            // Routed to an existing session: the account is neither loaded nor locked.
            plaintext = try mapReceiveError { () throws(ReceiveError) in try set.decryptExisting(parsed, random: random) }
        }
        changes.sessions[address] = set
        let control: GroupControl?
        do { control = try GroupControl(plaintext: plaintext) } catch { throw .group(.malformed(error)) }
        let received: Received
        if let control {
            defer { SecureBytes.wipe(&plaintext) }   // a distribution carries a chain key
            guard lockedGroups.contains(control.distributionID) else { return .needsGroupLock(control.distributionID) }
            // The identity this message's session presents: pinned by it, or trusted before.
            var identity = changes.identities[address]
            if identity == nil { identity = try trustedIdentity(for: address, pending: pending) }
            guard let identity else { throw .noSession(address) }
            received = try applyGroupControl(control, from: address, identity: identity, pending: pending, into: &changes)
        } else {
            received = deliver(plaintext, from: address, into: &changes)
        }
        return .done(received, changes)
    }

    /// Runs a session set's receive, mapping its error.
    private func mapReceiveError(_ body: () throws(ReceiveError) -> [UInt8]) throws(MessagingError) -> [UInt8] {
        do { return try body() } catch {
            switch error {
            case .setup(let e): throw .setup(e)
            case .decrypt(let e): throw .decrypt(e)
            }
        }
    }

    private func loadAccount() throws(MessagingError) -> Account {
        let account: Account?
        do { account = try store.loadAccount() } catch { throw .storage(error) }
        guard let account else { throw .noAccount }
        return account
    }

    // MARK: Multi-device

    /// Encrypts one plaintext to every device of `userID` that has a session
    /// (and, with `includeOwnDevices`, to this user's other devices), in one
    /// batched AEAD call and one commit. Returns a ciphertext per device.
    public func encrypt(_ plaintext: [UInt8], toUser userID: String,
                        includeOwnDevices: Bool = true) throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        var addresses: [ProtocolAddress]
        do {
            addresses = try store.deviceIDs(of: userID).map { ProtocolAddress(userID: userID, deviceID: $0) }
            if includeOwnDevices, userID != localAddress.userID {
                addresses += try store.deviceIDs(of: localAddress.userID)
                    .map { ProtocolAddress(userID: localAddress.userID, deviceID: $0) }
            }
        } catch {
            throw .storage(error)
        }
        addresses.removeAll { $0 == localAddress }
        guard !addresses.isEmpty else { return [] }
        let plaintext = try screenOutgoing(plaintext, peers: addresses)
        return try withAddressLocks(addresses) { () throws(MessagingError) in try fanOutLocked(plaintext, addresses) }
    }

    /// Encrypts one plaintext to each of `addresses` (one batched AEAD call,
    /// one commit).
    public func encrypt(_ plaintext: [UInt8],
                        to addresses: [ProtocolAddress]) throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        let unique = Array(Set(addresses)).sorted()
        guard !unique.isEmpty else { return [] }
        let plaintext = try screenOutgoing(plaintext, peers: unique)
        return try withAddressLocks(unique) { () throws(MessagingError) in try fanOutLocked(plaintext, unique) }
    }

    func fanOutLocked(_ plaintext: [UInt8], _ addresses: [ProtocolAddress]) throws(MessagingError)
        -> [(address: ProtocolAddress, message: [UInt8])] {
        guard !GroupControl.isReserved(plaintext) else { throw .reservedPlaintext }
        return try sealLocked(addresses.map { ($0, plaintext) }, with: StoreChanges())
    }

    /// Encrypts each (address, plaintext) in order (several to one address
    /// follow each other on its session) in one batched AEAD call, and commits
    /// the session advances with `extra` in one transaction. The caller holds
    /// the addresses' locks.
    func sealLocked(_ outgoing: [(ProtocolAddress, [UInt8])],
                    with extra: StoreChanges) throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])] {
        var changes = extra
        var sets = [ProtocolAddress: SessionSet]()
        var prefixes = [[UInt8]](), items = [AEADv1.BatchItem]()
        prefixes.reserveCapacity(outgoing.count)
        items.reserveCapacity(outgoing.count)
        for (address, plaintext) in outgoing {
            var set: SessionSet
            if let loaded = sets[address] { set = loaded } else {
                set = try load(address)
                try checkUsable(set, address)
            }
            var session = set.current!
            let prepared: (prefix: [UInt8], ad: [UInt8], key: MessageKey)
            do { prepared = try session.prepareMessage(plaintextCount: plaintext.count, random: random) } catch { throw .encrypt(error) }
            set.current = session
            sets[address] = set
            prefixes.append(prepared.prefix)
            items.append(AEADv1.BatchItem(input: plaintext, key: prepared.key, associatedData: prepared.ad,
                                          reuseGuard: random.makeReuseGuard()))
        }
        for (address, set) in sets { changes.sessions[address] = set }
        let sealed = AEADv1.sealBatch(items)
        var out = [(address: ProtocolAddress, message: [UInt8])]()
        out.reserveCapacity(outgoing.count)
        for (i, (address, _)) in outgoing.enumerated() {
            guard case .success(let bytes) = sealed[i] else { throw .encrypt(.invalidReuseGuard) }
            // The prefix has room reserved for the sealed part.
            var message = prefixes[i]
            message += bytes
            out.append((address, message))
        }
        try commit(changes)
        return out
    }

    // MARK: Prekeys

    /// A bundle for the server, with a one-time prekey and a KEM prekey not
    /// handed out before (else the last-resort KEM prekey). With
    /// `classical: true`, a bundle without a KEM prekey, for peers that cannot
    /// do PQXDH (they must opt in to use it).
    public func publishBundle(classical: Bool = false) throws(MessagingError) -> PreKeyBundle {
        try withAccountLock { () throws(MessagingError) -> PreKeyBundle in
            var account = try loadAccount()
            let bundle = classical ? account.publishClassicalBundle() : account.publishBundle()
            var changes = StoreChanges()
            changes.account = account
            try commit(changes)
            return bundle
        }
    }

    /// Refills one-time prekeys and rotates the signed prekey per `policy`,
    /// committing the account; returns what to upload.
    public func maintainPreKeys(policy: PreKeyPolicy = PreKeyPolicy()) throws(MessagingError) -> PreKeyUpload {
        try withAccountLock { () throws(MessagingError) -> PreKeyUpload in
            var account = try loadAccount()
            let upload = account.maintainPreKeys(now: clock(), policy: policy)
            if !upload.isEmpty {
                var changes = StoreChanges()
                changes.account = account
                try commit(changes)
            }
            return upload
        }
    }

    /// ``Account/maintainDirectory(now:policy:remaining:)`` committed: what to
    /// upload to a key directory that hands one-time keys out itself.
    /// `remaining` is the directory's count of this device's one-time keys,
    /// nil for a first upload.
    public func maintainDirectory(policy: PreKeyPolicy = PreKeyPolicy(),
                                  remaining: (oneTime: Int, kem: Int)?) throws(MessagingError) -> PreKeyUpload {
        try withAccountLock { () throws(MessagingError) -> PreKeyUpload in
            var account = try loadAccount()
            let upload = account.maintainDirectory(now: clock(), policy: policy, remaining: remaining)
            if !upload.isEmpty {
                var changes = StoreChanges()
                changes.account = account
                try commit(changes)
            }
            return upload
        }
    }
}

/// Wall-clock seconds, without Foundation.
enum ContinuousClockEpoch {
    static func secondsSince1970() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
