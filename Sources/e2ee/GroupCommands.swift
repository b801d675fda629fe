#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import E2EE
import E2EEStore

/// The `group` commands, over the sender-key API of ``SessionManager``.
/// Distributions travel as pairwise messages written to `DIR/NAME.msg`; each
/// command makes one commit before any of them is written, and a command that
/// fails before its commit leaves the store exactly as it was.
enum GroupCommands {
    static func create(store: Store, members: [PeerName], outputDirectory: String) throws(CLIError) {
        try requireDirectory(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let result: (id: DistributionID, messages: [(address: ProtocolAddress, message: [UInt8])])
        do { result = try manager.createGroup(members: addresses(members)) } catch { throw .failed(describe(error)) }
        try write(result.messages, to: outputDirectory)
        IO.printOut(GroupID.text(result.id))
    }

    /// Sends our distribution to every member named, adding those not yet in
    /// the group (a named member already in it gets our chain again: that is
    /// how a device that joined through someone's distribution answers).
    static func add(store: Store, group id: DistributionID, members: [PeerName],
                    outputDirectory: String) throws(CLIError) {
        try requireDirectory(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let messages: [(address: ProtocolAddress, message: [UInt8])]
        do { messages = try manager.addMembers(addresses(members), to: id) } catch { throw .failed(describe(error)) }
        try write(messages, to: outputDirectory)
    }

    /// Removes a member: our chain is replaced and the new distribution goes
    /// to every remaining member.
    static func remove(store: Store, group id: DistributionID, member: PeerName,
                       outputDirectory: String) throws(CLIError) {
        try requireDirectory(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let messages: [(address: ProtocolAddress, message: [UInt8])]
        do { messages = try manager.removeMember(Store.address(of: member), from: id) } catch {
            throw .failed(describe(error))
        }
        try write(messages, to: outputDirectory)
    }

    static func encrypt(store: Store, group id: DistributionID, input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let plaintext = try input.read()
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
        let plaintext: [UInt8]
        do { plaintext = try manager.groupDecrypt(message, in: id, from: Store.address(of: sender)) } catch {
            throw .failed(describe(error))
        }
        try output.stage(plaintext).commit()
    }

    // MARK: Helpers

    /// The peers' addresses, without this device (the library skips it too).
    private static func addresses(_ names: [PeerName]) -> [ProtocolAddress] {
        names.map(Store.address(of:)).filter { $0 != Store.localAddress }
    }

    /// Fails (before anything is committed) unless `path` is a directory.
    private static func requireDirectory(_ path: String) throws(CLIError) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .failed("\(path): \(IO.errorText())") }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .failed("\(path): \(IO.errorText(ENOTDIR))") }
    }

    /// Writes each message to `DIR/<peer name>.msg`: all are staged before any is renamed into place.
    private static func write(_ messages: [(address: ProtocolAddress, message: [UInt8])],
                              to directory: String) throws(CLIError) {
        var staged = [StagedFile]()
        for m in messages {
            do { staged.append(try StagedFile(m.message, at: "\(directory)/\(m.address.userID).msg")) } catch {
                for f in staged { f.discard() }
                throw error
            }
        }
        for f in staged { try f.commit() }
    }
}
