import E2EE

/// The store-changing commands. Each one loads what it needs, computes on
/// copies, stages every write, and only then commits: a command that fails
/// leaves the store exactly as it was.
enum Commands {
    static let initialPreKeyCount = 100

    static func initialize(store: Store) throws(CLIError) {
        try store.create()
        let lock = try store.lock()
        defer { lock.release() }
        guard !store.hasAccount else { throw .failed("\(store.path) already has an account") }
        var account = Account()
        account.generateOneTimePreKeys(count: initialPreKeyCount)
        try store.stageAccount(account).commit()
    }

    static func bundle(store: Store, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        var account = try store.loadAccount()
        let before = account.serialized()
        let bundle = account.publishBundle()
        let after = account.serialized()
        let staged = try output.stage(bundle.serialized)
        var files = [StagedFile]()
        do {
            // Publishing marks the one-time prekey as handed out; with none left nothing changes.
            if after != before { files.append(try store.stageAccount(account)) }
        } catch {
            staged.discard()
            throw error
        }
        try commitAll(files, then: staged)
    }

    static func encrypt(store: Store, peer: PeerName, bundlePath: String?,
                        input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let account = try store.loadAccount()
        var set = try store.loadSessions(peer)
        if set.current == nil {
            guard let bundlePath else {
                throw .usage("no session with peer '\(peer.value)' yet: --bundle FILE is required")
            }
            guard let bundle = try IO.readFile(bundlePath) else {
                throw .failed("\(bundlePath): no such file")
            }
            do { set.promote(try Session.initiate(identity: account.identity, bundle: bundle)) } catch {
                throw .failed(describe(error))
            }
        }
        let plaintext = try input.read()
        let message: [UInt8]
        do { message = try set.encrypt(plaintext) } catch { throw .failed(describe(error)) }
        let staged = try output.stage(message)
        let record: StagedFile
        do { record = try store.stageSessions(set, for: peer) } catch {
            staged.discard()
            throw error
        }
        try commitAll([record], then: staged)
    }

    static func decrypt(store: Store, peer: PeerName, input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        var account = try store.loadAccount()
        var set = try store.loadSessions(peer)
        let message = try input.read()
        let before = account.serialized()
        // SessionSet.decrypt changes neither the set nor the account on error.
        let plaintext: [UInt8]
        do { plaintext = try set.decrypt(message, account: &account) } catch { throw .failed(describe(error)) }
        let staged = try output.stage(plaintext)
        var files = [StagedFile]()
        do {
            // Sessions first: after a crash between the two renames, a replay of the
            // first message finds its session instead of a missing one-time prekey.
            files.append(try store.stageSessions(set, for: peer))
            let after = account.serialized()
            if after != before { files.append(try StagedFile(after, at: store.accountPath)) }
        } catch {
            for f in files { f.discard() }
            staged.discard()
            throw error
        }
        try commitAll(files, then: staged)
    }
}
