internal import CE2EE
#if DEBUG
/// Counts the costly steps of decryption while a test holds one in
/// ``RatchetWork/current``, so that tests can bound the work a forged message
/// causes without timing anything. Compiled out of release builds.
final class RatchetWork: @unchecked Sendable {
    var diffieHellmans = 0
    var chainSteps = 0
    var storedKeys = 0
    @TaskLocal static var current: RatchetWork?
}
#endif

/// Adds to the current ``RatchetWork`` (debug builds only).
@inline(__always)
func meterRatchetWork(dh: Int = 0, steps: Int = 0, stored: Int = 0) {
    #if DEBUG
    if let w = RatchetWork.current {
        w.diffieHellmans += dh
        w.chainSteps += steps
        w.storedKeys += stored
    }
    #endif
}

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

    /// As ``nextSendingKey(random:)``, writing the message key to `mk` (32
    /// bytes of the caller's, which wipes them) instead of a new allocation.
    mutating func nextSendingKey(into mk: UnsafeMutableRawPointer, random: any RandomSource) throws(EncryptError) -> MessageHeader {
        guard sendCounter < UInt32.max else { throw .counterExhausted }
        if let remote = pendingSendingStep {
            try completeSendingStep(remote: remote, random: random)
        }
        guard var chain = sendingChain else { throw .noSendingChain }
        sendingChain = nil  // keep the chain key uniquely referenced so it steps in place
        let rc = chain.bytes.withUnsafeMutableBytes { ck in e2ee_kdf_ck(ck.baseAddress, mk, ck.baseAddress) }
        sendingChain = chain
        precondition(rc == 0, "KDF_CK fails only on NULL pointers")
        let header = MessageHeader(ratchetKey: sendingRatchetKey.publicKey, previousCounter: previousCounter,
                                   counter: sendCounter)
        sendCounter += 1
        return header
    }

    /// The header and key for the next outgoing message; moves the sending chain on.
    /// The first send after a new remote ratchet key completes that DH ratchet
    /// step (a new key pair and `KDF_RK`): see ``ratchetStep(remote:rootKey:receivingChain:)``.
    mutating func nextSendingKey(random: any RandomSource) throws(EncryptError) -> (MessageHeader, MessageKey) {
        var header: MessageHeader?
        let mk = try SecureBytes(count: MessageKey.byteCount) { (out) throws(EncryptError) in
            header = try nextSendingKey(into: out.baseAddress!, random: random)
        }
        return (header!, MessageKey(bytes: mk))
    }

    // MARK: Receiving

    /// Decrypts `payload` with `ad = AD || Encode(H)`. On any error `self` is untouched.
    mutating func decrypt(_ payload: RatchetPayload, associatedData: [UInt8],
                          random: any RandomSource) throws(DecryptError) -> [UInt8] {
        let h = payload.header
        // The common case, the next message on the current receiving chain,
        // needs no copy of the state: nothing is written unless it
        // authenticates, and then only the chain key and the counter.
        if h.counter == receiveCounter, receivingChain != nil, h.hasRatchetKey(receivingRatchetKey) {
            meterRatchetWork(steps: 1)
            var chain = receivingChain!
            receivingChain = nil   // uniquely referenced: the step is written in place
            let plaintext = openNext(payload, on: &chain, associatedData: associatedData)
            guard let plaintext else {
                receivingChain = chain   // unchanged
                throw .authenticationFailure
            }
            receivingChain = h.counter == UInt32.max ? nil : chain   // the chain cannot go further
            receiveCounter = h.counter &+ 1
            return plaintext
        }
        var next = self
        let plaintext = try next.decryptInPlace(payload, associatedData: associatedData, random: random)
        self = next
        return plaintext
    }

    /// Only a message that authenticates pays for more than one X25519 and
    /// its chain steps: the message key is found without storing anything
    /// (``ChainKey/seek(_:)``), the tag is checked, and only then are skipped
    /// keys stored, and for a new ratchet key the new key pair made and the
    /// second Diffie-Hellman computed. So a forged message costs at most one
    /// X25519 and MAX_SKIP + 1 chain steps, and allocates nothing per key.
    private mutating func decryptInPlace(_ payload: RatchetPayload, associatedData: [UInt8],
                                         random: any RandomSource) throws(DecryptError) -> [UInt8] {
        let h = payload.header
        if h.ratchetKey == receivingRatchetKey, let chain = receivingChain {
            if h.counter < receiveCounter {
                guard let mk = takeSkipped(h) else { throw .duplicate(index: h.counter) }
                return try open(payload, with: mk, associatedData: associatedData)
            }
            let gap = h.counter - receiveCounter
            guard gap <= Limits.maxSkip else { throw .tooFarAhead(got: gap, max: Limits.maxSkip) }
            meterRatchetWork(steps: Int(gap) + 1)
            let (after, mk) = chain.seek(gap)
            let plaintext = try open(payload, with: mk, associatedData: associatedData)
            try moveReceiving(to: h.counter, chainAfter: after)
            return plaintext
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
        // A peer makes a new ratchet key only on receiving one of ours; we have
        // sent nothing since its last one, so a newer key is forged. Refused
        // before any Diffie-Hellman.
        if pendingSendingStep != nil { throw .authenticationFailure }
        let (rootKeyAfter, newChain) = try receivingStep(remote: h.ratchetKey)
        meterRatchetWork(dh: 1, steps: Int(h.counter) + 1)
        let (after, mk) = newChain.seek(h.counter)
        let plaintext = try open(payload, with: mk, associatedData: associatedData)
        // Genuine: now the old chain's skipped keys, the new sending side, the new chain's skipped keys.
        if receivingChain != nil {
            try skipReceiving(until: h.previousCounter)
        }
        ratchetStep(remote: h.ratchetKey, rootKey: rootKeyAfter, receivingChain: newChain)
        try moveReceiving(to: h.counter, chainAfter: after)
        return plaintext
    }

    /// Whether this state holds a chain, skipped keys or a record of the remote
    /// ratchet key `key`: a message under it can only belong here.
    func knows(ratchetKey key: X25519.PublicKey) -> Bool {
        if key == receivingRatchetKey || previousRatchetKeys.contains(key) { return true }
        // Skipped keys come in runs that share one key (one buffer): compare once per run.
        var last: X25519.PublicKey?
        for s in skipped where s.ratchetKey != last {
            if s.ratchetKey == key { return true }
            last = s.ratchetKey
        }
        return false
    }

    /// Whether the peer can have stepped the DH ratchet onto this state with
    /// `h`: it must have received a message under our current sending key (we
    /// sent one), and `PN` counts its previous chain, our receiving one, so it
    /// is at least what we received of it and at most MAX_SKIP more (0 while we
    /// await the first reply: the recipient's first chain follows none). Cheap
    /// checks that let a session set give one session, not all, the one
    /// Diffie-Hellman a message with an unknown ratchet key costs.
    func couldBeSteppedBy(_ h: MessageHeader) -> Bool {
        guard sendCounter > 0 else { return false }
        // Still awaiting the first reply: the recipient's first chain has PN = 0.
        guard receivingChain != nil else { return h.previousCounter == 0 }
        return h.previousCounter >= receiveCounter && h.previousCounter - receiveCounter <= Limits.maxSkip
    }

    /// Removes and returns the stored key for `h`, if any (this copy of the
    /// state is committed only if the message then authenticates).
    private mutating func takeSkipped(_ h: MessageHeader) -> MessageKey? {
        guard let i = skipped.firstIndex(where: { $0.counter == h.counter && $0.ratchetKey == h.ratchetKey }) else {
            return nil
        }
        return skipped.remove(at: i).key
    }

    /// After a message at `counter` authenticated: stores the keys for
    /// `receiveCounter..<counter` (derived again from the receiving chain) and
    /// moves the chain to `chainAfter`, the chain after `counter`.
    private mutating func moveReceiving(to counter: UInt32, chainAfter: ChainKey) throws(DecryptError) {
        guard var chain = receivingChain, let remote = receivingRatchetKey else {
            throw .invalidState("no receiving chain")
        }
        let gap = counter - receiveCounter
        if gap > 0 {
            receivingChain = nil
            let keys: [MessageKey]
            do { keys = try chain.messageKeys(count: Int(gap)) } catch { throw .invalidState("chain advance") }
            storeSkipped(keys, remote: remote, from: receiveCounter)
        }
        receivingChain = counter == UInt32.max ? nil : chainAfter   // the chain cannot go further
        receiveCounter = counter &+ 1
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
        meterRatchetWork(steps: keys.count, stored: keys.count)
        skipped.reserveCapacity(skipped.count + keys.count)
        for (i, k) in keys.enumerated() {
            skipped.append(SkippedKey(ratchetKey: remote, counter: first + UInt32(i), key: k))
        }
        if skipped.count > Limits.maxStoredSkippedKeys {
            skipped.removeFirst(skipped.count - Limits.maxStoredSkippedKeys)
        }
    }

    /// `KDF_RK(RK, DH(DHs, remote))`: the root key and receiving chain a new
    /// remote ratchet key would give, with `self` unchanged (one X25519).
    private func receivingStep(remote: X25519.PublicKey) throws(DecryptError) -> (RootKey, ChainKey) {
        do { return rootKey.advanced(with: try sendingRatchetKey.sharedSecret(with: remote)) } catch {
            throw .authenticationFailure  // a low-order ratchet key cannot come from an honest peer
        }
    }

    /// The DH ratchet's first half, once the message under `remote`
    /// authenticated: the root key and receiving chain from
    /// ``receivingStep(remote:)``. The second half — a new sending key pair and
    /// `(RK, CKs) = KDF_RK(RK, DH(DHs, remote))` — waits for the first send
    /// (``nextSendingKey(random:)``), as in Olm: a receiver that never replies
    /// never pays for it, and the bytes on the wire are the same. Until then
    /// there is no sending chain; an honest peer sends no newer ratchet key
    /// before it has a message under our new one.
    private mutating func ratchetStep(remote: X25519.PublicKey, rootKey rk1: RootKey, receivingChain ckr: ChainKey) {
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
        rootKey = rk1
        receivingChain = ckr
        sendingChain = nil
    }

    /// The remote ratchet key whose sending half is still to do: set after a
    /// receiving step until the next send (a fresh recipient, which has no
    /// remote key yet, and an initiator, which starts with a chain, have none).
    var pendingSendingStep: X25519.PublicKey? {
        sendingChain == nil ? receivingRatchetKey : nil
    }

    /// The DH ratchet's second half: a new sending key pair and chain. The
    /// remote key already gave a non-zero DH in ``receivingStep(remote:)``, so
    /// this one cannot fail for a low-order key; `self` is untouched on error.
    mutating func completeSendingStep(remote: X25519.PublicKey, random: any RandomSource) throws(EncryptError) {
        let newKey = random.makePrivateKey()
        meterRatchetWork(dh: 1)
        let dh: SharedSecret
        do { dh = try newKey.sharedSecret(with: remote) } catch { throw .invalidRatchetKey }
        let (rk2, cks) = rootKey.advanced(with: dh)
        rootKey = rk2
        sendingChain = cks
        sendingRatchetKey = newKey
    }

    /// `KDF_CK` into stack memory (wiped after), then ``openSealed(_:key:associatedData:)``
    /// with that message key: the plaintext, and `chain` moved on, only if the
    /// message authenticated (else nil and `chain` untouched).
    private func openNext(_ payload: RatchetPayload, on chain: inout ChainKey, associatedData: [UInt8]) -> [UInt8]? {
        withUnsafeTemporaryAllocation(byteCount: 2 * ChainKey.byteCount, alignment: 16) { tmp in
            let nextChain = tmp.baseAddress!, mk = tmp.baseAddress! + ChainKey.byteCount
            defer { e2ee_memzero(nextChain, 2 * ChainKey.byteCount) }
            guard chain.bytes.withUnsafeBytes({ e2ee_kdf_ck(nextChain, mk, $0.baseAddress) }) == 0,
                  let plaintext = Self.openSealed(payload, key: UnsafeRawPointer(mk), associatedData: associatedData)
            else { return nil }
            chain.bytes.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: nextChain, byteCount: ChainKey.byteCount) }
            return plaintext
        }
    }

    private func open(_ payload: RatchetPayload, with mk: MessageKey,
                      associatedData: [UInt8]) throws(DecryptError) -> [UInt8] {
        // `mk` is a borrowed argument, alive for the whole call: its pointer stays valid.
        guard let plaintext = Self.openSealed(payload, key: mk.keyPointer, associatedData: associatedData) else {
            throw .authenticationFailure
        }
        return plaintext
    }

    /// `AEAD_v1` open of the payload's sealed part with `ad = AD || Encode(H)`
    /// assembled on the stack; the plaintext is the only allocation. Inlined:
    /// as a call it cost the in-order path about 40 ns of its 1.1 µs.
    @inline(__always)
    private static func openSealed(_ payload: RatchetPayload, key: UnsafeRawPointer, associatedData: [UInt8]) -> [UInt8]? {
        let adCount = associatedData.count + MessageHeader.byteCount
        return withUnsafeTemporaryAllocation(byteCount: adCount, alignment: 16) { tmp in
            let ad = tmp.baseAddress!
            associatedData.withUnsafeBytes { a in
                if let from = a.baseAddress { ad.copyMemory(from: from, byteCount: a.count) }
            }
            return payload.bytes.withUnsafeBytes { all -> [UInt8]? in
                (ad + associatedData.count).copyMemory(from: all.baseAddress! + payload.headerRange.lowerBound,
                                                       byteCount: MessageHeader.byteCount)
                let sealed = UnsafeRawBufferPointer(rebasing: all[payload.sealedRange])
                guard sealed.count >= AEADv1.overhead else { return nil }
                let n = sealed.count - AEADv1.overhead
                var rc: Int32 = -1
                let plaintext = [UInt8](writing: n) { out in
                    rc = e2ee_aead_open(out.baseAddress, n, sealed.baseAddress, sealed.count, UnsafeRawPointer(ad), adCount, key)
                }
                return rc == 0 ? plaintext : nil
            }
        }
    }
}
