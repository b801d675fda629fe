import Dispatch

/// Why a group operation failed. A failed decryption changes no state.
public enum GroupError: Error, Equatable, Sendable {
    /// The message or distribution did not parse.
    case malformed(WireError)
    /// The message or distribution is for another group.
    case wrongGroup(DistributionID)
    /// No chain from this sender with this chain id (never distributed, or
    /// rotated out, or the sender was removed).
    case noSenderKey(ProtocolAddress, chainID: UInt32)
    /// The signature did not verify: checked before any state is touched.
    case invalidSignature
    /// The message key for this iteration was already used: a replay.
    case duplicate(iteration: UInt32)
    /// The iteration is more than ``Limits/maxSenderKeyJump`` ahead of the chain.
    case tooFarAhead(got: UInt32, max: UInt32)
    /// The signature verified but the ciphertext did not authenticate under the chain's key.
    case authenticationFailure
    /// The sending chain is exhausted (2^32 messages): rotate.
    case chainExhausted
    /// The sender is not in the roster, or its pairwise session presents
    /// another identity than the roster lists for it (§5b).
    case notAMember(ProtocolAddress)
    /// A roster change from a member who is not an admin (and not leaving).
    case notAnAdmin(ProtocolAddress)
    /// An update whose revision is older, or equal and losing the tie-break.
    case staleRevision(got: UInt32, current: UInt32)
    /// A distribution claiming a chain id or signing key held for another sender.
    case chainClaimed(chainID: UInt32)
    /// This device is not, or no longer, a member of the group.
    case notInGroup
    /// A roster change that cannot be made (named).
    case invalidRoster(String)
}

/// One sender's chain as a receiver holds it.
struct ReceiverChain: Sendable {
    let chainID: UInt32
    let signingKey: IdentityKey.PublicKey
    /// The iteration `chainKey` is at: the next message not yet derived.
    var iteration: UInt32
    var chainKey: SenderChainKey
    /// Keys of iterations below `iteration` not yet used, oldest first.
    var skipped: [(iteration: UInt32, key: MessageKey)] = []

    mutating func storeSkipped(_ keys: some Sequence<(UInt32, MessageKey)>) {
        skipped.append(contentsOf: keys.lazy.map { (iteration: $0.0, key: $0.1) })
        if skipped.count > Limits.maxSenderKeySkipped {
            skipped.removeFirst(skipped.count - Limits.maxSenderKeySkipped)
        }
    }

    /// Puts back the key of a message that failed after the key was taken
    /// (a member signing a bad body): in iteration order and within the bound,
    /// like every other skipped key, so the record stays loadable.
    mutating func restoreSkipped(_ iteration: UInt32, _ key: MessageKey) {
        let at = skipped.firstIndex { $0.iteration > iteration } ?? skipped.endIndex
        skipped.insert((iteration: iteration, key: key), at: at)
        if skipped.count > Limits.maxSenderKeySkipped {
            skipped.removeFirst(skipped.count - Limits.maxSenderKeySkipped)
        }
    }
}

/// Our own sending chain in a group.
struct SendingChain: Sendable {
    let chainID: UInt32
    var iteration: UInt32
    var chainKey: SenderChainKey
    let signingKey: IdentityKey.PrivateKey
}

/// One member's view of a sender-key group (PROTOCOL.md §5, §5b): the roster
/// at its revision, this device's own sending chain, and the receiving chains
/// of the other members, up to ``Limits/maxChainsPerSender`` per sender
/// so that messages sent just before a rotation still decrypt.
///
/// Membership is authenticated: only an admin of the current roster changes
/// it (through a ``GroupUpdate`` carried by a pairwise session), a member may
/// leave, and a distribution is accepted only from a roster member whose
/// pairwise session presents the identity the roster lists. When a roster
/// drops members, their chains are deleted and this device starts a new
/// chain, which goes to the remaining members only: a removed member, holding
/// all of its state, reads nothing sent afterwards.
///
/// A device that left or was removed keeps the group as a tombstone (no chains,
/// its last revision), so an old invitation cannot bring it back.
public struct GroupSession: Sendable {
    /// The group this state belongs to.
    public let distributionID: DistributionID
    /// This device and the identity it presents in rosters.
    public let localAddress: ProtocolAddress
    /// The identity key this device presents in the group's roster.
    public let localIdentity: IdentityKey.PublicKey
    /// The roster's revision: only a greater one (or an equal one that wins the tie-break) replaces it.
    public internal(set) var revision: UInt32
    /// Roster order (address bytes); lists this device while it is a member.
    public internal(set) var roster: [GroupMember]
    /// Other members that do not hold our current chain yet (it was rotated,
    /// or they joined): send them ``distribution``, then ``markDistributed(to:)``.
    public internal(set) var pendingDistribution: [ProtocolAddress]
    var own: SendingChain
    var senders: [ProtocolAddress: [ReceiverChain]]   // newest first

    /// Creates a group with this device as its admin, at revision 1. Send
    /// ``snapshot`` and then ``distribution`` to every other member.
    public init(distributionID: DistributionID = .random(), local: ProtocolAddress, identity: IdentityKey.PublicKey,
                members: [GroupMember], random: any RandomSource = .system) throws(GroupError) {
        let others = members.filter { $0.address != local }
        let roster = try Self.rosterOrder([GroupMember(address: local, identityKey: identity, isAdmin: true)] + others)
        self.init(distributionID: distributionID, localAddress: local, localIdentity: identity, revision: 1,
                  roster: roster, pending: others.map(\.address).sorted(), own: Self.freshChain(random: random),
                  senders: [:])
    }

    /// Joins a group from an invitation: an update that lists this device (with
    /// its identity), sent by an admin listed in that update over a pairwise
    /// session presenting the identity listed for it.
    public init(invitation u: GroupUpdate, from sender: ProtocolAddress, senderIdentity: IdentityKey.PublicKey,
                local: ProtocolAddress, identity: IdentityKey.PublicKey,
                random: any RandomSource = .system) throws(GroupError) {
        try Self.checkInvitation(u, from: sender, senderIdentity: senderIdentity, local: local, identity: identity)
        self.init(distributionID: u.distributionID, localAddress: local, localIdentity: identity, revision: u.revision,
                  roster: u.members, pending: u.members.map(\.address).filter { $0 != local }.sorted(),
                  own: Self.freshChain(random: random), senders: [:])
    }

    init(distributionID: DistributionID, localAddress: ProtocolAddress, localIdentity: IdentityKey.PublicKey,
         revision: UInt32, roster: [GroupMember], pending: [ProtocolAddress], own: SendingChain,
         senders: [ProtocolAddress: [ReceiverChain]]) {
        self.distributionID = distributionID
        self.localAddress = localAddress
        self.localIdentity = localIdentity
        self.revision = revision
        self.roster = roster
        self.pendingDistribution = pending
        self.own = own
        self.senders = senders
    }

    static func freshChain(random: any RandomSource) -> SendingChain {
        let id = SecureBytes(randomCount: 4, from: random).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        let chainKey = SenderChainKey(bytes: SecureBytes(randomCount: SenderChainKey.byteCount, from: random))
        let signingKey = IdentityKey.PrivateKey(validSeed: SecureBytes(randomCount: IdentityKey.seedByteCount, from: random))
        return SendingChain(chainID: UInt32(littleEndian: id), iteration: 0, chainKey: chainKey, signingKey: signingKey)
    }

    /// The other members, sorted.
    public var members: [ProtocolAddress] { roster.map(\.address).filter { $0 != localAddress }.sorted() }

    /// Whether this device is in the roster (false after leaving or being removed).
    public var isMember: Bool { roster.contains { $0.address == localAddress } }

    /// The roster entry for `address`, or nil if it is not a member.
    public func member(_ address: ProtocolAddress) -> GroupMember? { roster.first { $0.address == address } }

    /// The roster as the update that states it.
    public var snapshot: GroupUpdate { GroupUpdate(unchecked: distributionID, revision, roster) }

    /// Our chain as it stands: what a member must receive (inside a pairwise
    /// session) to read what we send from now on, and nothing earlier.
    public var distribution: SenderKeyDistribution {
        SenderKeyDistribution(distributionID: distributionID, chainID: own.chainID, iteration: own.iteration,
                              chainKey: own.chainKey, signingKey: own.signingKey.publicKey)
    }

    /// Records that `addresses` were sent our current chain.
    public mutating func markDistributed(to addresses: [ProtocolAddress]) {
        pendingDistribution.removeAll { addresses.contains($0) }
    }

    // MARK: Sending

    /// One message for every member: AEAD_v1 under the next chain key, signed.
    public mutating func encrypt(_ plaintext: [UInt8], random: any RandomSource = .system) throws(GroupError) -> [UInt8] {
        guard isMember else { throw .notInGroup }
        guard plaintext.count <= Limits.defaultMaxPlaintext else {
            throw .malformed(.tooLarge(size: plaintext.count, max: Limits.defaultMaxPlaintext))
        }
        guard own.iteration < UInt32.max else { throw .chainExhausted }
        let mk = own.chainKey.next()
        let iteration = own.iteration
        own.iteration += 1
        let signingKey = own.signingKey
        do {
            return try SenderKeyMessage.write(
                distributionID: distributionID, chainID: own.chainID, iteration: iteration, plaintextCount: plaintext.count,
                seal: { (ad) throws(CryptoError) in
                    try AEADv1.seal(plaintext, using: mk, authenticating: ad, reuseGuard: random.makeReuseGuard())
                },
                sign: { signingKey.signature(for: $0) })
        } catch {
            throw .malformed(.tooLarge(size: plaintext.count, max: Limits.defaultMaxPlaintext))
        }
    }

    // MARK: Membership

    /// Starts a new sending chain (drawn from `random`); every other member
    /// needs its distribution. Returns it.
    @discardableResult
    public mutating func rotate(random: any RandomSource = .system) -> SenderKeyDistribution {
        own = Self.freshChain(random: random)
        pendingDistribution = members
        return distribution
    }

    // MARK: Receiving

    /// Stores a member's chain from their distribution, delivered through the
    /// pairwise session with `sender` that presents `identity`. Refused unless
    /// the sender is in the roster with that identity, and for a chain id or
    /// signing key that belongs to another sender (or to us). A distribution for
    /// a chain we already hold never moves that chain backwards.
    public mutating func process(_ d: SenderKeyDistribution, from sender: ProtocolAddress,
                                 identity: IdentityKey.PublicKey) throws(GroupError) {
        guard d.distributionID == distributionID else { throw .wrongGroup(d.distributionID) }
        guard isMember else { throw .notInGroup }
        guard sender != localAddress, member(sender)?.identityKey == identity else { throw .notAMember(sender) }
        guard d.chainID != own.chainID, d.signingKey != own.signingKey.publicKey,
              !senders.contains(where: { address, chains in
                  address != sender && chains.contains { $0.chainID == d.chainID || $0.signingKey == d.signingKey }
              }) else {
            throw .chainClaimed(chainID: d.chainID)
        }
        var chains = senders[sender] ?? []
        if let i = chains.firstIndex(where: { $0.chainID == d.chainID }) {
            guard chains[i].signingKey == d.signingKey else { throw .invalidSignature }
            return   // already known; a replayed distribution must not rewind the chain
        }
        chains.insert(ReceiverChain(chainID: d.chainID, signingKey: d.signingKey, iteration: d.iteration,
                                    chainKey: d.chainKey), at: 0)
        if chains.count > Limits.maxChainsPerSender { chains.removeLast(chains.count - Limits.maxChainsPerSender) }
        senders[sender] = chains
    }

    /// Decrypts one message from `sender`: the signature is verified before
    /// any state is touched; a failure leaves the group exactly as it was.
    public mutating func decrypt(_ bytes: [UInt8], from sender: ProtocolAddress) throws(GroupError) -> [UInt8] {
        let m: SenderKeyMessage
        do { m = try SenderKeyMessage(serialized: bytes) } catch { throw .malformed(error) }
        guard m.distributionID == distributionID else { throw .wrongGroup(m.distributionID) }
        guard var chains = senders[sender], let c = chains.firstIndex(where: { $0.chainID == m.chainID }) else {
            throw .noSenderKey(sender, chainID: m.chainID)
        }
        guard Self.verify(m, with: chains[c].signingKey) else { throw .invalidSignature }
        var chain = chains[c]
        let mk = try chain.key(for: m.iteration)
        guard let plaintext = Self.open(m, with: mk) else { throw .authenticationFailure }
        chains[c] = chain
        senders[sender] = chains
        return plaintext
    }

    static func verify(_ m: SenderKeyMessage, with key: IdentityKey.PublicKey) -> Bool {
        key.isValidSignature(Array(m.signature), for: Array(m.bytes[m.signedRange]))
    }

    static func open(_ m: SenderKeyMessage, with mk: MessageKey) -> [UInt8]? {
        m.bytes.withUnsafeBufferPointer { all in
            try? AEADv1.open(sealed: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[m.sealedRange])), using: mk,
                             authenticating: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[0..<SenderKeyMessage.headerByteCount])))
        }
    }
}

extension ReceiverChain {
    /// The key for `iteration`, consuming it: from the skipped keys if it is
    /// behind the chain, else by moving the chain on (storing what it skips).
    mutating func key(for iteration: UInt32) throws(GroupError) -> MessageKey {
        if iteration < self.iteration {
            guard let i = skipped.firstIndex(where: { $0.iteration == iteration }) else {
                throw .duplicate(iteration: iteration)
            }
            return skipped.remove(at: i).key
        }
        let jump = iteration - self.iteration
        // The sender never uses iteration 2^32 - 1 (its chain ends before it).
        guard jump <= Limits.maxSenderKeyJump, iteration < UInt32.max else {
            throw .tooFarAhead(got: jump, max: Limits.maxSenderKeyJump)
        }
        var keys: [MessageKey]
        do { keys = try chainKey.messageKeys(count: Int(jump) + 1) } catch { throw .authenticationFailure }
        let mk = keys.removeLast()
        let first = self.iteration
        storeSkipped(keys.enumerated().map { (first + UInt32($0.offset), $0.element) })
        self.iteration = iteration &+ 1
        return mk
    }
}
