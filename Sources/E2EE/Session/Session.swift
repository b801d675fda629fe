internal import CE2EE
/// A Double Ratchet session with one peer device, set up by PQXDH (or, when
/// the caller allows it, classical X3DH).
///
/// The initiator makes one from the recipient's ``PreKeyBundle`` with
/// ``initiate(identity:bundle:random:now:allowClassical:)-(_,PreKeyBundle,_,_,_)``; the recipient makes its side from the
/// first message with ``Account/acceptSession(from:random:now:allowClassical:)``. Both then
/// ``encrypt(_:random:)`` and ``decrypt(_:maxPlaintext:random:)`` freely.
/// Sessions are values: persist them with ``serialized()`` and
/// ``init(serialized:)``.
public struct Session: Sendable {
    /// Which side of the setup this session is: the initiator (who used the
    /// bundle) or the recipient (who accepted the first message).
    public enum Role: UInt8, Sendable { case initiator = 0, recipient = 1 }

    /// Whether this side initiated the session or accepted it.
    public let role: Role
    /// This device's identity key.
    public let localIdentity: IdentityKey.PublicKey
    /// The peer's identity key, as authenticated by the setup.
    public let remoteIdentity: IdentityKey.PublicKey
    /// The initiator's ephemeral key `EK_A`: the session's identity on both sides.
    public let baseKey: X25519.PublicKey
    /// The recipient's signed prekey the setup used.
    public let signedPreKeyID: SignedPreKeyID
    /// The recipient's one-time prekey the setup used, if the bundle had one.
    public let oneTimePreKeyID: PreKeyID?
    /// The PQXDH part of the setup; nil for a classical (X3DH) session.
    var pq: PQSetup?
    /// True until the initiator has received a message: until then every
    /// message it sends is a PreKeyMessage (so a lost first message loses nothing).
    public internal(set) var awaitingReply: Bool
    /// When the session was made, in seconds since 1970: an initiator session
    /// that never got a reply expires (``SessionManager``).
    public let createdAt: UInt64
    var ratchet: RatchetState
    /// `AD = Encode(IK_A) || Encode(IK_B)`, derived from the identities.
    let associatedData: [UInt8]

    /// What a PQXDH session remembers of its setup: the KEM prekey used, and
    /// the ciphertext, whole on the initiator while it must repeat it in every
    /// PQPreKeyMessage, and as a digest (so a first message routed here must
    /// carry the same ciphertext: the setup fields are not malleable).
    struct PQSetup: Sendable, Equatable {
        static let digestByteCount = 32
        let kemPreKeyID: KEMPreKeyID
        let ciphertextDigest: [UInt8]
        var ciphertext: [UInt8]?

        init(kemPreKeyID: KEMPreKeyID, ciphertext: [UInt8], keepCiphertext: Bool) {
            self.kemPreKeyID = kemPreKeyID
            ciphertextDigest = Self.digest(ciphertext)
            self.ciphertext = keepCiphertext ? ciphertext : nil
        }

        init(kemPreKeyID: KEMPreKeyID, ciphertextDigest: [UInt8], ciphertext: [UInt8]?) {
            self.kemPreKeyID = kemPreKeyID
            self.ciphertextDigest = ciphertextDigest
            self.ciphertext = ciphertext
        }

        static func digest(_ ciphertext: [UInt8]) -> [UInt8] {
            // Fixed, valid parameters: BLAKE2b cannot refuse them.
            (try? BLAKE2b.hash(ciphertext, personal: "E2EEv1 kem ct", outputByteCount: digestByteCount)) ?? []
        }

        func matches(_ kem: PreKeyMessage.KEMPart) -> Bool {
            kem.id == kemPreKeyID && Self.digest(kem.ciphertext) == ciphertextDigest
        }
    }

    /// Whether the session was set up by PQXDH.
    public var isPostQuantum: Bool { pq != nil }
    /// The KEM prekey a PQXDH session was set up with.
    public var kemPreKeyID: KEMPreKeyID? { pq?.kemPreKeyID }

    init(role: Role, localIdentity: IdentityKey.PublicKey, remoteIdentity: IdentityKey.PublicKey,
         baseKey: X25519.PublicKey, signedPreKeyID: SignedPreKeyID, oneTimePreKeyID: PreKeyID?, pq: PQSetup? = nil,
         awaitingReply: Bool, createdAt: UInt64, ratchet: RatchetState) {
        self.role = role
        self.pq = pq
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
    ///
    /// A bundle with a KEM prekey runs PQXDH (PROTOCOL.md §2b), never plain
    /// X3DH. A bundle without one is refused with
    /// ``SessionSetupError/postQuantumRequired`` unless `allowClassical` is set.
    public static func initiate(identity: IdentityKey.PrivateKey, bundle: PreKeyBundle,
                                random: any RandomSource = .system, now: UInt64 = 0,
                                allowClassical: Bool = false) throws(SessionSetupError) -> Session {
        try initiate(identity: identity, bundle: bundle, random: random, now: now, allowClassical: allowClassical,
                     encapsulate: { (key) throws(CryptoError) in try key.encapsulate() })
    }

    /// As above, with the encapsulation injected (exact-byte vectors fix its randomness).
    static func initiate(identity: IdentityKey.PrivateKey, bundle: PreKeyBundle, random: any RandomSource,
                         now: UInt64, allowClassical: Bool,
                         encapsulate: (MLKEM.PublicKey) throws(CryptoError) -> (sharedSecret: SecureBytes, ciphertext: [UInt8]))
        throws(SessionSetupError) -> Session {
        guard bundle.verifySignatures() else { throw .invalidSignature }
        guard bundle.kemPreKey != nil || allowClassical else { throw .postQuantumRequired }
        let ephemeral = random.makePrivateKey()
        var kemInput: X3DH.KEMInput?
        var pq: PQSetup?
        if let kem = bundle.kemPreKey {
            let result: (sharedSecret: SecureBytes, ciphertext: [UInt8])
            do { result = try encapsulate(kem.publicKey) } catch { throw .invalidBundle(.invalidKey(field: "KEM")) }
            guard result.ciphertext.count == MLKEM.ciphertextByteCount else {
                throw .invalidBundle(.invalidKey(field: "KEM"))
            }
            kemInput = X3DH.KEMInput(sharedSecret: result.sharedSecret, binding: X3DH.kemBinding(kem.publicKey))
            pq = PQSetup(kemPreKeyID: kem.id, ciphertext: result.ciphertext, keepCiphertext: true)
        }
        let sk = try X3DH.initiatorSecret(identity: identity, ephemeral: ephemeral, bundle: bundle, kem: kemInput)
        let ratchet = try RatchetState.initiator(sharedKey: sk, remoteSignedPreKey: bundle.signedPreKey,
                                                 ratchetKey: random.makePrivateKey())
        // `ephemeral`, `SS` and the DH outputs are released (and wiped) on return.
        return Session(role: .initiator, localIdentity: identity.publicKey, remoteIdentity: bundle.identityKey,
                       baseKey: ephemeral.publicKey, signedPreKeyID: bundle.signedPreKeyID,
                       oneTimePreKeyID: bundle.oneTimePreKey?.id, pq: pq, awaitingReply: true, createdAt: now,
                       ratchet: ratchet)
    }

    /// As ``initiate(identity:bundle:random:now:allowClassical:)`` from the bundle's bytes.
    public static func initiate(identity: IdentityKey.PrivateKey, bundle: [UInt8],
                                random: any RandomSource = .system, now: UInt64 = 0,
                                allowClassical: Bool = false) throws(SessionSetupError) -> Session {
        let parsed: PreKeyBundle
        do { parsed = try PreKeyBundle(serialized: bundle) } catch { throw .invalidBundle(error) }
        return try initiate(identity: identity, bundle: parsed, random: random, now: now, allowClassical: allowClassical)
    }

    // MARK: Messages

    /// Encrypts one message: a (PQ)PreKeyMessage while ``awaitingReply``, else a RatchetMessage.
    public mutating func encrypt(_ plaintext: [UInt8], random: any RandomSource = .system) throws(EncryptError) -> [UInt8] {
        guard plaintext.count <= Limits.defaultMaxPlaintext else {
            throw .plaintextTooLarge(size: plaintext.count, max: Limits.defaultMaxPlaintext)
        }
        // The message key and `AD || Encode(H)` on the stack (the key wiped
        // after); the message is the only allocation, written once.
        let adCount = associatedData.count + MessageHeader.byteCount
        return try withUnsafeTemporaryAllocation(byteCount: MessageKey.byteCount + adCount, alignment: 16) {
            (tmp) throws(EncryptError) -> [UInt8] in
            let mk = tmp.baseAddress!, ad = tmp.baseAddress! + MessageKey.byteCount
            defer { e2ee_memzero(mk, MessageKey.byteCount) }
            let header = try ratchet.nextSendingKey(into: mk, random: random)
            // Drawn after the ratchet key, in the order seeded sources (vectors, corpora) expect.
            let reuseGuard = random.makeReuseGuard()
            if let g = reuseGuard, g.count != AEADv1.guardByteCount { throw .invalidReuseGuard }
            associatedData.withUnsafeBytes { a in
                if let from = a.baseAddress { ad.copyMemory(from: from, byteCount: a.count) }
            }
            let sealedCount = plaintext.count + AEADv1.overhead
            var rc: Int32 = -1
            let out: [UInt8]
            if !awaitingReply {
                // A RatchetMessage: `0x01 0x01 || Encode(H) || sealed`, in one buffer.
                let count = 2 + MessageHeader.byteCount + sealedCount
                out = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
                    let o = UnsafeMutableRawPointer(buf.baseAddress!)
                    o.storeBytes(of: WireMessage.version, as: UInt8.self)
                    o.storeBytes(of: MessageType.ratchet.rawValue, toByteOffset: 1, as: UInt8.self)
                    header.write(to: o + 2)
                    (ad + associatedData.count).copyMemory(from: o + 2, byteCount: MessageHeader.byteCount)
                    rc = seal(into: o + 2 + MessageHeader.byteCount, sealedCount, plaintext, ad, adCount, mk, reuseGuard)
                    initialized = count
                }
            } else {
                var message = writePrefix(header: header, plaintextCount: plaintext.count)
                let sealedStart = message.count
                message.withUnsafeBytes { o in
                    (ad + associatedData.count).copyMemory(from: o.baseAddress! + sealedStart - MessageHeader.byteCount,
                                                           byteCount: MessageHeader.byteCount)
                }
                message.append(contentsOf: repeatElement(0, count: sealedCount))
                message.withUnsafeMutableBytes { o in
                    rc = seal(into: o.baseAddress! + sealedStart, sealedCount, plaintext, ad, adCount, mk, reuseGuard)
                }
                out = message
            }
            // The size was checked above; the C core fails only on impossible lengths.
            guard rc == 0 else { throw .plaintextTooLarge(size: plaintext.count, max: Limits.defaultMaxPlaintext) }
            return out
        }
    }

    private func seal(into out: UnsafeMutableRawPointer, _ count: Int, _ plaintext: [UInt8], _ ad: UnsafeMutableRawPointer,
                      _ adCount: Int, _ mk: UnsafeMutableRawPointer, _ reuseGuard: [UInt8]?) -> Int32 {
        plaintext.withUnsafeBytes { p in
            AEADv1.withGuard(reuseGuard) { g in
                e2ee_aead_seal(out, count, p.baseAddress, p.count, UnsafeRawPointer(ad), adCount, mk, g)
            }
        }
    }

    /// The wire bytes up to and including `Encode(H)`, with room reserved for the sealed part.
    private func writePrefix(header: MessageHeader, plaintextCount: Int) -> [UInt8] {
        // Until the first reply every message repeats the setup; the initiator
        // keeps the KEM ciphertext exactly as long as it is awaiting a reply.
        let setup = !awaitingReply ? nil
            : PreKeyMessage.Setup(identityKey: localIdentity, baseKey: baseKey, signedPreKeyID: signedPreKeyID,
                                  oneTimePreKeyID: oneTimePreKeyID,
                                  kem: pq.flatMap { pq in pq.ciphertext.map { .init(id: pq.kemPreKeyID, ciphertext: $0) } })
        return RatchetPayload.writePrefix(header: header, setup: setup, sealedCount: plaintextCount + AEADv1.overhead)
    }

    /// Moves the sending chain on and returns what a message needs besides its
    /// sealed part: the wire bytes up to and including `Encode(H)` (with room
    /// reserved for the rest), the AEAD associated data and the message key.
    mutating func prepareMessage(plaintextCount: Int,
                                 random: any RandomSource) throws(EncryptError) -> (prefix: [UInt8], ad: [UInt8], key: MessageKey) {
        guard plaintextCount <= Limits.defaultMaxPlaintext else {
            throw .plaintextTooLarge(size: plaintextCount, max: Limits.defaultMaxPlaintext)
        }
        let (header, mk) = try ratchet.nextSendingKey(random: random)
        let out = writePrefix(header: header, plaintextCount: plaintextCount)
        var ad = associatedData
        ad.append(contentsOf: out[(out.count - MessageHeader.byteCount)...])
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
            // Classical and PQ setups never mix, and a PQ one must repeat its KEM part exactly.
            switch (m.kem, pq) {
            case (nil, nil): break
            case (let kem?, let pq?) where pq.matches(kem): break
            default: throw .setupMismatch
            }
            return try decrypt(payload: m.payload, random: random)
        case .senderKey, .senderKeyDistribution, .groupUpdate:
            throw .malformed(.unexpectedType(message.type.rawValue))
        }
    }

    mutating func decrypt(payload: RatchetPayload, random: any RandomSource) throws(DecryptError) -> [UInt8] {
        let plaintext = try ratchet.decrypt(payload, associatedData: associatedData, random: random)
        awaitingReply = false
        pq?.ciphertext = nil
        return plaintext
    }

    /// Whether a PreKeyMessage was sent for this session (matched by base key).
    public func matches(_ message: PreKeyMessage) -> Bool {
        role == .recipient && message.baseKey == baseKey
    }
}

extension Session: CustomStringConvertible {
    /// The role, counters and the peer's key: no key material prints.
    public var description: String {
        "Session(\(role)\(pq == nil ? ", classical" : ""), remote: \(remoteIdentity), sent: \(ratchet.sendCounter), received: \(ratchet.receiveCounter))"
    }
}
