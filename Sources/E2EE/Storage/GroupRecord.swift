/// Sender-key records: one group's state as a member holds it.
extension GroupSession {
    static let maxStoredMembers = 100_000

    public func serialized() -> [UInt8] {
        var w = RecordWriter(kind: .group, capacity: 256 + senders.count * 120)
        w.raw(distributionID.rawValue)
        w.varint(UInt64(members.count))
        for m in members { w.address(m) }
        w.varint(UInt64(own.chainID))
        w.varint(UInt64(own.iteration))
        w.secret(own.chainKey.bytes)
        w.secret(own.signingKey.seed)
        let ordered = senders.keys.sorted()
        w.varint(UInt64(ordered.count))
        for a in ordered {
            w.address(a)
            let chains = senders[a]!
            w.varint(UInt64(chains.count))
            for c in chains {
                w.varint(UInt64(c.chainID))
                w.raw(c.signingKey.bytes)
                w.varint(UInt64(c.iteration))
                w.secret(c.chainKey.bytes)
                w.varint(UInt64(c.skipped.count))
                for k in c.skipped {
                    w.varint(UInt64(k.iteration))
                    w.secret(k.key.bytes)
                }
            }
        }
        return w.bytes
    }

    public init(serialized bytes: [UInt8]) throws(RecordError) {
        var r = try RecordReader(bytes, kind: .group)
        let id = DistributionID(unchecked: try r.bytes(DistributionID.byteCount))
        // Lists are stored sorted without duplicates, as the writer leaves them:
        // each record has one encoding, and a loaded group keeps its invariants.
        var members = [ProtocolAddress]()
        for _ in 0..<(try r.count(max: Self.maxStoredMembers)) {
            let m = try r.address()
            guard members.last.map({ $0 < m }) ?? true else { throw .malformed("members not sorted") }
            members.append(m)
        }
        let ownID = try r.u32()
        let ownIteration = try r.u32()
        let ownKey = SenderChainKey(bytes: try r.secret(32))
        let seed = try r.secret(32)
        let signing = IdentityKey.PrivateKey(validSeed: seed)
        var senders = [ProtocolAddress: [ReceiverChain]]()
        var previous: ProtocolAddress?
        for _ in 0..<(try r.count(max: Self.maxStoredMembers)) {
            let a = try r.address()
            guard previous.map({ $0 < a }) ?? true else { throw .malformed("senders not sorted") }
            previous = a
            var chains = [ReceiverChain]()
            for _ in 0..<(try r.count(max: Self.maxChainsPerSender)) {
                let chainID = try r.u32()
                guard !chains.contains(where: { $0.chainID == chainID }) else { throw .malformed("duplicate chain id") }
                let key = try r.identityPublic("sender signing key")
                let iteration = try r.u32()
                var chain = ReceiverChain(chainID: chainID, signingKey: key, iteration: iteration,
                                          chainKey: SenderChainKey(bytes: try r.secret(32)))
                // Skipped keys are behind the chain, oldest first.
                for _ in 0..<(try r.count(max: Limits.maxSenderKeySkipped)) {
                    let it = try r.u32()
                    guard it < iteration, chain.skipped.last.map({ $0.iteration < it }) ?? true else {
                        throw .malformed("skipped iterations out of order")
                    }
                    chain.skipped.append((it, MessageKey(bytes: try r.secret(32))))
                }
                chains.append(chain)
            }
            senders[a] = chains
        }
        try r.expectEnd()
        self.init(distributionID: id, members: members,
                  own: SendingChain(chainID: ownID, iteration: ownIteration, chainKey: ownKey, signingKey: signing),
                  senders: senders)
    }
}

extension RecordWriter {
    mutating func address(_ a: ProtocolAddress) {
        blob(Array(a.userID.utf8))
        varint(UInt64(a.deviceID))
    }
}

extension RecordReader {
    mutating func address() throws(RecordError) -> ProtocolAddress {
        // Invalid UTF-8 would be replaced on decoding and come back as other bytes.
        guard let user = String(validating: try blob(max: 1024), as: UTF8.self) else {
            throw .malformed("address is not UTF-8")
        }
        return ProtocolAddress(userID: user, deviceID: try u32())
    }
}
