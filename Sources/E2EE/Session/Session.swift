/// A Double Ratchet session with one peer device, set up by X3DH.
///
/// The initiator makes one from the recipient's ``PreKeyBundle`` with
/// ``initiate(identity:bundle:random:)``; the recipient makes its side from the
/// first message with ``Account/acceptSession(from:random:)``. Both then
/// ``encrypt(_:random:)`` and ``decrypt(_:maxPlaintext:random:)`` freely.
/// Sessions are values: persist them with ``serialized()`` and
/// ``init(serialized:)``.
public struct Session: Sendable {
    public enum Role: UInt8, Sendable { case initiator = 0, recipient = 1 }

    public let role: Role
    public let localIdentity: IdentityKey.PublicKey
    public let remoteIdentity: IdentityKey.PublicKey
    /// The initiator's ephemeral key `EK_A`: the session's identity on both sides.
    public let baseKey: X25519.PublicKey
    public let signedPreKeyID: SignedPreKeyID
    public let oneTimePreKeyID: PreKeyID?
    /// True until the initiator has received a message: until then every
    /// message it sends is a PreKeyMessage (so a lost first message loses nothing).
    public internal(set) var awaitingReply: Bool
    /// When the session was made, in seconds since 1970: an initiator session
    /// that never got a reply expires (``SessionManager``).
    public let createdAt: UInt64
    var ratchet: RatchetState
    /// `AD = Encode(IK_A) || Encode(IK_B)`, derived from the identities.
    let associatedData: [UInt8]

    init(role: Role, localIdentity: IdentityKey.PublicKey, remoteIdentity: IdentityKey.PublicKey,
         baseKey: X25519.PublicKey, signedPreKeyID: SignedPreKeyID, oneTimePreKeyID: PreKeyID?,
         awaitingReply: Bool, createdAt: UInt64, ratchet: RatchetState) {
        self.role = role
        self.createdAt = createdAt
        self.localIdentity = localIdentity
        self.remoteIdentity = remoteIdentity
        self.baseKey = baseKey
        self.signedPreKeyID = signedPreKeyID
        self.oneTimePreKeyID = oneTimePreKeyID
        self.awaitingReply = awaitingReply
        self.ratchet = ratchet
        associatedData = role == .initiator
            ? X3DH.associatedData(initiator: localIdentity, recipient: remoteIdentity)
            : X3DH.associatedData(initiator: remoteIdentity, recipient: localIdentity)
    }

    /// Starts a session to the owner of `bundle`. The bundle's signatures are
    /// verified before anything else; the one-time prekey is used if offered.
    public static func initiate(identity: IdentityKey.PrivateKey, bundle: PreKeyBundle,
                                random: any RandomSource = .system, now: UInt64 = 0) throws(SessionSetupError) -> Session {
        guard bundle.verifySignatures() else { throw .invalidSignature }
        // PROTOCOL.md §2b: a bundle with a KEM prekey must not be used for plain
        // X3DH (that would silently drop the post-quantum part).
        guard bundle.kemPreKey == nil else { throw .kemPreKeyNotSupported }
        let ephemeral = random.makePrivateKey()
        let sk = try X3DH.initiatorSecret(identity: identity, ephemeral: ephemeral, bundle: bundle)
        let ratchet = try RatchetState.initiator(sharedKey: sk, remoteSignedPreKey: bundle.signedPreKey,
                                                 ratchetKey: random.makePrivateKey())
        // `ephemeral` and the DH outputs are released (and wiped) on return.
        return Session(role: .initiator, localIdentity: identity.publicKey, remoteIdentity: bundle.identityKey,
                       baseKey: ephemeral.publicKey, signedPreKeyID: bundle.signedPreKeyID,
                       oneTimePreKeyID: bundle.oneTimePreKey?.id, awaitingReply: true, createdAt: now,
                       ratchet: ratchet)
    }

    /// As ``initiate(identity:bundle:random:)`` from the bundle's bytes.
    public static func initiate(identity: IdentityKey.PrivateKey, bundle: [UInt8],
                                random: any RandomSource = .system, now: UInt64 = 0) throws(SessionSetupError) -> Session {
        let parsed: PreKeyBundle
        do { parsed = try PreKeyBundle(serialized: bundle) } catch { throw .invalidBundle(error) }
        return try initiate(identity: identity, bundle: parsed, random: random, now: now)
    }

    // MARK: Messages

    /// Encrypts one message: a PreKeyMessage while ``awaitingReply``, else a RatchetMessage.
    public mutating func encrypt(_ plaintext: [UInt8], random: any RandomSource = .system) throws(EncryptError) -> [UInt8] {
        let (prefix, ad, mk) = try prepareMessage(plaintextCount: plaintext.count)
        var out = prefix
        let sealedStart = out.count
        out.append(contentsOf: repeatElement(0, count: plaintext.count + AEADv1.overhead))
        let reuseGuard = random.makeReuseGuard()
        let sealed = out.withUnsafeMutableBytes { o in
            plaintext.withUnsafeBytes { p in
                ad.withUnsafeBytes { a in
                    (try? AEADv1.seal(into: UnsafeMutableRawBufferPointer(rebasing: o[sealedStart...]), plaintext: p,
                                      using: mk, authenticating: a, reuseGuard: reuseGuard)) != nil
                }
            }
        }
        // Only a malformed injected guard fails here; the size was checked before.
        guard sealed else { throw .invalidReuseGuard }
        return out
    }

    /// Moves the sending chain on and returns what a message needs besides its
    /// sealed part: the wire bytes up to and including `Encode(H)` (with room
    /// reserved for the rest), the AEAD associated data and the message key.
    mutating func prepareMessage(plaintextCount: Int) throws(EncryptError) -> (prefix: [UInt8], ad: [UInt8], key: MessageKey) {
        guard plaintextCount <= Limits.defaultMaxPlaintext else {
            throw .plaintextTooLarge(size: plaintextCount, max: Limits.defaultMaxPlaintext)
        }
        let (header, mk) = try ratchet.nextSendingKey()
        let prefixCount = awaitingReply ? PreKeyMessage.prefixByteCount : 2
        var out = [UInt8]()
        out.reserveCapacity(prefixCount + MessageHeader.byteCount + plaintextCount + AEADv1.overhead)
        out.append(WireMessage.version)
        if awaitingReply {
            out.append(MessageType.preKey.rawValue)
            out += localIdentity.bytes
            out += baseKey.bytes
            out.appendU32(signedPreKeyID.rawValue)
            out.appendU32(oneTimePreKeyID?.rawValue ?? PreKeyID.none)
        } else {
            out.append(MessageType.ratchet.rawValue)
        }
        header.encode(into: &out)
        var ad = associatedData
        ad.append(contentsOf: out[prefixCount...])
        return (out, ad, mk)
    }

    /// Decrypts a RatchetMessage, or a PreKeyMessage that belongs to this
    /// session (same base key and setup fields). On error nothing changes.
    public mutating func decrypt(_ message: [UInt8], maxPlaintext: Int = Limits.defaultMaxPlaintext,
                                 random: any RandomSource = .system) throws(DecryptError) -> [UInt8] {
        let parsed: WireMessage
        do { parsed = try WireMessage(serialized: message, maxPlaintext: maxPlaintext) } catch { throw .malformed(error) }
        return try decrypt(parsed, random: random)
    }

    /// As ``decrypt(_:maxPlaintext:random:)`` for a parsed message.
    public mutating func decrypt(_ message: WireMessage, random: any RandomSource = .system) throws(DecryptError) -> [UInt8] {
        switch message {
        case .ratchet(let m):
            return try decrypt(payload: m.payload, random: random)
        case .preKey(let m):
            guard role == .recipient, m.baseKey == baseKey else { throw .setupMismatch }
            guard m.identityKey == remoteIdentity, m.signedPreKeyID == signedPreKeyID,
                  m.oneTimePreKeyID == oneTimePreKeyID else { throw .setupMismatch }
            return try decrypt(payload: m.payload, random: random)
        }
    }

    mutating func decrypt(payload: RatchetPayload, random: any RandomSource) throws(DecryptError) -> [UInt8] {
        let plaintext = try ratchet.decrypt(payload, associatedData: associatedData, random: random)
        awaitingReply = false
        return plaintext
    }

    /// Whether a PreKeyMessage was sent for this session (matched by base key).
    public func matches(_ message: PreKeyMessage) -> Bool {
        role == .recipient && message.baseKey == baseKey
    }
}

extension Session: CustomStringConvertible {
    public var description: String {
        "Session(\(role), remote: \(remoteIdentity), sent: \(ratchet.sendCounter), received: \(ratchet.receiveCounter))"
    }
}
