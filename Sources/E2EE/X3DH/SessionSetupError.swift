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
