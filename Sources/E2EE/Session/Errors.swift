/// Why a session could not be set up (either side).
public enum SessionSetupError: Error, Equatable, Sendable {
    /// The bundle bytes did not parse.
    case invalidBundle(WireError)
    /// A bundle signature did not verify: no session, nothing computed.
    case invalidSignature
    /// A Diffie-Hellman gave the all-zero result.
    case weakKey
    /// The PreKeyMessage names a signed prekey this account does not hold.
    case unknownSignedPreKey(SignedPreKeyID)
    /// The PreKeyMessage names a one-time prekey that is unknown or already used.
    case unknownOneTimePreKey(PreKeyID)
    /// The first message did not decrypt: nothing was created or consumed.
    case firstMessageRejected(DecryptError)
    /// The message is not a PreKeyMessage.
    case notAPreKeyMessage
    /// A first message whose base key `EK_A` this account already accepted (at
    /// any address, PROTOCOL.md §2): a replay. No session, nothing delivered.
    case baseKeyAlreadyAccepted
    /// A classical setup was refused: a bundle without a KEM prekey, or a
    /// classical PreKeyMessage (type 0x02). PQXDH is required (PROTOCOL.md
    /// §2b) unless the caller explicitly allows classical setup
    /// (`allowClassical`); nothing was computed or changed.
    case postQuantumRequired
    /// The PQPreKeyMessage names a KEM prekey this account does not hold (an
    /// unknown id, or a one-time KEM prekey already used).
    case unknownKEMPreKey(KEMPreKeyID)
}

/// Why a message was not decrypted. In every case the session is unchanged.
public enum DecryptError: Error, Equatable, Sendable {
    case malformed(WireError)
    /// Tampered, forged, or for another session.
    case authenticationFailure
    /// The message key was already used or evicted: a replay or a very late message.
    case duplicate(index: UInt32)
    /// The header asks to skip more than ``Limits/maxSkip`` keys.
    case tooFarAhead(got: UInt32, max: UInt32)
    /// A PreKeyMessage for this session carries other setup fields than the session was made with.
    case setupMismatch
    /// No session for this message (for example a RatchetMessage from an unknown peer).
    case noSession
    /// The session has no receiving chain or key material for this message yet.
    case invalidState(String)
}

/// Why a message could not be encrypted.
public enum EncryptError: Error, Equatable, Sendable {
    case plaintextTooLarge(size: Int, max: Int)
    /// The sending chain is exhausted (2^32 messages without a reply).
    case counterExhausted
    /// The recipient side has no sending chain before it received a message.
    case noSendingChain
    /// An injected ``RandomSource`` returned a guard that is not 4 bytes.
    case invalidReuseGuard
}
