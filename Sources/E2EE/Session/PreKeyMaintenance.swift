/// When to refill one-time prekeys and rotate the signed prekey.
public struct PreKeyPolicy: Sendable, Equatable {
    /// Refill when fewer unpublished one-time prekeys than this remain.
    public var minimumOneTimePreKeys: Int
    /// Refill up to this many unpublished one-time prekeys.
    public var targetOneTimePreKeys: Int
    /// Make a new signed prekey when the current one is this old (seconds).
    public var signedPreKeyLifetime: UInt64
    /// Keep a replaced signed prekey (and the last-resort KEM prekey made with
    /// it) this long (seconds) for messages in flight.
    public var signedPreKeyGracePeriod: UInt64
    /// Refill when fewer unpublished one-time KEM prekeys than this remain.
    public var minimumOneTimeKEMPreKeys: Int
    /// Refill up to this many unpublished one-time KEM prekeys.
    public var targetOneTimeKEMPreKeys: Int

    /// A policy. The defaults refill each kind of one-time prekey to 100 when fewer than 20 remain,
    /// and rotate the signed prekey weekly, keeping a replaced one for 30 days.
    public init(minimumOneTimePreKeys: Int = 20, targetOneTimePreKeys: Int = 100,
                signedPreKeyLifetime: UInt64 = 7 * 24 * 3600, signedPreKeyGracePeriod: UInt64 = 30 * 24 * 3600,
                minimumOneTimeKEMPreKeys: Int = 20, targetOneTimeKEMPreKeys: Int = 100) {
        self.minimumOneTimePreKeys = minimumOneTimePreKeys
        self.targetOneTimePreKeys = targetOneTimePreKeys
        self.minimumOneTimeKEMPreKeys = minimumOneTimeKEMPreKeys
        self.targetOneTimeKEMPreKeys = targetOneTimeKEMPreKeys
        self.signedPreKeyLifetime = signedPreKeyLifetime
        self.signedPreKeyGracePeriod = signedPreKeyGracePeriod
    }
}

/// What the server must be told after maintenance.
public struct PreKeyUpload: Sendable, Equatable {
    /// New one-time prekeys to upload.
    public let newOneTimePreKeys: [PreKeyBundle.OneTime]
    /// A new signed prekey to upload (id, public key, signature), if one was made.
    public let newSignedPreKey: (id: SignedPreKeyID, publicKey: X25519.PublicKey, signature: [UInt8])?
    /// Signed prekeys deleted after their grace period.
    public let removedSignedPreKeyIDs: [SignedPreKeyID]
    /// One-time prekeys consumed by sessions since the previous maintenance.
    public let consumedOneTimePreKeyIDs: [PreKeyID]
    /// New one-time KEM prekeys to upload, signed.
    public let newKEMPreKeys: [PreKeyBundle.KEM]
    /// A new last-resort KEM prekey (made with a new signed prekey), signed.
    public let newLastResortKEMPreKey: PreKeyBundle.KEM?
    /// Last-resort KEM prekeys deleted with their signed prekey.
    public let removedKEMPreKeyIDs: [KEMPreKeyID]
    /// One-time KEM prekeys consumed by sessions since the previous maintenance.
    public let consumedKEMPreKeyIDs: [KEMPreKeyID]

    /// Whether there is nothing to upload or delete.
    public var isEmpty: Bool {
        newOneTimePreKeys.isEmpty && newSignedPreKey == nil && removedSignedPreKeyIDs.isEmpty
            && consumedOneTimePreKeyIDs.isEmpty && newKEMPreKeys.isEmpty && newLastResortKEMPreKey == nil
            && removedKEMPreKeyIDs.isEmpty && consumedKEMPreKeyIDs.isEmpty
    }

    /// Whether two uploads carry the same keys, ids and signatures.
    public static func == (a: Self, b: Self) -> Bool {
        a.newOneTimePreKeys == b.newOneTimePreKeys && a.removedSignedPreKeyIDs == b.removedSignedPreKeyIDs
            && a.consumedOneTimePreKeyIDs == b.consumedOneTimePreKeyIDs
            && a.newKEMPreKeys == b.newKEMPreKeys && a.newLastResortKEMPreKey == b.newLastResortKEMPreKey
            && a.removedKEMPreKeyIDs == b.removedKEMPreKeyIDs && a.consumedKEMPreKeyIDs == b.consumedKEMPreKeyIDs
            && a.newSignedPreKey?.id == b.newSignedPreKey?.id
            && a.newSignedPreKey?.publicKey == b.newSignedPreKey?.publicKey
            && a.newSignedPreKey?.signature == b.newSignedPreKey?.signature
    }
}

extension Account {
    /// Refills the one-time prekey pools (X25519 and KEM), rotates the signed
    /// prekey and with it the last-resort KEM prekey on schedule, drops both
    /// past their grace period, and reports all of it. New KEM prekeys are
    /// expanded and signed for the upload (one ML-KEM key generation each).
    /// Ids are never reused. Call it periodically and after receiving sessions.
    public mutating func maintainPreKeys(now: UInt64, policy: PreKeyPolicy = PreKeyPolicy()) -> PreKeyUpload {
        var fresh = [PreKeyBundle.OneTime]()
        if unpublishedOneTimePreKeyCount < policy.minimumOneTimePreKeys {
            let made = generateOneTimePreKeys(count: policy.targetOneTimePreKeys - unpublishedOneTimePreKeyCount)
            fresh = made.map { .init(id: $0.id, publicKey: $0.publicKey) }
        }
        let rotation = rotateSignedPreKeys(now: now, policy: policy)
        var freshKEM = [PreKeyBundle.KEM]()
        if unpublishedKEMPreKeyCount < policy.minimumOneTimeKEMPreKeys {
            let made = generateOneTimeKEMPreKeys(count: policy.targetOneTimeKEMPreKeys - unpublishedKEMPreKeyCount,
                                                 createdAt: now)
            freshKEM = made.map { $0.signed(by: identity) }
        }
        return upload(oneTime: fresh, kem: freshKEM, rotation: rotation)
    }

    /// Maintenance for a key directory that hands one-time keys out itself
    /// (a relay), rather than one bundle at a time through ``publishBundle()``.
    ///
    /// `remaining` is what the directory reports it still holds of this
    /// device's one-time prekeys and one-time KEM prekeys; a pool below the
    /// policy's minimum is refilled to its target. Every one-time key not
    /// handed out yet goes into the upload and is marked handed out, so the
    /// next call never sends it again. With `remaining == nil` (a first
    /// upload, or a new directory) the pools are filled to their targets and
    /// the current signed prekey and last-resort KEM prekey are included even
    /// if they are not new. Rotation follows ``maintainPreKeys(now:policy:)``.
    public mutating func maintainDirectory(now: UInt64, policy: PreKeyPolicy = PreKeyPolicy(),
                                           remaining: (oneTime: Int, kem: Int)?) -> PreKeyUpload {
        let rotation = rotateSignedPreKeys(now: now, policy: policy)
        let wantOneTime = Self.refill(remaining?.oneTime, minimum: policy.minimumOneTimePreKeys,
                                      target: policy.targetOneTimePreKeys)
        generateOneTimePreKeys(count: wantOneTime - unpublishedOneTimePreKeyCount)
        let oneTime = oneTimePreKeys[publishedCount...].map { PreKeyBundle.OneTime(id: $0.id, publicKey: $0.publicKey) }
        publishedCount = oneTimePreKeys.count

        let wantKEM = Self.refill(remaining?.kem, minimum: policy.minimumOneTimeKEMPreKeys,
                                  target: policy.targetOneTimeKEMPreKeys)
        generateOneTimeKEMPreKeys(count: wantKEM - unpublishedKEMPreKeyCount, createdAt: now)
        // One ML-KEM key generation per key: only the ones going out are expanded.
        let kem = oneTimeKEMPreKeys[publishedKEMCount...].map { $0.signed(by: identity) }
        publishedKEMCount = oneTimeKEMPreKeys.count

        var upload = upload(oneTime: oneTime, kem: kem, rotation: rotation)
        if remaining == nil {
            let spk = currentSignedPreKey
            upload = upload.including(
                signedPreKey: upload.newSignedPreKey ?? (spk.id, spk.publicKey, spk.signature),
                lastResort: upload.newLastResortKEMPreKey ?? currentLastResortKEMPreKey?.signed(by: identity))
        }
        return upload
    }

    /// How many one-time keys to have unhanded-out after a directory refill.
    private static func refill(_ remaining: Int?, minimum: Int, target: Int) -> Int {
        guard let remaining else { return target }
        return remaining < minimum ? max(0, target - remaining) : 0
    }

    private struct Rotation {
        var signedPreKey: (id: SignedPreKeyID, publicKey: X25519.PublicKey, signature: [UInt8])?
        var lastResort: PreKeyBundle.KEM?
        var removed: [SignedPreKeyID]
        var removedKEM: [KEMPreKeyID]
    }

    /// Rotates the signed prekey (and with it the last-resort KEM prekey) on
    /// schedule and drops both past their grace period.
    private mutating func rotateSignedPreKeys(now: UInt64, policy: PreKeyPolicy) -> Rotation {
        var newSPK: (id: SignedPreKeyID, publicKey: X25519.PublicKey, signature: [UInt8])?
        if now >= currentSignedPreKey.createdAt &+ policy.signedPreKeyLifetime || now < currentSignedPreKey.createdAt {
            let spk = SignedPreKey(id: SignedPreKeyID(rawValue: nextSignedPreKeyID), signedBy: identity, createdAt: now)
            nextSignedPreKeyID &+= 1
            signedPreKeys.append(spk)
            newSPK = (spk.id, spk.publicKey, spk.signature)
        }
        // A new last-resort KEM prekey with each signed prekey (or for an
        // account from before PQXDH, which has none).
        var newLastResort: PreKeyBundle.KEM?
        if newSPK != nil || lastResortKEMPreKeys.isEmpty {
            newLastResort = rotateLastResortKEMPreKey(now: now).signed(by: identity)
        }
        // A replaced key is kept until its successor has been current for the grace period.
        var removed = [SignedPreKeyID]()
        while signedPreKeys.count > 1, now >= signedPreKeys[1].createdAt &+ policy.signedPreKeyGracePeriod {
            let id = signedPreKeys.removeFirst().id
            removed.append(id)
            // A first message naming a deleted signed prekey is refused anyway.
            acceptedBaseKeys[id] = nil
        }
        // The same rule for last-resort KEM prekeys, rotated with the signed prekey.
        var removedKEM = [KEMPreKeyID]()
        while lastResortKEMPreKeys.count > 1, now >= lastResortKEMPreKeys[1].createdAt &+ policy.signedPreKeyGracePeriod {
            let retired = lastResortKEMPreKeys.removeFirst()
            KEMKeyCache.current.forget(retired)
            removedKEM.append(retired.id)
        }
        return Rotation(signedPreKey: newSPK, lastResort: newLastResort, removed: removed, removedKEM: removedKEM)
    }

    /// The report, taking the consumed ids accumulated since the last one.
    private mutating func upload(oneTime: [PreKeyBundle.OneTime], kem: [PreKeyBundle.KEM], rotation: Rotation) -> PreKeyUpload {
        let consumed = consumedOneTimePreKeyIDs
        consumedOneTimePreKeyIDs = []
        let consumedKEM = consumedKEMPreKeyIDs
        consumedKEMPreKeyIDs = []
        return PreKeyUpload(newOneTimePreKeys: oneTime, newSignedPreKey: rotation.signedPreKey,
                            removedSignedPreKeyIDs: rotation.removed, consumedOneTimePreKeyIDs: consumed,
                            newKEMPreKeys: kem, newLastResortKEMPreKey: rotation.lastResort,
                            removedKEMPreKeyIDs: rotation.removedKEM, consumedKEMPreKeyIDs: consumedKEM)
    }
}

extension PreKeyUpload {
    /// The same upload with the signed prekey and last-resort KEM prekey set.
    fileprivate func including(signedPreKey: (id: SignedPreKeyID, publicKey: X25519.PublicKey, signature: [UInt8]),
                               lastResort: PreKeyBundle.KEM?) -> PreKeyUpload {
        PreKeyUpload(newOneTimePreKeys: newOneTimePreKeys, newSignedPreKey: signedPreKey,
                     removedSignedPreKeyIDs: removedSignedPreKeyIDs, consumedOneTimePreKeyIDs: consumedOneTimePreKeyIDs,
                     newKEMPreKeys: newKEMPreKeys, newLastResortKEMPreKey: lastResort,
                     removedKEMPreKeyIDs: removedKEMPreKeyIDs, consumedKEMPreKeyIDs: consumedKEMPreKeyIDs)
    }
}
