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
        var members = [ProtocolAddress]()
        for _ in 0..<(try r.count(max: Self.maxStoredMembers)) { members.append(try r.address()) }
        let ownID = try r.u32()
        let ownIteration = try r.u32()
        let ownKey = SenderChainKey(bytes: try r.secret(32))
        let seed = try r.secret(32)
        let signing: IdentityKey.PrivateKey
        do { signing = try IdentityKey.PrivateKey(seed: seed.unsafeArrayCopy) } catch { throw .malformed("signing seed") }
        var senders = [ProtocolAddress: [ReceiverChain]]()
        for _ in 0..<(try r.count(max: Self.maxStoredMembers)) {
            let a = try r.address()
            var chains = [ReceiverChain]()
            for _ in 0..<(try r.count(max: Self.maxChainsPerSender)) {
                let chainID = try r.u32()
                let key = try r.identityPublic("sender signing key")
                let iteration = try r.u32()
                var chain = ReceiverChain(chainID: chainID, signingKey: key, iteration: iteration,
                                          chainKey: SenderChainKey(bytes: try r.secret(32)))
                for _ in 0..<(try r.count(max: Limits.maxSenderKeySkipped)) {
                    let it = try r.u32()
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
        let user = try blob(max: 1024)
        return ProtocolAddress(userID: String(decoding: user, as: UTF8.self), deviceID: try u32())
    }
}
