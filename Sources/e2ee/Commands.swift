import E2EE
import E2EEStore
import ToolSupport

/// The store-changing commands, over ``SessionManager``: each receive commits
/// the session advance and the plaintext in one transaction, each send commits
/// the advance before the ciphertext is written out. A command that fails
/// leaves the store exactly as it was.
enum Commands {
    static func initialize(store: Store) throws(CLIError) {
        let lock = try store.lock(creating: true)
        defer { lock.release() }
        let key = try store.create()
        let db = try store.open(key: key)
        do { try SessionManager.createAccount(store: db) } catch { throw .failed(describe(error)) }
    }

    static func bundle(store: Store, output: Output, classical: Bool) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        try output.prepare()
        let bundle: PreKeyBundle
        do { bundle = try manager.publishBundle(classical: classical) } catch { throw .failed(describe(error)) }
        try output.stage(bundle.serialized).commit()
    }

    static func encrypt(store: Store, peer: PeerName, bundlePath: String?,
                        input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (db, manager) = try store.openManager()
        let address = Store.address(of: peer)
        let hasSession: Bool
        do { hasSession = try db.loadSessions(for: address)?.current != nil } catch { throw .failed(describe(error)) }
        if !hasSession {
            guard let bundlePath else {
                throw .usage("no session with peer '\(peer.value)' yet: --bundle FILE is required")
            }
            guard let bytes = try IO.readFile(bundlePath) else { throw .failed("\(bundlePath): no such file") }
            do {
                try manager.startSession(with: address, bundle: try PreKeyBundle(serialized: bytes))
            } catch let e as WireError {
                throw .failed(describe(SessionSetupError.invalidBundle(e)))
            } catch {
                throw .failed(describe(error))
            }
        }
        let plaintext = try input.read()
        try output.prepare()
        let message: [UInt8]
        do { message = try manager.encrypt(plaintext, to: address) } catch { throw .failed(describe(error)) }
        try output.stage(message).commit()
    }

    /// Encrypts every file of `inputDirectory` (name order) into a file of the
    /// same name in `outputDirectory`: a queue of messages in one process.
    static func encryptAll(store: Store, peer: PeerName, inputDirectory: String,
                           outputDirectory: String) throws(CLIError) {
        try IO.makeDirectories(outputDirectory)
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let address = Store.address(of: peer)
        for file in try IO.listDirectory(inputDirectory) {
            guard let plaintext = try IO.readFile("\(inputDirectory)/\(file)") else { continue }
            let message: [UInt8]
            do { message = try manager.encrypt(plaintext, to: address) } catch { throw .failed("\(file): \(describe(error))") }
            try Output(path: "\(outputDirectory)/\(file)").stage(message).commit()
        }
    }

    static func decrypt(store: Store, peer: PeerName, input: Input, output: Output) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let message = try input.read()
        let address = Store.address(of: peer)
        // A bad --out fails here, before anything is committed. Should writing
        // still fail after the commit (disk full, stdout closed), the message
        // is not lost: it is in the inbox (`e2ee inbox`).
        try output.prepare()
        let received: Received
        do { received = try manager.receive(message, from: address) } catch {
            throw .failed(describe(error))
        }
        // Group updates and distributions were applied to the group state in the
        // same commit; only a line saying so is written, never their bytes.
        switch received {
        case .message(let plaintext):
            try output.stage(plaintext).commit()
        case .held(_, let reason):
            try output.stage(Array(heldLine(reason, from: peer).utf8)).commit()
        case .groupUpdate(let id, let change):
            var line = "group update: \(GroupID.text(id)) revision \(change.revision) from \(peer.value)"
            if change.joined { line += " (joined)" }
            if change.removedLocal { line += " (removed)" }
            try output.stage(Array((line + "\n").utf8)).commit()
        case .senderKey(let id, _):
            let line = "group distribution: \(GroupID.text(id)) from \(peer.value)\n"
            try output.stage(Array(line.utf8)).commit()
        }
    }

    /// Receives every file of `directory` in name order, as a server would
    /// redeliver a queue: messages already received are duplicates and are
    /// counted, not errors. Prints one summary line. Files are read and
    /// received `commitEvery` at a time, one transaction each
    /// (``SessionManager/receive(batch:commitEvery:)``): a kill loses at most
    /// the chunk under way, which the next run receives again. A chunk the
    /// store cannot commit ends the run with an error after the summary.
    static func receive(store: Store, peer: PeerName, directory: String, commitEvery: Int = 256) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let (_, manager) = try store.openManager()
        let sender = Store.address(of: peer)
        let files = try IO.listDirectory(directory)
        var received = 0, duplicates = 0, rejected = 0, held = 0
        var storageFailure: (file: String, error: MessagingError)?
        var start = 0
        while start < files.count {
            let names = files[start..<min(start + commitEvery, files.count)]
            start += names.count
            var batch = [SessionManager.QueuedMessage](), batchNames = [String]()
            for file in names {
                guard let message = try IO.readFile("\(directory)/\(file)") else { continue }
                batch.append((message, sender))
                batchNames.append(file)
            }
            for (file, outcome) in zip(batchNames, manager.receive(batch: batch, commitEvery: commitEvery)) {
                switch outcome {
                case .success(let r):
                    received += 1
                    if case .held(_, let reason) = r {
                        held += 1
                        IO.printError("e2ee: \(file): held by policy: \(reason)")
                    }
                case .failure(.decrypt(.duplicate)): duplicates += 1
                case .failure(.storage(let e)):
                    // Not received (with a failed commit, nothing of this chunk
                    // is): the rest is for a later run.
                    if storageFailure == nil { storageFailure = (file, .storage(e)) }
                case .failure(let error):
                    rejected += 1
                    IO.printError("e2ee: \(file): \(describe(error))")
                }
            }
            if storageFailure != nil { break }
        }
        // Held messages are received (and counted so); the count is shown only when there are some.
        IO.printOut("received \(received), duplicates \(duplicates), rejected \(rejected)" + (held > 0 ? ", held \(held)" : ""))
        if let (file, error) = storageFailure {
            throw .failed("\(file) and later: \(describe(error)) (not received; run again)")
        }
    }

    /// Prints the inbound messages as JSON lines; `--ack` deletes them afterwards.
    static func inbox(store: Store, acknowledge: Bool) throws(CLIError) {
        let lock = try store.lock()
        defer { lock.release() }
        let db = try store.open(key: store.storageKey())
        do {
            var after: UInt64 = 0
            while true {
                let batch = try db.inboundMessages(after: after, limit: 1000)
                guard let last = batch.last else { break }
                for m in batch {
                    // A message the content policy held says so (and why); others have no "held" key.
                    let held = m.heldReason.map { ", \"held\": \(JSON.quoted($0))" } ?? ""
                    IO.printOut("{\"sequence\": \(m.sequence), \"sender\": \"\(m.sender.userID)\", "
                                + "\"received_at\": \(m.receivedAt), \"plaintext_hex\": \"\(Hex.encode(m.plaintext))\"\(held)}")
                }
                after = last.sequence
            }
            if acknowledge, after > 0 { try db.acknowledgeInbound(through: after) }
        } catch {
            throw .failed(describe(error))
        }
    }
}
