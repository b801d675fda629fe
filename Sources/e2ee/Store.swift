#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import E2EE

/// A store directory: `account.e2es` (the account record) and
/// `peers/NAME.e2es` (one session-set record per peer). Every write is an
/// atomic replace; mutating commands hold an exclusive lock on the directory.
struct Store {
    let path: String

    var accountPath: String { "\(path)/account.e2es" }
    var peersPath: String { "\(path)/peers" }
    func peerPath(_ peer: PeerName) -> String { "\(peersPath)/\(peer.value).e2es" }

    /// Creates the store and its `peers` directory (mode 0700) if missing.
    func create() throws(CLIError) {
        try makeDirectory(path)
        try makeDirectory(peersPath)
        try syncDirectory(path)
        try syncDirectory(splitPath(path).directory)
    }

    var hasAccount: Bool { access(accountPath, F_OK) == 0 }

    /// Takes an exclusive `flock` on the store directory until the returned lock is released.
    func lock() throws(CLIError) -> StoreLock {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
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

    func loadAccount() throws(CLIError) -> Account {
        guard let bytes = try IO.readFile(accountPath) else {
            throw .failed("no account in \(path) (run 'e2ee init --store \(path)')")
        }
        do { return try Account(serialized: bytes) } catch {
            throw .failed("corrupt store record \(accountPath): \(describe(error))")
        }
    }

    /// The sessions with `peer`, or an empty set for a peer never seen.
    func loadSessions(_ peer: PeerName) throws(CLIError) -> SessionSet {
        let file = peerPath(peer)
        guard let bytes = try IO.readFile(file) else { return SessionSet() }
        do { return try SessionSet(serialized: bytes) } catch {
            throw .failed("corrupt store record \(file): \(describe(error))")
        }
    }

    /// Stages a peer's record; the `peers` directory is recreated if someone removed it.
    func stageSessions(_ set: SessionSet, for peer: PeerName) throws(CLIError) -> StagedFile {
        try makeDirectory(peersPath)
        return try StagedFile(set.serialized(), at: peerPath(peer))
    }

    func stageAccount(_ account: Account) throws(CLIError) -> StagedFile {
        try StagedFile(account.serialized(), at: accountPath)
    }

    private func makeDirectory(_ dir: String) throws(CLIError) {
        if mkdir(dir, 0o700) == 0 { return }
        guard errno == EEXIST else { throw .failed("\(dir): \(IO.errorText())") }
        var st = stat()
        guard stat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { throw .failed("\(dir): not a directory") }
    }
}

/// An exclusive lock on a store; ``release()`` unlocks it (so does process exit).
struct StoreLock {
    let fd: Int32
    func release() { close(fd) }
}

/// Commits staged files in order; if one fails, the rest are discarded.
/// Staging everything first means a full disk or a bad output path fails the
/// command before any record is replaced.
func commitAll(_ files: [StagedFile], then output: StagedOutput) throws(CLIError) {
    for (i, f) in files.enumerated() {
        do { try f.commit() } catch {
            for rest in files[(i + 1)...] { rest.discard() }
            output.discard()
            throw error
        }
    }
    try output.commit()
}
