/// Why a message was not decrypted. In every case the session is unchanged.
public enum DecryptError: Error, Equatable, Sendable {
    /// The message did not parse.
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
    /// The plaintext is longer than the limit the caller set.
    case plaintextTooLarge(size: Int, max: Int)
    /// The sending chain is exhausted (2^32 messages without a reply).
    case counterExhausted
    /// The recipient side has no sending chain before it received a message.
    case noSendingChain
    /// An injected ``RandomSource`` returned a guard that is not 4 bytes.
    case invalidReuseGuard
    /// The DH ratchet's sending half failed: the remote ratchet key gives an
    /// all-zero DH. A key that authenticated a message cannot; a state read
    /// from a damaged record could.
    case invalidRatchetKey
}
