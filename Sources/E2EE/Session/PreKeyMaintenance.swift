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

    public var isEmpty: Bool {
        newOneTimePreKeys.isEmpty && newSignedPreKey == nil && removedSignedPreKeyIDs.isEmpty
            && consumedOneTimePreKeyIDs.isEmpty && newKEMPreKeys.isEmpty && newLastResortKEMPreKey == nil
            && removedKEMPreKeyIDs.isEmpty && consumedKEMPreKeyIDs.isEmpty
    }

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
        var freshKEM = [PreKeyBundle.KEM]()
        if unpublishedKEMPreKeyCount < policy.minimumOneTimeKEMPreKeys {
            let made = generateOneTimeKEMPreKeys(count: policy.targetOneTimeKEMPreKeys - unpublishedKEMPreKeyCount,
                                                 createdAt: now)
            freshKEM = made.map { $0.signed(by: identity) }
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
            removedKEM.append(lastResortKEMPreKeys.removeFirst().id)
        }
        let consumed = consumedOneTimePreKeyIDs
        consumedOneTimePreKeyIDs = []
        let consumedKEM = consumedKEMPreKeyIDs
        consumedKEMPreKeyIDs = []
        return PreKeyUpload(newOneTimePreKeys: fresh, newSignedPreKey: newSPK, removedSignedPreKeyIDs: removed,
                            consumedOneTimePreKeyIDs: consumed, newKEMPreKeys: freshKEM,
                            newLastResortKEMPreKey: newLastResort, removedKEMPreKeyIDs: removedKEM,
                            consumedKEMPreKeyIDs: consumedKEM)
    }
}
