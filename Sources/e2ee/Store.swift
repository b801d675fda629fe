#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import E2EE
import E2EEStore

/// A store directory: `store.sqlite` (every record sealed with the storage
/// key) and either `storage.key` (a random key, mode 0600) or `storage.salt`
/// (the key is derived from a passphrase with Argon2id). Commands hold an
/// exclusive lock on the directory while they run.
struct Store {
    let path: String
    let passphraseFile: String?
    /// `--sync full`: fsync every commit (durable across power loss, slower).
    var synchronous: SQLiteStore.Synchronous = .normal
    /// `--allow-classical`: accept classical X3DH setup both ways (PROTOCOL.md §2b).
    var allowClassical = false
    /// `--policy CMD`: the content policy command (``CommandPolicy``), if any.
    var policyCommand: String?

    /// This device, as the library and its peers address it: the store
    /// directory's name (device 1) when that is a valid peer name, else `self`.
    /// Group rosters carry it, so stores that form a group are named as their
    /// peers name them.
    var localAddress: ProtocolAddress {
        var path = self.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let name = splitPath(path).name
        return ProtocolAddress(userID: (try? PeerName(name))?.value ?? "self", deviceID: 1)
    }

    var databasePath: String { "\(path)/store.sqlite" }
    var keyPath: String { "\(path)/storage.key" }
    var saltPath: String { "\(path)/storage.salt" }

    static func address(of peer: PeerName) -> ProtocolAddress { ProtocolAddress(userID: peer.value, deviceID: 1) }

    /// Creates the key (or salt) of a new store in its (locked) directory.
    func create() throws(CLIError) -> StorageKey {
        guard access(keyPath, F_OK) != 0, access(saltPath, F_OK) != 0 else {
            throw .failed("\(path) already has a store")
        }
        let key: StorageKey
        if let passphraseFile {
            let salt = SecureRandom.bytes(StorageKey.saltByteCount)
            key = try derive(passphraseFile, salt: salt)
            try StagedFile(salt, at: saltPath).commit()
        } else {
            key = StorageKey()
            var raw = key.withUnsafeBytes { Array($0) }
            defer { SecureBytes.wipe(&raw) }
            try StagedFile(raw, at: keyPath).commit()
        }
        try syncDirectory(splitPath(path).directory)
        return key
    }

    /// The storage key of an existing store.
    func storageKey() throws(CLIError) -> StorageKey {
        if let salt = try IO.readFile(saltPath) {
            guard let passphraseFile else {
                throw .usage("\(path) is protected by a passphrase: --passphrase-file FILE is required")
            }
            return try derive(passphraseFile, salt: salt)
        }
        guard let raw = try IO.readSecretFile(keyPath) else {
            throw .failed("no store at \(path) (run 'e2ee init --store \(path)')")
        }
        do { return try raw.withUnsafeBytes { try StorageKey(rawRepresentation: $0) } } catch {
            throw .failed("\(keyPath): \(describe(error))")
        }
    }

    private func derive(_ file: String, salt: [UInt8]) throws(CLIError) -> StorageKey {
        guard let contents = try IO.readSecretFile(file) else { throw .failed("\(file): no such file") }
        // One trailing newline is the file's, not the passphrase's.
        let passphrase = contents.withUnsafeBytes { raw in
            var n = raw.count
            if n > 0, raw[n - 1] == 0x0A { n -= 1 }
            if n > 0, raw[n - 1] == 0x0D { n -= 1 }
            return SecureBytes(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
        guard passphrase.count > 0 else { throw .failed("\(file): empty passphrase") }
        do { return try StorageKey(passphrase: passphrase, salt: salt) } catch { throw .failed(describe(error)) }
    }

    func open(key: StorageKey) throws(CLIError) -> SQLiteStore {
        do { return try SQLiteStore(path: databasePath, key: key, synchronous: synchronous) } catch {
            throw .failed(describe(error))
        }
    }

    /// The store and a session manager over it.
    func openManager() throws(CLIError) -> (SQLiteStore, SessionManager) {
        let store = try open(key: storageKey())
        do {
            return (store, try SessionManager(store: store, localAddress: localAddress, allowClassical: allowClassical,
                                              contentPolicy: policyCommand.map { CommandPolicy(command: $0) }))
        } catch {
            if case .noAccount = error { throw .failed("no account in \(path) (run 'e2ee init --store \(path)')") }
            throw .failed(describe(error))
        }
    }

    /// Takes an exclusive `flock` on the store directory until the returned lock
    /// is released; with `creating`, makes the directory and its missing parents
    /// (mode 0700) first.
    func lock(creating: Bool = false) throws(CLIError) -> StoreLock {
        if creating { try IO.makeDirectories(path) }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .failed("no store at \(path) (run 'e2ee init --store \(path)')") }
            throw .failed("\(path): \(IO.errorText())")
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = IO.errorText()
            close(fd)
            throw .failed("\(path): lock: \(reason)")
        }
        return StoreLock(fd: fd)
    }
}

/// An exclusive lock on a store; ``release()`` unlocks it (so does process exit).
struct StoreLock {
    let fd: Int32
    func release() { close(fd) }
}

enum SecureRandom {
    static func bytes(_ n: Int) -> [UInt8] {
        SecureBytes(randomCount: n).withUnsafeBytes { Array($0) }
    }
}
