/// Account records: identity seed, signed prekeys, the one-time prekey pool
/// and the KEM prekeys (seeds only).
extension Account {
    /// Introduces the KEM prekey section. Records written before PQXDH end
    /// after the consumed ids, or with the base key section, whose first byte
    /// (a group count of 1...64) is never this tag: they still load, as an
    /// account with no KEM prekeys (the next bundle or maintenance makes one).
    static let kemSectionTag: UInt8 = 0xA0

    /// The account as a versioned record (PROTOCOL.md §6). It holds private keys: seal it (``StorageKey/seal(_:authenticating:)``) and wipe it (``SecureBytes/wipe(_:)``).
    public func serialized() -> [UInt8] {
        let kemCount = lastResortKEMPreKeys.count + oneTimeKEMPreKeys.count
        var w = RecordWriter(kind: .account, capacity: 160 + 168 * signedPreKeys.count + 70 * oneTimePreKeys.count
                                + 112 * kemCount)
        w.secret(identity.seed)
        w.varint(UInt64(nextPreKeyID))
        w.varint(UInt64(nextSignedPreKeyID))
        w.varint(UInt64(publishedCount))
        w.varint(UInt64(signedPreKeys.count))
        for k in signedPreKeys {
            w.varint(UInt64(k.id.rawValue))
            w.varint(k.createdAt)
            w.secret(k.privateKey.secret)
            w.raw(k.publicKey.bytes)
            w.raw(k.signature)
        }
        w.varint(UInt64(oneTimePreKeys.count))
        for k in oneTimePreKeys {
            w.varint(UInt64(k.id.rawValue))
            w.secret(k.privateKey.secret)
            w.raw(k.publicKey.bytes)
        }
        w.varint(UInt64(consumedOneTimePreKeyIDs.count))
        for id in consumedOneTimePreKeyIDs { w.varint(UInt64(id.rawValue)) }
        w.u8(Self.kemSectionTag)
        w.varint(UInt64(nextKEMPreKeyID))
        w.varint(UInt64(publishedKEMCount))
        // Last-resort keys, then one-time keys: a count, then `id, created at, seed, binding` each.
        for keys in [lastResortKEMPreKeys, oneTimeKEMPreKeys] {
            w.varint(UInt64(keys.count))
            for k in keys {
                w.varint(UInt64(k.id.rawValue))
                w.varint(k.createdAt)
                w.secret(k.seed)
                w.raw(k.binding)
            }
        }
        w.varint(UInt64(consumedKEMPreKeyIDs.count))
        for id in consumedKEMPreKeyIDs { w.varint(UInt64(id.rawValue)) }
        // Accepted base keys (PROTOCOL.md §2), a section present only when not
        // empty so that records written before it still load and every record
        // keeps one encoding: by signed prekey id, then key bytes, ascending.
        if !acceptedBaseKeys.isEmpty {
            w.varint(UInt64(acceptedBaseKeys.count))
            for id in acceptedBaseKeys.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                let keys = acceptedBaseKeys[id]!.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) }
                w.varint(UInt64(id.rawValue))
                w.varint(UInt64(keys.count))
                for k in keys { w.raw(k) }
            }
        }
        return w.bytes
    }

    /// Loads an account from a record written by ``serialized()`` (any record version still read).
    public init(serialized bytes: [UInt8]) throws(RecordError) {
        var r = try RecordReader(bytes, kind: .account)
        let identity = IdentityKey.PrivateKey(validSeed: try r.secret(IdentityKey.seedByteCount))
        let nextPreKeyID = try r.u32()
        let nextSignedPreKeyID = try r.u32()
        let published = try r.count(max: Limits.Record.oneTimePreKeys)
        let spkCount = try r.count(max: Limits.Record.signedPreKeys)
        guard spkCount > 0 else { throw .malformed("no signed prekey") }
        var spks = [SignedPreKey]()
        for _ in 0..<spkCount {
            let id = SignedPreKeyID(rawValue: try r.u32())
            let created = try r.varint(max: UInt64.max)
            let sk = try r.secret(32)
            let pk = try r.x25519Public("signed prekey")
            let sig = try r.bytes(64)
            spks.append(SignedPreKey(id: id, privateKey: X25519.PrivateKey(secret: sk, publicKey: pk), signature: sig,
                                     createdAt: created))
        }
        let otkCount = try r.count(max: Limits.Record.oneTimePreKeys)
        guard published <= otkCount else { throw .malformed("published count") }
        var otks = [OneTimePreKey]()
        var otkIDs = Set<UInt32>()   // an id held twice would make one message consume two keys
        otks.reserveCapacity(Swift.min(otkCount, r.remainingHint / 64))
        for _ in 0..<otkCount {
            let id = try r.u32()
            guard id != PreKeyID.none, otkIDs.insert(id).inserted else { throw .malformed("one-time prekey id") }
            let sk = try r.secret(32)
            let pk = try r.x25519Public("one-time prekey")
            otks.append(OneTimePreKey(id: PreKeyID(rawValue: id), privateKey: X25519.PrivateKey(secret: sk, publicKey: pk)))
        }
        let consumedCount = try r.count(max: Limits.Record.oneTimePreKeys)
        var consumed = [PreKeyID]()
        for _ in 0..<consumedCount { consumed.append(PreKeyID(rawValue: try r.u32())) }
        var lastResort = [KEMPreKey]()
        var oneTimeKEM = [KEMPreKey]()
        var publishedKEM = 0
        var nextKEMID: UInt32 = 1
        var consumedKEM = [KEMPreKeyID]()
        if r.remainingHint > 0, r.peekU8() == Self.kemSectionTag {
            _ = try r.u8()
            nextKEMID = try r.u32()
            publishedKEM = try r.count(max: Limits.Record.oneTimePreKeys)
            var seen = Set<UInt32>()
            func key(lastResort: Bool) throws(RecordError) -> KEMPreKey {
                let id = try r.u32()
                guard seen.insert(id).inserted else { throw .malformed("duplicate KEM prekey id") }
                let created = try r.varint(max: UInt64.max)
                return KEMPreKey(id: KEMPreKeyID(rawValue: id), seed: try r.secret(MLKEM.seedByteCount),
                                 binding: try r.bytes(32), isLastResort: lastResort, createdAt: created)
            }
            let lastResortCount = try r.count(max: Limits.Record.signedPreKeys)
            for _ in 0..<lastResortCount { lastResort.append(try key(lastResort: true)) }
            let oneTimeCount = try r.count(max: Limits.Record.oneTimePreKeys)
            guard publishedKEM <= oneTimeCount else { throw .malformed("published KEM count") }
            oneTimeKEM.reserveCapacity(Swift.min(oneTimeCount, r.remainingHint / 98))
            for _ in 0..<oneTimeCount { oneTimeKEM.append(try key(lastResort: false)) }
            let consumedCount = try r.count(max: Limits.Record.oneTimePreKeys)
            for _ in 0..<consumedCount { consumedKEM.append(KEMPreKeyID(rawValue: try r.u32())) }
        }
        var accepted = [SignedPreKeyID: Set<X25519.PublicKey>]()
        if r.remainingHint > 0 {
            let groups = try r.count(max: Limits.Record.signedPreKeys)
            guard groups > 0 else { throw .malformed("empty base key section") }
            var previousID: UInt32?
            for _ in 0..<groups {
                let id = try r.u32()
                guard previousID.map({ $0 < id }) ?? true, spks.contains(where: { $0.id.rawValue == id }) else {
                    throw .malformed("base keys of an unknown or unsorted signed prekey")
                }
                previousID = id
                let n = try r.count(max: Limits.Record.acceptedBaseKeys)
                guard n > 0 else { throw .malformed("empty base key list") }
                var keys = Set<X25519.PublicKey>(minimumCapacity: Swift.min(n, r.remainingHint / 32))
                var previous: [UInt8]?
                for _ in 0..<n {
                    let k = try r.x25519Public("base key")
                    guard previous.map({ $0.lexicographicallyPrecedes(k.bytes) }) ?? true else {
                        throw .malformed("base keys not sorted")
                    }
                    previous = k.bytes
                    keys.insert(k)
                }
                accepted[SignedPreKeyID(rawValue: id)] = keys
            }
        }
        try r.expectEnd()
        self.init(identity: identity, signedPreKeys: spks, oneTimePreKeys: otks, publishedCount: published,
                  nextPreKeyID: nextPreKeyID, nextSignedPreKeyID: nextSignedPreKeyID, consumed: consumed,
                  acceptedBaseKeys: accepted, lastResortKEMPreKeys: lastResort, oneTimeKEMPreKeys: oneTimeKEM,
                  publishedKEMCount: publishedKEM, nextKEMPreKeyID: nextKEMID, consumedKEMPreKeyIDs: consumedKEM)
    }
}
