/// One device's long-term keys: its identity, signed prekeys, the pool of
/// one-time prekeys and the ML-KEM-1024 prekeys of PQXDH (a last-resort one,
/// rotated with the signed prekey, and a one-time pool), with what a server
/// publishes for it.
///
/// A one-time prekey (X25519 or KEM) is removed only when a first message that
/// names it has authenticated (``acceptSession(from:random:now:allowClassical:)``):
/// a forged first message consumes nothing.
public struct Account: Sendable {
    /// The device's long-term identity key.
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
    /// Last-resort KEM prekeys, current last: one per signed prekey rotation,
    /// kept as long as the signed prekey made with it.
    public internal(set) var lastResortKEMPreKeys: [KEMPreKey]
    /// Unused one-time KEM prekeys, oldest first.
    public internal(set) var oneTimeKEMPreKeys: [KEMPreKey]
    /// How many of ``oneTimeKEMPreKeys`` (from the front) were handed out in a bundle.
    var publishedKEMCount: Int
    var nextKEMPreKeyID: UInt32
    /// One-time KEM prekeys consumed since the last ``maintainPreKeys(now:policy:)``.
    public internal(set) var consumedKEMPreKeyIDs: [KEMPreKeyID] = []

    /// A new account with a fresh identity (or the given one), one signed
    /// prekey and one last-resort KEM prekey.
    public init(identity: IdentityKey.PrivateKey = IdentityKey.PrivateKey(), createdAt: UInt64 = 0) {
        self.identity = identity
        signedPreKeys = [SignedPreKey(id: SignedPreKeyID(rawValue: 1), signedBy: identity, createdAt: createdAt)]
        oneTimePreKeys = []
        publishedCount = 0
        nextPreKeyID = 1
        nextSignedPreKeyID = 2
        lastResortKEMPreKeys = [KEMPreKey(id: KEMPreKeyID(rawValue: 1), isLastResort: true, createdAt: createdAt)]
        oneTimeKEMPreKeys = []
        publishedKEMCount = 0
        nextKEMPreKeyID = 2
    }

    init(identity: IdentityKey.PrivateKey, signedPreKeys: [SignedPreKey], oneTimePreKeys: [OneTimePreKey],
         publishedCount: Int, nextPreKeyID: UInt32, nextSignedPreKeyID: UInt32, consumed: [PreKeyID] = [],
         acceptedBaseKeys: [SignedPreKeyID: Set<X25519.PublicKey>] = [:],
         lastResortKEMPreKeys: [KEMPreKey] = [], oneTimeKEMPreKeys: [KEMPreKey] = [], publishedKEMCount: Int = 0,
         nextKEMPreKeyID: UInt32 = 1, consumedKEMPreKeyIDs: [KEMPreKeyID] = []) {
        self.consumedOneTimePreKeyIDs = consumed
        self.acceptedBaseKeys = acceptedBaseKeys
        self.lastResortKEMPreKeys = lastResortKEMPreKeys
        self.oneTimeKEMPreKeys = oneTimeKEMPreKeys
        self.publishedKEMCount = publishedKEMCount
        self.nextKEMPreKeyID = nextKEMPreKeyID
        self.consumedKEMPreKeyIDs = consumedKEMPreKeyIDs
        self.identity = identity
        self.signedPreKeys = signedPreKeys
        self.oneTimePreKeys = oneTimePreKeys
        self.publishedCount = publishedCount
        self.nextPreKeyID = nextPreKeyID
        self.nextSignedPreKeyID = nextSignedPreKeyID
    }

    /// The newest signed prekey: the one bundles publish.
    public var currentSignedPreKey: SignedPreKey { signedPreKeys[signedPreKeys.count - 1] }

    /// One-time prekeys not yet handed out in a bundle: when this runs low,
    /// ``generateOneTimePreKeys(count:)`` tops the pool up.
    public var unpublishedOneTimePreKeyCount: Int { oneTimePreKeys.count - publishedCount }

    /// Adds `count` one-time prekeys with fresh ids (ids are never reused).
    @discardableResult
    public mutating func generateOneTimePreKeys(count: Int) -> [OneTimePreKey] {
        var made = [OneTimePreKey]()
        var held = Set(oneTimePreKeys.map(\.id.rawValue))
        for _ in 0..<max(0, count) {
            // 0xFFFFFFFF means "none" on the wire; ids wrap past it, skipping 0
            // too, and skip ids still held (after a wrap, or a record whose
            // next id is behind its keys: an id is never handed out twice).
            var id: UInt32
            repeat {
                if nextPreKeyID == PreKeyID.none || nextPreKeyID == 0 { nextPreKeyID = 1 }
                id = nextPreKeyID
                nextPreKeyID += 1
            } while !held.insert(id).inserted
            made.append(OneTimePreKey(id: PreKeyID(rawValue: id)))
        }
        oneTimePreKeys += made
        return made
    }

    /// One-time KEM prekeys not yet handed out in a bundle.
    public var unpublishedKEMPreKeyCount: Int { oneTimeKEMPreKeys.count - publishedKEMCount }

    /// The current last-resort KEM prekey (made if an account from before
    /// PQXDH has none).
    public var currentLastResortKEMPreKey: KEMPreKey? { lastResortKEMPreKeys.last }

    /// Adds `count` one-time KEM prekeys with fresh ids. Only seeds are made
    /// here; a key pair is expanded when it is published.
    @discardableResult
    public mutating func generateOneTimeKEMPreKeys(count: Int, createdAt: UInt64 = 0) -> [KEMPreKey] {
        var made = [KEMPreKey]()
        for _ in 0..<max(0, count) {
            made.append(KEMPreKey(id: takeKEMPreKeyID(), isLastResort: false, createdAt: createdAt))
        }
        oneTimeKEMPreKeys += made
        return made
    }

    /// The next KEM prekey id: 0 is skipped, and so is any id still held
    /// (after a wrap, or a record whose next id is behind its keys).
    mutating func takeKEMPreKeyID() -> KEMPreKeyID {
        let held = Set((lastResortKEMPreKeys + oneTimeKEMPreKeys).map(\.id.rawValue))
        while true {
            if nextKEMPreKeyID == 0 { nextKEMPreKeyID = 1 }
            let id = nextKEMPreKeyID
            nextKEMPreKeyID &+= 1
            if !held.contains(id) { return KEMPreKeyID(rawValue: id) }
        }
    }

    /// Makes a last-resort KEM prekey current (signed prekey rotation, or an
    /// account from before PQXDH).
    @discardableResult
    mutating func rotateLastResortKEMPreKey(now: UInt64) -> KEMPreKey {
        let key = KEMPreKey(id: takeKEMPreKeyID(), isLastResort: true, createdAt: now)
        lastResortKEMPreKeys.append(key)
        return key
    }

    /// A bundle with the current signed prekey, the oldest one-time prekey not
    /// handed out yet and a KEM prekey: the oldest one-time KEM prekey not
    /// handed out, else the last-resort one. One-time keys handed out are
    /// marked so. With no one-time prekey left the bundle has none (flags bit 0
    /// clear), which is valid; it always has a KEM prekey (bit 1), so peers
    /// set up with PQXDH.
    public mutating func publishBundle() -> PreKeyBundle {
        let kem: KEMPreKey
        if publishedKEMCount < oneTimeKEMPreKeys.count {
            kem = oneTimeKEMPreKeys[publishedKEMCount]
            publishedKEMCount += 1
        } else {
            kem = currentLastResortKEMPreKey ?? rotateLastResortKEMPreKey(now: currentSignedPreKey.createdAt)
        }
        return bundle(kemPreKey: kem.signed(by: identity))
    }

    /// A bundle without a KEM prekey, for peers that may set up only classical
    /// X3DH sessions (both sides must opt in to use it, PROTOCOL.md §2b).
    /// Hands out a one-time prekey like ``publishBundle()``.
    public mutating func publishClassicalBundle() -> PreKeyBundle {
        bundle(kemPreKey: nil)
    }

    private mutating func bundle(kemPreKey: PreKeyBundle.KEM?) -> PreKeyBundle {
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
                            signedPreKeySignature: spk.signature, oneTimePreKey: otk, kemPreKey: kemPreKey)
    }

    /// Creates the recipient's session from a first message and decrypts it:
    /// PQXDH for a PQPreKeyMessage, X3DH for a classical PreKeyMessage, which
    /// is refused with ``SessionSetupError/postQuantumRequired`` unless
    /// `allowClassical` is set. Throws, with the account unchanged, for a base
    /// key accepted before, an unknown signed, one-time or KEM prekey or a
    /// message that does not authenticate; only on success are the named
    /// one-time prekeys (X25519 and KEM) deleted and the base key remembered.
    /// A last-resort KEM prekey is kept: replays against it are stopped by the
    /// base key rule (PROTOCOL.md §2, §2b).
    ///
    /// A replayed first message for a session that still exists is routed to
    /// that session by ``SessionSet`` (where it is a duplicate) and never gets here.
    public mutating func acceptSession(from message: PreKeyMessage, random: any RandomSource = .system, now: UInt64 = 0,
                                       allowClassical: Bool = false) throws(SessionSetupError) -> (session: Session, plaintext: [UInt8]) {
        guard message.kem != nil || allowClassical else { throw .postQuantumRequired }
        // Checked first: a replay costs a set lookup, not a decapsulation and four Diffie-Hellmans.
        guard !hasAccepted(baseKey: message.baseKey) else { throw .baseKeyAlreadyAccepted }
        guard let spk = signedPreKeys.last(where: { $0.id == message.signedPreKeyID }) else {
            throw .unknownSignedPreKey(message.signedPreKeyID)
        }
        var otkIndex: Int?
        if let id = message.oneTimePreKeyID {
            guard let i = oneTimePreKeys.firstIndex(where: { $0.id == id }) else { throw .unknownOneTimePreKey(id) }
            otkIndex = i
        }
        var kemIndex: Int?
        var kemInput: X3DH.KEMInput?
        var pq: Session.PQSetup?
        if let kem = message.kem {
            let key: KEMPreKey
            if let i = oneTimeKEMPreKeys.firstIndex(where: { $0.id == kem.id }) {
                key = oneTimeKEMPreKeys[i]
                kemIndex = i
            } else if let k = lastResortKEMPreKeys.last(where: { $0.id == kem.id }) {
                key = k
            } else {
                throw .unknownKEMPreKey(kem.id)
            }
            // The parser fixed the ciphertext's length, the only thing Decaps checks.
            let ss: SecureBytes
            do { ss = try key.privateKey().decapsulate(kem.ciphertext) } catch { throw .weakKey }
            kemInput = X3DH.KEMInput(sharedSecret: ss, binding: key.binding)
            pq = Session.PQSetup(kemPreKeyID: kem.id, ciphertext: kem.ciphertext, keepCiphertext: false)
        }
        let sk = try X3DH.recipientSecret(identity: identity, signedPreKey: spk.privateKey,
                                          oneTimePreKey: otkIndex.map { oneTimePreKeys[$0].privateKey },
                                          initiatorIdentity: message.identityKey, baseKey: message.baseKey,
                                          kem: kemInput)
        var session = Session(role: .recipient, localIdentity: identity.publicKey, remoteIdentity: message.identityKey,
                              baseKey: message.baseKey, signedPreKeyID: spk.id, oneTimePreKeyID: message.oneTimePreKeyID,
                              pq: pq, awaitingReply: false, createdAt: now,
                              ratchet: .recipient(sharedKey: sk, signedPreKey: spk.privateKey))
        let plaintext: [UInt8]
        do { plaintext = try session.decrypt(payload: message.payload, random: random) } catch {
            throw .firstMessageRejected(error)
        }
        if let i = otkIndex {
            consumedOneTimePreKeyIDs.append(oneTimePreKeys.remove(at: i).id)
            if i < publishedCount { publishedCount -= 1 }
        }
        if let i = kemIndex {
            consumedKEMPreKeyIDs.append(oneTimeKEMPreKeys.remove(at: i).id)
            if i < publishedKEMCount { publishedKEMCount -= 1 }
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

    /// As ``acceptSession(from:random:now:allowClassical:)`` from wire bytes.
    public mutating func acceptSession(from bytes: [UInt8], maxPlaintext: Int = Limits.defaultMaxPlaintext,
                                       random: any RandomSource = .system, now: UInt64 = 0,
                                       allowClassical: Bool = false) throws(SessionSetupError) -> (session: Session, plaintext: [UInt8]) {
        let parsed: WireMessage
        do { parsed = try WireMessage(serialized: bytes, maxPlaintext: maxPlaintext) } catch {
            throw .firstMessageRejected(.malformed(error))
        }
        guard case .preKey(let m) = parsed else { throw .notAPreKeyMessage }
        return try acceptSession(from: m, random: random, now: now, allowClassical: allowClassical)
    }
}

extension Account: CustomStringConvertible {
    /// Public parts and counts only: no private key prints.
    public var description: String {
        "Account(\(identity.publicKey), signed prekeys: \(signedPreKeys.count), one-time prekeys: \(oneTimePreKeys.count), KEM prekeys: \(lastResortKEMPreKeys.count) last-resort + \(oneTimeKEMPreKeys.count) one-time)"
    }
}
