/// When to refill one-time prekeys and rotate the signed prekey.
public struct PreKeyPolicy: Sendable, Equatable {
    /// Refill when fewer unpublished one-time prekeys than this remain.
    public var minimumOneTimePreKeys: Int
    /// Refill up to this many unpublished one-time prekeys.
    public var targetOneTimePreKeys: Int
    /// Make a new signed prekey when the current one is this old (seconds).
    public var signedPreKeyLifetime: UInt64
    /// Keep a replaced signed prekey this long (seconds) for messages in flight.
    public var signedPreKeyGracePeriod: UInt64

    public init(minimumOneTimePreKeys: Int = 20, targetOneTimePreKeys: Int = 100,
                signedPreKeyLifetime: UInt64 = 7 * 24 * 3600, signedPreKeyGracePeriod: UInt64 = 30 * 24 * 3600) {
        self.minimumOneTimePreKeys = minimumOneTimePreKeys
        self.targetOneTimePreKeys = targetOneTimePreKeys
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

    public var isEmpty: Bool {
        newOneTimePreKeys.isEmpty && newSignedPreKey == nil && removedSignedPreKeyIDs.isEmpty
            && consumedOneTimePreKeyIDs.isEmpty
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.newOneTimePreKeys == b.newOneTimePreKeys && a.removedSignedPreKeyIDs == b.removedSignedPreKeyIDs
            && a.consumedOneTimePreKeyIDs == b.consumedOneTimePreKeyIDs
            && a.newSignedPreKey?.id == b.newSignedPreKey?.id
            && a.newSignedPreKey?.publicKey == b.newSignedPreKey?.publicKey
            && a.newSignedPreKey?.signature == b.newSignedPreKey?.signature
    }
}

extension Account {
    /// Refills the one-time prekey pool, rotates the signed prekey on schedule,
    /// drops signed prekeys past their grace period, and reports all of it.
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
        // A replaced key is kept until its successor has been current for the grace period.
        var removed = [SignedPreKeyID]()
        while signedPreKeys.count > 1, now >= signedPreKeys[1].createdAt &+ policy.signedPreKeyGracePeriod {
            let id = signedPreKeys.removeFirst().id
            removed.append(id)
            // A first message naming a deleted signed prekey is refused anyway.
            acceptedBaseKeys[id] = nil
        }
        let consumed = consumedOneTimePreKeyIDs
        consumedOneTimePreKeyIDs = []
        return PreKeyUpload(newOneTimePreKeys: fresh, newSignedPreKey: newSPK, removedSignedPreKeyIDs: removed,
                            consumedOneTimePreKeyIDs: consumed)
    }
}
