/// One device's long-term keys: its identity, signed prekeys and the pool of
/// one-time prekeys, with what a server publishes for it.
///
/// A one-time prekey is removed only when a first message that names it has
/// authenticated (``acceptSession(from:random:)``): a forged first message
/// consumes nothing.
public struct Account: Sendable {
    public let identity: IdentityKey.PrivateKey
    /// Current signed prekey last; older ones stay for messages still in flight.
    public internal(set) var signedPreKeys: [SignedPreKey]
    /// Unused one-time prekeys, oldest first.
    public internal(set) var oneTimePreKeys: [OneTimePreKey]
    /// How many of ``oneTimePreKeys`` (from the front) were already handed out in a bundle.
    var publishedCount: Int
    var nextPreKeyID: UInt32
    var nextSignedPreKeyID: UInt32
    /// One-time prekeys consumed since the last ``maintainPreKeys(now:policy:)``,
    /// so the server can be told (it may already know: it handed them out).
    public internal(set) var consumedOneTimePreKeyIDs: [PreKeyID] = []
    /// Base keys (`EK_A`) of every first message accepted, by the signed prekey
    /// it used, kept as long as that prekey (PROTOCOL.md §2): a first message is
    /// accepted once per account, whatever address it arrives from. The bundle
    /// signature covers only the signed prekey, so without this a server could
    /// strip the one-time prekey and replay a first message under another name.
    var acceptedBaseKeys: [SignedPreKeyID: Set<X25519.PublicKey>] = [:]

    /// A new account with a fresh identity (or the given one) and one signed prekey.
    public init(identity: IdentityKey.PrivateKey = IdentityKey.PrivateKey(), createdAt: UInt64 = 0) {
        self.identity = identity
        signedPreKeys = [SignedPreKey(id: SignedPreKeyID(rawValue: 1), signedBy: identity, createdAt: createdAt)]
        oneTimePreKeys = []
        publishedCount = 0
        nextPreKeyID = 1
        nextSignedPreKeyID = 2
    }

    init(identity: IdentityKey.PrivateKey, signedPreKeys: [SignedPreKey], oneTimePreKeys: [OneTimePreKey],
         publishedCount: Int, nextPreKeyID: UInt32, nextSignedPreKeyID: UInt32, consumed: [PreKeyID] = [],
         acceptedBaseKeys: [SignedPreKeyID: Set<X25519.PublicKey>] = [:]) {
        self.consumedOneTimePreKeyIDs = consumed
        self.acceptedBaseKeys = acceptedBaseKeys
        self.identity = identity
        self.signedPreKeys = signedPreKeys
        self.oneTimePreKeys = oneTimePreKeys
        self.publishedCount = publishedCount
        self.nextPreKeyID = nextPreKeyID
        self.nextSignedPreKeyID = nextSignedPreKeyID
    }

    public var currentSignedPreKey: SignedPreKey { signedPreKeys[signedPreKeys.count - 1] }

    /// One-time prekeys not yet handed out in a bundle: when this runs low,
    /// ``generateOneTimePreKeys(count:)`` tops the pool up.
    public var unpublishedOneTimePreKeyCount: Int { oneTimePreKeys.count - publishedCount }

    /// Adds `count` one-time prekeys with fresh ids (ids are never reused).
    @discardableResult
    public mutating func generateOneTimePreKeys(count: Int) -> [OneTimePreKey] {
        var made = [OneTimePreKey]()
        for _ in 0..<max(0, count) {
            // 0xFFFFFFFF means "none" on the wire; ids wrap past it, skipping 0 too.
            if nextPreKeyID == PreKeyID.none { nextPreKeyID = 1 }
            made.append(OneTimePreKey(id: PreKeyID(rawValue: nextPreKeyID)))
            nextPreKeyID += 1
        }
        oneTimePreKeys += made
        return made
    }

    /// A bundle with the current signed prekey and the oldest one-time prekey
    /// not handed out yet, which is marked as handed out. With none left the
    /// bundle has no one-time prekey (flags bit 0 clear), which is valid.
    public mutating func publishBundle() -> PreKeyBundle {
        let otk: PreKeyBundle.OneTime?
        if publishedCount < oneTimePreKeys.count {
            let k = oneTimePreKeys[publishedCount]
            otk = .init(id: k.id, publicKey: k.publicKey)
            publishedCount += 1
        } else {
            otk = nil
        }
        let spk = currentSignedPreKey
        return PreKeyBundle(identityKey: identity.publicKey, signedPreKeyID: spk.id, signedPreKey: spk.publicKey,
                            signedPreKeySignature: spk.signature, oneTimePreKey: otk)
    }

    /// Creates the recipient's session from a first message and decrypts it.
    /// Throws, with the account unchanged, for a base key accepted before, an
    /// unknown signed or one-time prekey or a message that does not
    /// authenticate; only on success is the named one-time prekey deleted and
    /// the base key remembered.
    ///
    /// A replayed first message for a session that still exists is routed to
    /// that session by ``SessionSet`` (where it is a duplicate) and never gets here.
    public mutating func acceptSession(from message: PreKeyMessage, random: any RandomSource = .system,
                                       now: UInt64 = 0) throws(SessionSetupError) -> (session: Session, plaintext: [UInt8]) {
        // Checked first: a replay costs a set lookup, not three Diffie-Hellmans.
        guard !hasAccepted(baseKey: message.baseKey) else { throw .baseKeyAlreadyAccepted }
        guard let spk = signedPreKeys.last(where: { $0.id == message.signedPreKeyID }) else {
            throw .unknownSignedPreKey(message.signedPreKeyID)
        }
        var otkIndex: Int?
        if let id = message.oneTimePreKeyID {
            guard let i = oneTimePreKeys.firstIndex(where: { $0.id == id }) else { throw .unknownOneTimePreKey(id) }
            otkIndex = i
        }
        let sk = try X3DH.recipientSecret(identity: identity, signedPreKey: spk.privateKey,
                                          oneTimePreKey: otkIndex.map { oneTimePreKeys[$0].privateKey },
                                          initiatorIdentity: message.identityKey, baseKey: message.baseKey)
        var session = Session(role: .recipient, localIdentity: identity.publicKey, remoteIdentity: message.identityKey,
                              baseKey: message.baseKey, signedPreKeyID: spk.id, oneTimePreKeyID: message.oneTimePreKeyID,
                              awaitingReply: false, createdAt: now,
                              ratchet: .recipient(sharedKey: sk, signedPreKey: spk.privateKey))
        let plaintext: [UInt8]
        do { plaintext = try session.decrypt(payload: message.payload, random: random) } catch {
            throw .firstMessageRejected(error)
        }
        if let i = otkIndex {
            consumedOneTimePreKeyIDs.append(oneTimePreKeys.remove(at: i).id)
            if i < publishedCount { publishedCount -= 1 }
        }
        acceptedBaseKeys[spk.id, default: []].insert(message.baseKey)
        return (session, plaintext)
    }

    /// Whether a first message with this base key was accepted while its signed prekey is kept.
    public func hasAccepted(baseKey: X25519.PublicKey) -> Bool {
        acceptedBaseKeys.values.contains { $0.contains(baseKey) }
    }

    /// How many base keys are remembered (they go with their signed prekey).
    public var acceptedBaseKeyCount: Int { acceptedBaseKeys.values.reduce(0) { $0 + $1.count } }

    /// As ``acceptSession(from:random:)`` from wire bytes.
    public mutating func acceptSession(from bytes: [UInt8], maxPlaintext: Int = Limits.defaultMaxPlaintext,
                                       random: any RandomSource = .system,
                                       now: UInt64 = 0) throws(SessionSetupError) -> (session: Session, plaintext: [UInt8]) {
        let parsed: WireMessage
        do { parsed = try WireMessage(serialized: bytes, maxPlaintext: maxPlaintext) } catch {
            throw .firstMessageRejected(.malformed(error))
        }
        guard case .preKey(let m) = parsed else { throw .notAPreKeyMessage }
        return try acceptSession(from: m, random: random, now: now)
    }
}

extension Account: CustomStringConvertible {
    public var description: String {
        "Account(\(identity.publicKey), signed prekeys: \(signedPreKeys.count), one-time prekeys: \(oneTimePreKeys.count))"
    }
}
