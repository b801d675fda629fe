import Synchronization
import Testing
@testable import E2EE

/// A store that counts the account loads, to show which receives touch the account.
final class AccountCountingStore: E2EEStore {
    let inner = MemoryStore()
    private let loads = Atomic<Int>(0)
    var accountLoads: Int { loads.load(ordering: .relaxed) }

    func loadAccount() throws(StorageError) -> Account? {
        loads.add(1, ordering: .relaxed)
        return try inner.loadAccount()
    }
    func loadSessions(for address: ProtocolAddress) throws(StorageError) -> SessionSet? {
        try inner.loadSessions(for: address)
    }
    func deviceIDs(of userID: String) throws(StorageError) -> [UInt32] { try inner.deviceIDs(of: userID) }
    func loadIdentity(for address: ProtocolAddress) throws(StorageError) -> IdentityKey.PublicKey? {
        try inner.loadIdentity(for: address)
    }
    func loadGroup(_ id: DistributionID) throws(StorageError) -> GroupSession? { try inner.loadGroup(id) }
    func inboundMessages(after: UInt64, limit: Int) throws(StorageError) -> [InboundMessage] {
        try inner.inboundMessages(after: after, limit: limit)
    }
    func acknowledgeInbound(through: UInt64) throws(StorageError) { try inner.acknowledgeInbound(through: through) }
    func commit(_ changes: StoreChanges) throws(StorageError) { try inner.commit(changes) }
}

@Suite("Session manager: one route per direction")
struct ManagerRouteTests {
    /// Only a first message that starts a session loads (and locks) the
    /// account; a repeated first message and a reply are routed to their
    /// session without it.
    @Test func onlyANewSessionTouchesTheAccount() throws {
        let alice = try Device("alice")
        let store = AccountCountingStore()
        try SessionManager.createAccount(store: store)
        let bobAddress = ProtocolAddress(userID: "bob", deviceID: 1)
        let bob = try SessionManager(store: store, localAddress: bobAddress)
        try alice.manager.startSession(with: bobAddress, bundle: bob.publishBundle())
        let first = try alice.manager.encrypt([1], to: bobAddress)
        let second = try alice.manager.encrypt([2], to: bobAddress)   // repeats the setup: a PQPreKeyMessage
        var loads = store.accountLoads
        #expect(try bob.receive(first, from: alice.address) == .message([1]))
        #expect(store.accountLoads == loads + 1, "a new session loads the account once")
        loads = store.accountLoads
        #expect(try bob.receive(second, from: alice.address) == .message([2]))
        _ = try alice.manager.receive(bob.encrypt([3], to: alice.address), from: bobAddress)
        #expect(try bob.receive(alice.manager.encrypt([4], to: bobAddress), from: alice.address) == .message([4]))
        #expect(store.accountLoads == loads, "routed messages never load the account")
        // A replayed first message is routed to its session (a duplicate), not set up again.
        #expect(throws: MessagingError.decrypt(.duplicate(index: 0))) { try bob.receive(first, from: alice.address) }
        #expect(store.accountLoads == loads)
    }

    /// Single-device encrypt is the fan-out with one address: from equal
    /// states and equal randomness, the same bytes.
    @Test func singleDeviceEncryptIsTheFanOutWithOneAddress() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        try alice.manager.startSession(with: bob.address, bundle: bob.manager.publishBundle())
        _ = try bob.manager.receive(alice.send("hi", to: bob), from: alice.address)
        _ = try alice.manager.receive(bob.send("hi", to: alice), from: bob.address)
        // Two copies of Alice's state, each behind a manager drawing the same
        // guards and the same new ratchet key (her reply completes the DH step).
        let copies = try (0..<2).map { _ in
            let store = MemoryStore()
            var changes = StoreChanges()
            changes.account = try alice.store.loadAccount()
            changes.sessions[bob.address] = try alice.store.loadSessions(for: bob.address)
            try store.commit(changes)
            return try SessionManager(store: store, localAddress: alice.address, random: ScriptedRandom(keys: [[UInt8](repeating: 7, count: 32)], guards: [[9, 9, 9, 9]]))
        }
        let single = try copies[0].encrypt(Array("same".utf8), to: bob.address)
        let fanOut = try copies[1].encrypt(Array("same".utf8), to: [bob.address])
        #expect(fanOut.map(\.address) == [bob.address])
        #expect(fanOut.first?.message == single)
        #expect(try bob.manager.receive(single, from: alice.address) == .message(Array("same".utf8)))
    }
}
