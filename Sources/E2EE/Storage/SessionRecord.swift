/// Session records (PROTOCOL.md §6): the ratchet state as a versioned binary
/// record, separate from the live type so the live type can change freely.
extension Session {
    private enum Flag {
        static let recipient: UInt8 = 1 << 0
        static let awaitingReply: UInt8 = 1 << 1
        static let oneTimePreKey: UInt8 = 1 << 2
        static let sendingChain: UInt8 = 1 << 3
        static let receivingKey: UInt8 = 1 << 4
        static let receivingChain: UInt8 = 1 << 5
        /// Set up by PQXDH: the KEM prekey id and the ciphertext's digest follow the one-time prekey id.
        static let postQuantum: UInt8 = 1 << 6
        /// The initiator, awaiting a reply, keeps the KEM ciphertext it repeats.
        static let kemCiphertext: UInt8 = 1 << 7
        static let all: UInt8 = 0xff
    }

    /// The session as a record. Deterministic: equal states give equal bytes.
    public func serialized() -> [UInt8] {
        var w = RecordWriter(kind: .session, capacity: 320 + ratchet.skipped.count * 36
                                + (pq?.ciphertext == nil ? 0 : MLKEM.ciphertextByteCount))
        let s = ratchet
        var flags: UInt8 = 0
        if role == .recipient { flags |= Flag.recipient }
        if awaitingReply { flags |= Flag.awaitingReply }
        if oneTimePreKeyID != nil { flags |= Flag.oneTimePreKey }
        if s.sendingChain != nil { flags |= Flag.sendingChain }
        if s.receivingRatchetKey != nil { flags |= Flag.receivingKey }
        if s.receivingChain != nil { flags |= Flag.receivingChain }
        if pq != nil { flags |= Flag.postQuantum }
        if pq?.ciphertext != nil { flags |= Flag.kemCiphertext }
        w.u8(flags)
        w.varint(createdAt)
        w.raw(localIdentity.bytes)
        w.raw(remoteIdentity.bytes)
        w.raw(baseKey.bytes)
        w.varint(UInt64(signedPreKeyID.rawValue))
        if let id = oneTimePreKeyID { w.varint(UInt64(id.rawValue)) }
        if let pq {
            w.varint(UInt64(pq.kemPreKeyID.rawValue))
            w.raw(pq.ciphertextDigest)
            if let ct = pq.ciphertext { w.raw(ct) }
        }
        w.secret(s.rootKey.bytes)
        w.secret(s.sendingRatchetKey.secret)
        w.raw(s.sendingRatchetKey.publicKey.bytes)
        if let ck = s.sendingChain { w.secret(ck.bytes) }
        w.varint(UInt64(s.sendCounter))
        w.varint(UInt64(s.previousCounter))
        if let k = s.receivingRatchetKey { w.raw(k.bytes) }
        if let ck = s.receivingChain { w.secret(ck.bytes) }
        w.varint(UInt64(s.receiveCounter))
        // Skipped keys grouped by ratchet key, in storage order.
        var groups: [(key: X25519.PublicKey, entries: ArraySlice<SkippedKey>)] = []
        var start = 0
        for i in s.skipped.indices where i + 1 == s.skipped.count || s.skipped[i + 1].ratchetKey != s.skipped[i].ratchetKey {
            groups.append((s.skipped[i].ratchetKey, s.skipped[start...i]))
            start = i + 1
        }
        w.varint(UInt64(groups.count))
        for g in groups {
            w.raw(g.key.bytes)
            w.varint(UInt64(g.entries.count))
            for e in g.entries {
                w.varint(UInt64(e.counter))
                w.secret(e.key.bytes)
            }
        }
        w.varint(UInt64(s.previousRatchetKeys.count))
        for k in s.previousRatchetKeys { w.raw(k.bytes) }
        return w.bytes
    }

    /// Loads a record written by ``serialized()``; any malformation is an error.
    public init(serialized bytes: [UInt8]) throws(RecordError) {
        var r = try RecordReader(bytes, kind: .session)
        let flags = try r.u8()
        guard flags & ~Flag.all == 0 else { throw .malformed("session flags") }
        let role: Role = flags & Flag.recipient != 0 ? .recipient : .initiator
        // Only an initiator awaits a reply (a recipient never sends PreKeyMessages).
        guard role == .initiator || flags & Flag.awaitingReply == 0 else { throw .malformed("recipient awaiting a reply") }
        let createdAt = try r.varint(max: UInt64.max)
        let local = try r.identityPublic("local identity")
        let remote = try r.identityPublic("remote identity")
        let base = try r.x25519Public("base key")
        let spk = SignedPreKeyID(rawValue: try r.u32())
        var opk: PreKeyID?
        if flags & Flag.oneTimePreKey != 0 {
            let id = try r.u32()
            guard id != PreKeyID.none else { throw .malformed("one-time prekey id") }
            opk = PreKeyID(rawValue: id)
        }
        var pq: PQSetup?
        if flags & Flag.postQuantum != 0 {
            let id = KEMPreKeyID(rawValue: try r.u32())
            let digest = try r.bytes(PQSetup.digestByteCount)
            var ct: [UInt8]?
            if flags & Flag.kemCiphertext != 0 {
                guard role == .initiator, flags & Flag.awaitingReply != 0 else { throw .malformed("KEM ciphertext kept") }
                ct = try r.bytes(MLKEM.ciphertextByteCount)
                guard PQSetup.digest(ct!) == digest else { throw .malformed("KEM ciphertext digest") }
            } else if role == .initiator, flags & Flag.awaitingReply != 0 {
                throw .malformed("KEM ciphertext missing")
            }
            pq = PQSetup(kemPreKeyID: id, ciphertextDigest: digest, ciphertext: ct)
        } else if flags & Flag.kemCiphertext != 0 {
            throw .malformed("KEM ciphertext without PQXDH")
        }
        let root = RootKey(bytes: try r.secret(32))
        let dhsSecret = try r.secret(32)
        let dhs = X25519.PrivateKey(secret: dhsSecret, publicKey: try r.x25519Public("sending ratchet key"))
        let cks = flags & Flag.sendingChain != 0 ? ChainKey(bytes: try r.secret(32)) : nil
        var state = RatchetState(rootKey: root, sendingRatchetKey: dhs, sendingChain: cks)
        state.sendCounter = try r.u32()
        state.previousCounter = try r.u32()
        if flags & Flag.receivingKey != 0 { state.receivingRatchetKey = try r.x25519Public("receiving ratchet key") }
        if flags & Flag.receivingChain != 0 {
            guard state.receivingRatchetKey != nil else { throw .malformed("receiving chain without key") }
            state.receivingChain = ChainKey(bytes: try r.secret(32))
        }
        state.receiveCounter = try r.u32()
        let groupCount = try r.count(max: Limits.maxStoredSkippedKeys)
        for _ in 0..<groupCount {
            let key = try r.x25519Public("skipped ratchet key")
            let n = try r.count(max: Limits.maxStoredSkippedKeys - state.skipped.count)
            guard n > 0 else { throw .malformed("empty skipped group") }
            for _ in 0..<n {
                let counter = try r.u32()
                state.skipped.append(SkippedKey(ratchetKey: key, counter: counter, key: MessageKey(bytes: try r.secret(32))))
            }
        }
        let prevCount = try r.count(max: Limits.maxPreviousRatchetKeys)
        for _ in 0..<prevCount { state.previousRatchetKeys.append(try r.x25519Public("previous ratchet key")) }
        try r.expectEnd()
        self.init(role: role, localIdentity: local, remoteIdentity: remote, baseKey: base, signedPreKeyID: spk,
                  oneTimePreKeyID: opk, pq: pq, awaitingReply: flags & Flag.awaitingReply != 0, createdAt: createdAt,
                  ratchet: state)
    }
}
