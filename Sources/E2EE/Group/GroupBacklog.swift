extension GroupSession {
    /// Decrypts a backlog from one sender in one call: every signature is
    /// verified (across cores when the batch is large), the message keys of
    /// each chain come from one C chain advance, all messages are opened by one
    /// batched AEAD call, and the state is committed once. A bad message spoils
    /// no other: its result is its error, and its key stays available.
    public mutating func decryptBacklog(_ messages: [[UInt8]], from sender: ProtocolAddress,
                                        parallelism: AEADv1.Parallelism = .automatic) -> [Result<[UInt8], GroupError>] {
        var results = [Result<[UInt8], GroupError>?](repeating: nil, count: messages.count)
        var parsed = [SenderKeyMessage?](repeating: nil, count: messages.count)
        var chains = senders[sender] ?? []
        var keyOf = [Int](repeating: -1, count: messages.count)   // index of the chain each message uses
        for (i, bytes) in messages.enumerated() {
            do {
                let m = try SenderKeyMessage(serialized: bytes)
                guard m.distributionID == distributionID else { results[i] = .failure(.wrongGroup(m.distributionID)); continue }
                guard let c = chains.firstIndex(where: { $0.chainID == m.chainID }) else {
                    results[i] = .failure(.noSenderKey(sender, chainID: m.chainID))
                    continue
                }
                parsed[i] = m
                keyOf[i] = c
            } catch {
                results[i] = .failure(.malformed(error))
            }
        }

        // 1. Signatures, before anything else.
        let valid = Self.verifyAll(parsed, keyOf: keyOf, chains: chains, parallelism: parallelism)
        for i in messages.indices where parsed[i] != nil && !valid[i] {
            results[i] = .failure(.invalidSignature)
            parsed[i] = nil
        }

        // 2. Keys: per chain, one advance up to the highest acceptable iteration.
        var keys = [MessageKey?](repeating: nil, count: messages.count)
        for c in chains.indices {
            let mine = messages.indices.filter { parsed[$0] != nil && keyOf[$0] == c }
            guard !mine.isEmpty else { continue }
            let start = chains[c].iteration
            var wanted = [UInt32: [Int]]()
            for i in mine {
                let it = parsed[i]!.iteration
                if it >= start, it - start > Limits.maxSenderKeyJump || it == UInt32.max {
                    results[i] = .failure(.tooFarAhead(got: it - start, max: Limits.maxSenderKeyJump))
                } else {
                    wanted[it, default: []].append(i)
                }
            }
            var fresh = [MessageKey?]()
            if let top = wanted.keys.filter({ $0 >= start }).max() {
                guard let derived = try? chains[c].chainKey.messageKeys(count: Int(top - start) + 1) else { continue }
                fresh = derived
                chains[c].iteration = top + 1
            }
            // The first claim on an iteration takes its key; a second is a duplicate.
            for (it, claimants) in wanted {
                if it >= start {
                    keys[claimants[0]] = fresh[Int(it - start)]
                    fresh[Int(it - start)] = nil
                } else if let k = chains[c].skipped.firstIndex(where: { $0.iteration == it }) {
                    keys[claimants[0]] = chains[c].skipped.remove(at: k).key
                } else {
                    results[claimants[0]] = .failure(.duplicate(iteration: it))
                }
                for dup in claimants.dropFirst() { results[dup] = .failure(.duplicate(iteration: it)) }
            }
            // What the backlog did not use is kept for late messages (bounded).
            chains[c].storeSkipped(fresh.enumerated().compactMap { off, k in k.map { (start + UInt32(off), $0) } })
        }

        // 3. One batched open for everything that has a key.
        let open = messages.indices.filter { keys[$0] != nil && results[$0] == nil }
        let items = open.map { i -> AEADv1.BatchItem in
            let m = parsed[i]!
            return AEADv1.BatchItem(input: Array(m.sealed), key: keys[i]!,
                                    associatedData: Array(m.bytes[0..<SenderKeyMessage.headerByteCount]))
        }
        let opened = AEADv1.openBatch(items, parallelism: parallelism)
        for (n, i) in open.enumerated() {
            switch opened[n] {
            case .success(let pt):
                results[i] = .success(Array(pt))
            case .failure:
                // A forged body under a valid signature cannot happen without the
                // signing key; still, its key goes back so a good copy can use it.
                results[i] = .failure(.authenticationFailure)
                chains[keyOf[i]].restoreSkipped(parsed[i]!.iteration, keys[i]!)
            }
        }
        senders[sender] = chains.isEmpty ? senders[sender] : chains
        return results.map { $0 ?? .failure(.authenticationFailure) }
    }

    /// Ed25519 verification dominates a backlog; libsodium has no batch
    /// verification, so large backlogs are split across the active cores.
    private static func verifyAll(_ parsed: [SenderKeyMessage?], keyOf: [Int], chains: [ReceiverChain],
                                  parallelism: AEADv1.Parallelism) -> [Bool] {
        let n = parsed.count
        let workers = Workers.count(items: n, parallelism: parallelism, worthSplitting: n >= 64)
        let valid = VerifyResults(count: n)
        Workers.forEachRange(n, workers: workers) { range in
            for i in range {
                guard let m = parsed[i] else { continue }
                valid.set(i, verify(m, with: chains[keyOf[i]].signingKey))
            }
        }
        return valid.values
    }
}

/// Per-index results written by disjoint workers.
private final class VerifyResults: @unchecked Sendable {
    // Each worker writes only its own indices of raw memory (no Swift
    // exclusivity tracking); it is read after every worker has joined.
    private let storage: UnsafeMutableBufferPointer<Bool>
    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: false)
    }
    deinit { storage.deallocate() }
    func set(_ i: Int, _ v: Bool) { storage[i] = v }
    var values: [Bool] { Array(storage) }
}
