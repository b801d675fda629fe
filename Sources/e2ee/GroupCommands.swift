import E2EE
import E2EEStore
import ToolSupport

/// The `group` commands, over the sender-key API of ``SessionManager``
/// (PROTOCOL.md §5, §5b). Roster updates and distributions travel as pairwise
/// messages written to `DIR/NAME.N.msg` (N = 1, 2, … in delivery order); each
/// command makes one commit before any of them is written, and a command that
/// fails before its commit leaves the store exactly as it was.
enum GroupCommands {
    /// Creates a group with this store as its admin (and `admins` as admins
    /// too): each member gets the roster (its invitation) and our chain.
    static func create(store: Store, members: [PeerName], admins: [PeerName], outputDirectory: String) throws(CLIError) {
        try IO.makeDirectories(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let result: (id: DistributionID, messages: [(address: ProtocolAddress, message: [UInt8])])
        do {
            result = try manager.createGroup(members: addresses(members, store), admins: addresses(admins, store))
        } catch {
            throw .failed(describe(error))
        }
        try write(result.messages, to: outputDirectory)
        IO.printOut(GroupID.text(result.id))
    }

    /// Adds members (as an admin): every member gets the new roster, the new
    /// ones our chain too.
    static func add(store: Store, group id: DistributionID, members: [PeerName], admins: [PeerName],
                    outputDirectory: String) throws(CLIError) {
        try change(store, outputDirectory) { (manager) throws(MessagingError) in
            try manager.addMembers(addresses(members, store), admins: addresses(admins, store), to: id)
        }
    }

    /// Removes members (as an admin): everyone gets the new roster, our chain
    /// is replaced and goes to the remaining members, who replace theirs.
    static func remove(store: Store, group id: DistributionID, members: [PeerName],
                       outputDirectory: String) throws(CLIError) {
        try change(store, outputDirectory) { (manager) throws(MessagingError) in
            try manager.removeMembers(members.map(Store.address(of:)), from: id)
        }
    }

    /// Leaves the group: the remaining members get the roster without us.
    static func leave(store: Store, group id: DistributionID, outputDirectory: String) throws(CLIError) {
        try change(store, outputDirectory) { (manager) throws(MessagingError) in try manager.leaveGroup(id) }
    }

    /// Sends our current chain to the members that still need it (after an
    /// invitation, a join or a removal); names those without a session on stderr.
    static func distribute(store: Store, group id: DistributionID, outputDirectory: String) throws(CLIError) {
        try IO.makeDirectories(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let result: (messages: [(address: ProtocolAddress, message: [UInt8])], withoutSession: [ProtocolAddress])
        do { result = try manager.sendPendingDistributions(in: id) } catch { throw .failed(describe(error)) }
        try write(result.messages, to: outputDirectory)
        for a in result.withoutSession { IO.printError("e2ee: group distribute: no session with \(a.userID) (still pending)") }
    }

    /// The roster, revision and admins as JSON (identity keys in hex).
    static func info(store: Store, group id: DistributionID) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let info: GroupInfo
        do { info = try manager.groupInfo(id) } catch { throw .failed(describe(error)) }
        let roster: [JSON] = info.roster.map { m in
            .object(["name": .string(m.address.userID), "device": .number(Int(m.address.deviceID)),
                     "admin": .bool(m.isAdmin), "identity_key": JSON.hex(m.identityKey.rawRepresentation)])
        }
        let json = JSON.object([
            "group_id": .string(GroupID.text(info.id)),
            "revision": .number(Int(info.revision)),
            "member": .bool(info.isMember),
            "admins": .array(info.roster.filter(\.isAdmin).map { .string($0.address.userID) }),
            "roster": .array(roster),
            "pending_distribution": .array(info.pendingDistribution.map { .string($0.userID) }),
        ])
        IO.printOut(json.rendered())
    }

    static func encrypt(store: Store, group id: DistributionID, input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let plaintext = try input.read()
        try output.prepare()
        let message: [UInt8]
        do { message = try manager.groupEncrypt(plaintext, to: id) } catch { throw .failed(describe(error)) }
        try output.stage(message).commit()
    }

    static func decrypt(store: Store, group id: DistributionID, sender: PeerName,
                        input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let message = try input.read()
        try output.prepare()
        let received: Received
        do { received = try manager.groupDecrypt(message, in: id, from: Store.address(of: sender)) } catch {
            throw .failed(describe(error))
        }
        if case .held(_, let reason) = received {
            try output.stage(Array(heldLine(reason, from: sender).utf8)).commit()
        } else {
            try output.stage(received.plaintext ?? []).commit()
        }
    }

    // MARK: Helpers

    private static func change(_ store: Store, _ outputDirectory: String,
                               _ body: (SessionManager) throws(MessagingError) -> [(address: ProtocolAddress, message: [UInt8])])
        throws(CLIError) {
        try IO.makeDirectories(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let messages: [(address: ProtocolAddress, message: [UInt8])]
        do { messages = try body(manager) } catch { throw .failed(describe(error)) }
        try write(messages, to: outputDirectory)
    }

    /// The peers' addresses, without this device (the library skips it too).
    private static func addresses(_ names: [PeerName], _ store: Store) -> [ProtocolAddress] {
        names.map(Store.address(of:)).filter { $0 != store.localAddress }
    }

    /// Writes the messages to `DIR/<peer name>.<N>.msg`, N counting each
    /// peer's messages from 1 in delivery order: all are staged before any is
    /// renamed into place.
    private static func write(_ messages: [(address: ProtocolAddress, message: [UInt8])],
                              to directory: String) throws(CLIError) {
        var staged = [StagedFile](), count = [ProtocolAddress: Int]()
        for m in messages {
            count[m.address, default: 0] += 1
            do {
                staged.append(try StagedFile(m.message, at: "\(directory)/\(m.address.userID).\(count[m.address]!).msg"))
            } catch {
                for f in staged { f.discard() }
                throw error
            }
        }
        for f in staged { try f.commit() }
    }
}
