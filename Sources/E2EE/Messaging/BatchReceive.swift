/// Receiving a queue in one transaction per chunk (docs/STORAGE.md, "Batched receive").
///
/// A relay queue drained at login is hundreds of messages; committing each on
/// its own costs one SQLite transaction (and, with `synchronous=FULL`, one
/// fsync) per message. ``SessionManager/receive(batch:commitEvery:)`` decrypts
/// each message exactly as ``SessionManager/receive(_:from:)`` would, but
/// keeps the changes of the current chunk in memory and commits them once:
///
/// - Every load reads the chunk's uncommitted changes before the store (the
///   `pending` overlay of ``SessionManager/receiveChanges(_:from:lockedGroups:account:pending:)``),
///   so message k + 1 sees message k's session, account, identity and group
///   state: a duplicate inside a chunk is a duplicate, a base key is accepted
///   once per account, a distribution after the invitation finds the group.
/// - A message that fails contributes nothing: its changes are built apart and
///   merged into the chunk (``StoreChanges/merge(_:)``) only on success.
/// - The chunk runs under the senders' locks (and the groups' locks, and the
///   account lock when it holds a first message), in the manager's lock order,
///   inside one ``E2EEStore/exclusively(_:storageError:)``: no other thread
///   or process commits between its loads and its commit. A group whose lock
///   was not foreseen (known only after decryption) restarts the chunk with
///   it; nothing had been committed, so the chunk is simply decrypted again.
/// - The chunk's commit is atomic: after a crash at any instant, a chunk is
///   either wholly received or not at all, and redelivering the queue gives
///   each committed message as a ``DecryptError/duplicate(index:)``.
extension SessionManager {
    /// One queued message and its sender.
    public typealias QueuedMessage = (message: [UInt8], from: ProtocolAddress)

    /// Receives `batch` in order, committing once per `commitEvery` messages
    /// (values below 1 count as 1). Returns one outcome per message, in input
    /// order, each what ``receive(_:from:)`` would have returned or thrown had
    /// the messages been received one by one: the same plaintexts in the same
    /// inbox order, the same final state. A sender-key group message (type
    /// 0x03, which ``receive(_:from:)`` refuses) is received as
    /// ``groupDecrypt(_:in:from:)`` would, so a queue may mix pairwise and
    /// group messages: a distribution and the group messages it opens can
    /// arrive in one batch.
    ///
    /// A message that fails (malformed, tampered, duplicate, untrusted…)
    /// changes nothing and does not stop the others. If a chunk cannot be
    /// committed (the store fails), nothing of it is kept: its messages and all
    /// that follow get that ``MessagingError/storage(_:)`` error, and the
    /// chunks before it stay committed; receive the rest again later.
    public func receive(batch: [QueuedMessage], commitEvery: Int = 256) -> [Result<Received, MessagingError>] {
        let size = max(1, commitEvery)
        var results = [Result<Received, MessagingError>]()
        results.reserveCapacity(batch.count)
        var start = batch.startIndex
        while start < batch.endIndex {
            let end = min(start + size, batch.endIndex)
            do throws(MessagingError) {
                results += try receiveChunk(batch[start..<end])
            } catch {
                results += repeatElement(.failure(error), count: batch.endIndex - start)
                break
            }
            start = end
        }
        return results
    }

    private enum ChunkStep: Sendable {
        case done([Result<Received, MessagingError>])
        case needsGroupLock(DistributionID)
        case needsAccountLock
    }

    /// One chunk, one commit. Throws only if the chunk could not be committed
    /// (nothing of it is then visible).
    private func receiveChunk(_ chunk: ArraySlice<QueuedMessage>) throws(MessagingError) -> [Result<Received, MessagingError>] {
        // Parsed once, outside the locks.
        let parsed = chunk.map { item -> Result<WireMessage, MessagingError> in
            do throws(MessagingError) { return .success(try Self.parse(item.message)) } catch { return .failure(error) }
        }
        let senders = Set(chunk.map(\.from))
        // A group message names its group: that lock is taken from the start.
        var groups = Set(parsed.compactMap { if case .success(.senderKey(let m)) = $0 { m.distributionID } else { nil } })
        // Only a PreKeyMessage can start a session and so change the account.
        var needsAccount = parsed.contains { if case .success(.preKey) = $0 { return true } else { return false } }
        while true {
            let locks = Array(senders) + groups.map(groupLockAddress)
            let step = try withAddressLocks(locks) { () throws(MessagingError) -> ChunkStep in
                guard needsAccount else { return try receiveLocked(chunk, parsed, groups: groups, account: .notHeld) }
                return try accountLock.withLock { () throws(MessagingError) -> ChunkStep in
                    try receiveLocked(chunk, parsed, groups: groups, account: .held)
                }
            }
            switch step {
            case .done(let results): return results
            case .needsGroupLock(let id): groups.insert(id)
            case .needsAccountLock: needsAccount = true
            }
        }
    }

    /// The chunk under its locks: each message's changes read through and merge
    /// into `pending`, committed once at the end.
    private func receiveLocked(_ chunk: ArraySlice<QueuedMessage>, _ parsed: [Result<WireMessage, MessagingError>],
                               groups: Set<DistributionID>, account: AccountAccess) throws(MessagingError) -> ChunkStep {
        var pending = StoreChanges()
        var results = [Result<Received, MessagingError>]()
        results.reserveCapacity(chunk.count)
        for (item, message) in zip(chunk, parsed) {
            let wire: WireMessage
            switch message {
            case .success(let w): wire = w
            case .failure(let e): results.append(.failure(e)); continue
            }
            if case .senderKey(let m) = wire {
                do throws(MessagingError) {
                    let (received, changes) = try groupMessageChanges(item.message, m.distributionID, item.from, pending)
                    pending.merge(changes)
                    results.append(.success(received))
                } catch {
                    results.append(.failure(error))
                }
                continue
            }
            do throws(MessagingError) {
                switch try receiveChanges(wire, from: item.from, lockedGroups: groups, account: account, pending: pending) {
                case .done(let received, let changes):
                    pending.merge(changes)
                    results.append(.success(received))
                case .needsGroupLock(let id):
                    return .needsGroupLock(id)
                case .needsAccountLock:
                    return .needsAccountLock
                }
            } catch {
                // This message's changes were never merged: it leaves no trace.
                results.append(.failure(error))
            }
        }
        if !pending.isEmpty { try commit(pending) }
        return .done(results)
    }

    /// A group message in a batch: what ``groupDecrypt(_:in:from:)`` would
    /// commit, reading the group through `pending`.
    private func groupMessageChanges(_ message: [UInt8], _ id: DistributionID, _ sender: ProtocolAddress,
                                     _ pending: StoreChanges) throws(MessagingError) -> (Received, StoreChanges) {
        guard var group = try loadGroupState(id, pending: pending) else { throw .unknownGroup(id) }
        let plaintext: [UInt8]
        do { plaintext = try group.decrypt(message, from: sender) } catch { throw .group(error) }
        var changes = StoreChanges()
        changes.groups[id] = group
        let received = deliver(plaintext, from: sender, group: id, into: &changes)
        return (received, changes)
    }
}
