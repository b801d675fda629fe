/// A message key kept for a message that has not arrived yet.
struct SkippedKey: Sendable {
    let ratchetKey: X25519.PublicKey
    let counter: UInt32
    let key: MessageKey
}

/// The Double Ratchet state of one session (PROTOCOL.md §3). It knows nothing
/// of stores, wire prefixes or identities: it turns plaintext into a header and
/// sealed bytes and back, given the session's associated data.
///
/// Decryption works on a copy and the caller's state is replaced only on
/// success, so a failed decryption leaves it exactly as it was.
struct RatchetState: Sendable {
    var rootKey: RootKey
    var sendingRatchetKey: X25519.PrivateKey
    var sendingChain: ChainKey?
    var sendCounter: UInt32 = 0
    var previousCounter: UInt32 = 0
    var receivingRatchetKey: X25519.PublicKey?
    var receivingChain: ChainKey?
    var receiveCounter: UInt32 = 0
    /// Oldest first; bounded by ``Limits/maxStoredSkippedKeys``.
    var skipped: [SkippedKey] = []
    /// Remote ratchet keys whose chains are gone, newest last.
    var previousRatchetKeys: [X25519.PublicKey] = []

    /// Initiator: `DHs` fresh, `DHr = SPK_B`, `(RK, CKs) = KDF_RK(SK, DH(DHs, SPK_B))`.
    static func initiator(sharedKey: SecureBytes, remoteSignedPreKey: X25519.PublicKey,
                          ratchetKey: X25519.PrivateKey) throws(SessionSetupError) -> RatchetState {
        let dh: SharedSecret
        do { dh = try ratchetKey.sharedSecret(with: remoteSignedPreKey) } catch { throw .weakKey }
        let (rk, cks) = RootKey(bytes: sharedKey).advanced(with: dh)
        return RatchetState(rootKey: rk, sendingRatchetKey: ratchetKey, sendingChain: cks,
                            receivingRatchetKey: remoteSignedPreKey)
    }

    /// Recipient: `DHs = SPK_B`, `RK = SK`; its chains start with the first message.
    static func recipient(sharedKey: SecureBytes, signedPreKey: X25519.PrivateKey) -> RatchetState {
        RatchetState(rootKey: RootKey(bytes: sharedKey), sendingRatchetKey: signedPreKey)
    }

    // MARK: Sending

    /// The header and key for the next outgoing message; moves the sending chain on.
    mutating func nextSendingKey() throws(EncryptError) -> (MessageHeader, MessageKey) {
        guard var chain = sendingChain else { throw .noSendingChain }
        guard sendCounter < UInt32.max else { throw .counterExhausted }
        sendingChain = nil  // keep the chain key uniquely referenced so it steps in place
        let mk = chain.next()
        sendingChain = chain
        let header = MessageHeader(ratchetKey: sendingRatchetKey.publicKey, previousCounter: previousCounter,
                                   counter: sendCounter)
        sendCounter += 1
        return (header, mk)
    }

    // MARK: Receiving

    /// Decrypts `payload` with `ad = AD || Encode(H)`. On any error `self` is untouched.
    mutating func decrypt(_ payload: RatchetPayload, associatedData: [UInt8],
                          random: any RandomSource) throws(DecryptError) -> [UInt8] {
        var next = self
        let plaintext = try next.decryptInPlace(payload, associatedData: associatedData, random: random)
        self = next
        return plaintext
    }

    private mutating func decryptInPlace(_ payload: RatchetPayload, associatedData: [UInt8],
                                         random: any RandomSource) throws(DecryptError) -> [UInt8] {
        let h = payload.header
        if h.ratchetKey == receivingRatchetKey, receivingChain != nil {
            if h.counter < receiveCounter {
                guard let mk = takeSkipped(h) else { throw .duplicate(index: h.counter) }
                return try open(payload, with: mk, associatedData: associatedData)
            }
            let mk = try advanceReceiving(to: h.counter)
            return try open(payload, with: mk, associatedData: associatedData)
        }
        if let mk = takeSkipped(h) {
            return try open(payload, with: mk, associatedData: associatedData)
        }
        if previousRatchetKeys.contains(h.ratchetKey) {
            throw .duplicate(index: h.counter)
        }
        // A new remote ratchet key: bound both skips before any work is done.
        if receivingChain != nil, h.previousCounter > receiveCounter,
           h.previousCounter - receiveCounter > Limits.maxSkip {
            throw .tooFarAhead(got: h.previousCounter - receiveCounter, max: Limits.maxSkip)
        }
        guard h.counter <= Limits.maxSkip else { throw .tooFarAhead(got: h.counter, max: Limits.maxSkip) }
        if receivingChain != nil {
            try skipReceiving(until: h.previousCounter)
        }
        try ratchetStep(remote: h.ratchetKey, random: random)
        let mk = try advanceReceiving(to: h.counter)
        return try open(payload, with: mk, associatedData: associatedData)
    }

    /// Removes and returns the stored key for `h`, if any (this copy of the
    /// state is committed only if the message then authenticates).
    private mutating func takeSkipped(_ h: MessageHeader) -> MessageKey? {
        guard let i = skipped.firstIndex(where: { $0.counter == h.counter && $0.ratchetKey == h.ratchetKey }) else {
            return nil
        }
        return skipped.remove(at: i).key
    }

    /// Stores the keys for `receiveCounter..<counter` and returns the key for `counter`.
    private mutating func advanceReceiving(to counter: UInt32) throws(DecryptError) -> MessageKey {
        let gap = counter - receiveCounter
        guard gap <= Limits.maxSkip else { throw .tooFarAhead(got: gap, max: Limits.maxSkip) }
        guard var chain = receivingChain, let remote = receivingRatchetKey else {
            throw .invalidState("no receiving chain")
        }
        receivingChain = nil
        let mk: MessageKey
        if gap == 0 {
            mk = chain.next()
        } else {
            var keys: [MessageKey]
            do { keys = try chain.messageKeys(count: Int(gap) + 1) } catch { throw .invalidState("chain advance") }
            mk = keys.removeLast()
            storeSkipped(keys, remote: remote, from: receiveCounter)
        }
        receivingChain = chain
        receiveCounter = counter &+ 1
        if counter == UInt32.max { receivingChain = nil }  // the chain cannot go further
        return mk
    }

    /// Stores the keys of the current receiving chain up to `until` (exclusive).
    private mutating func skipReceiving(until: UInt32) throws(DecryptError) {
        guard until > receiveCounter, var chain = receivingChain, let remote = receivingRatchetKey else { return }
        let gap = until - receiveCounter
        guard gap <= Limits.maxSkip else { throw .tooFarAhead(got: gap, max: Limits.maxSkip) }
        receivingChain = nil
        let keys: [MessageKey]
        do { keys = try chain.messageKeys(count: Int(gap)) } catch { throw .invalidState("chain advance") }
        storeSkipped(keys, remote: remote, from: receiveCounter)
        receivingChain = chain
        receiveCounter = until
    }

    private mutating func storeSkipped(_ keys: [MessageKey], remote: X25519.PublicKey, from first: UInt32) {
        skipped.reserveCapacity(skipped.count + keys.count)
        for (i, k) in keys.enumerated() {
            skipped.append(SkippedKey(ratchetKey: remote, counter: first + UInt32(i), key: k))
        }
        if skipped.count > Limits.maxStoredSkippedKeys {
            skipped.removeFirst(skipped.count - Limits.maxStoredSkippedKeys)
        }
    }

    /// The DH ratchet: a receiving chain for `remote`, then a new sending key and chain.
    private mutating func ratchetStep(remote: X25519.PublicKey, random: any RandomSource) throws(DecryptError) {
        // The initiator's first DHr is the signed prekey, which never carried a chain.
        if let old = receivingRatchetKey, receivingChain != nil {
            previousRatchetKeys.append(old)
            if previousRatchetKeys.count > Limits.maxPreviousRatchetKeys {
                previousRatchetKeys.removeFirst(previousRatchetKeys.count - Limits.maxPreviousRatchetKeys)
            }
        }
        previousCounter = sendCounter
        sendCounter = 0
        receiveCounter = 0
        receivingRatchetKey = remote
        do {
            let (rk1, ckr) = rootKey.advanced(with: try sendingRatchetKey.sharedSecret(with: remote))
            let newKey = random.makePrivateKey()
            let (rk2, cks) = rk1.advanced(with: try newKey.sharedSecret(with: remote))
            rootKey = rk2
            receivingChain = ckr
            sendingChain = cks
            sendingRatchetKey = newKey
        } catch {
            throw .authenticationFailure  // a low-order ratchet key cannot come from an honest peer
        }
    }

    private func open(_ payload: RatchetPayload, with mk: MessageKey,
                      associatedData: [UInt8]) throws(DecryptError) -> [UInt8] {
        var ad = associatedData
        ad.reserveCapacity(associatedData.count + MessageHeader.byteCount)
        ad.append(contentsOf: payload.bytes[payload.headerRange])
        let plaintext = payload.bytes.withUnsafeBufferPointer { all in
            ad.withUnsafeBufferPointer { a in
                try? AEADv1.open(sealed: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[payload.sealedRange])),
                                 using: mk, authenticating: UnsafeRawBufferPointer(a))
            }
        }
        guard let plaintext else { throw .authenticationFailure }
        return plaintext
    }
}
