/// Sender-key records: one group's state as a member holds it.
extension GroupSession {
    /// The group state as a versioned record (PROTOCOL.md §6). It holds chain and signing keys: seal it and wipe it.
    public func serialized() -> [UInt8] {
        var w = RecordWriter(kind: .group, capacity: 256 + senders.count * 120)
        w.raw(distributionID.rawValue)
        w.address(localAddress)
        w.raw(localIdentity.bytes)
        w.varint(UInt64(revision))
        w.varint(UInt64(roster.count))
        for m in roster {
            w.u8(m.isAdmin ? 1 : 0)
            w.address(m.address)
            w.raw(m.identityKey.bytes)
        }
        w.varint(UInt64(pendingDistribution.count))
        for a in pendingDistribution { w.address(a) }
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

    /// Loads a group state from a record written by ``serialized()``.
    public init(serialized bytes: [UInt8]) throws(RecordError) {
        var r = try RecordReader(bytes, kind: .group)
        let id = DistributionID(unchecked: try r.bytes(DistributionID.byteCount))
        // Lists are stored sorted without duplicates, as the writer leaves them:
        // each record has one encoding, and a loaded group keeps its invariants.
        let local = try r.address()
        let localIdentity = try r.identityPublic("local identity")
        let revision = try r.u32()
        var roster = [GroupMember]()
        for _ in 0..<(try r.count(max: Limits.Record.groupMembers)) {
            let flags = try r.u8()
            guard flags <= 1 else { throw .malformed("member flags") }
            let m = GroupMember(address: try r.address(), identityKey: try r.identityPublic("member identity"),
                                isAdmin: flags == 1)
            guard roster.last.map({ $0.rosterAddress.lexicographicallyPrecedes(m.rosterAddress) }) ?? true else {
                throw .malformed("roster not sorted")
            }
            // Only what a GroupUpdate can carry (§5b: one length byte, one form per address).
            guard m.rosterAddress.count <= Int(UInt8.max), ProtocolAddress(rosterBytes: m.rosterAddress) == m.address else {
                throw .malformed("roster address")
            }
            roster.append(m)
        }
        if let me = roster.first(where: { $0.address == local }), me.identityKey != localIdentity {
            throw .malformed("local identity")
        }
        let members = Set(roster.lazy.map(\.address).filter { $0 != local })
        var pending = [ProtocolAddress]()
        for _ in 0..<(try r.count(max: Limits.Record.groupMembers)) {
            let a = try r.address()
            guard pending.last.map({ $0 < a }) ?? true, members.contains(a) else { throw .malformed("pending distribution") }
            pending.append(a)
        }
        let ownID = try r.u32()
        let ownIteration = try r.u32()
        let ownKey = SenderChainKey(bytes: try r.secret(32))
        let seed = try r.secret(32)
        let signing = IdentityKey.PrivateKey(validSeed: seed)
        var senders = [ProtocolAddress: [ReceiverChain]]()
        var previous: ProtocolAddress?
        for _ in 0..<(try r.count(max: Limits.Record.groupMembers)) {
            let a = try r.address()
            guard previous.map({ $0 < a }) ?? true, members.contains(a) else { throw .malformed("senders not sorted members") }
            previous = a
            var chains = [ReceiverChain]()
            for _ in 0..<(try r.count(max: Limits.maxChainsPerSender)) {
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
        // A tombstone (this device left or was removed) holds nothing to read or send with.
        guard roster.contains(where: { $0.address == local }) || (senders.isEmpty && pending.isEmpty) else {
            throw .malformed("tombstone with chains")
        }
        self.init(distributionID: id, localAddress: local, localIdentity: localIdentity, revision: revision,
                  roster: roster, pending: pending,
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
        guard let user = String(validating: try blob(max: Limits.Record.userIDBytes), as: UTF8.self) else {
            throw .malformed("address is not UTF-8")
        }
        return ProtocolAddress(userID: user, deviceID: try u32())
    }
}
