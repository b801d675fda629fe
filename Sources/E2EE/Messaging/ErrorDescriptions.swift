// Descriptions for every public error type: `code: explanation` on one line.
//
// `code` is the case as Swift source spells it, payload included
// (`duplicate(index: 0)`, `sealedRecordRejected(kind: "keycheck")`): exactly
// what `String(describing:)` printed before the types had descriptions, less
// type prefixes. Scripts, logs and the CLI's suites match on it, so it stays
// stable; the explanation is for people and may be reworded.
//
// They live on this floor, the top one, because a wrapper's description
// borrows the explanation of the error inside it, and only Messaging may name
// every type (scripts/layercheck.py).

/// A public error type with a stable ``code`` and an explanation for people.
protocol ExplainedError: Error, CustomStringConvertible {
    var code: String { get }
    /// What happened, whether anything changed, and what to do.
    var explanation: String { get }
}

/// The shared rendering of codes and descriptions.
enum ErrorText {
    /// `name` with the payload of `error`'s case, as Swift's default printing
    /// spells it: a tuple's labels kept (positional `.0` ones dropped), strings
    /// quoted, a nested error of ours by its code. `name` comes from a switch
    /// because a case without payload has no child to read it from.
    static func code(_ name: String, of error: some Error) -> String {
        guard let payload = Mirror(reflecting: error).children.first?.value else { return name }
        let parts = Mirror(reflecting: payload)
        guard parts.displayStyle == .tuple else { return "\(name)(\(render(payload)))" }
        let items = parts.children.map { child -> String in
            guard let label = child.label, !label.hasPrefix(".") else { return render(child.value) }
            return "\(label): \(render(child.value))"
        }
        return "\(name)(\(items.joined(separator: ", ")))"
    }

    private static func render(_ value: Any) -> String {
        if let error = value as? any ExplainedError { return error.code }
        if let text = value as? String { return String(reflecting: text) }
        return String(describing: value)
    }

    static func line(_ error: some ExplainedError) -> String {
        "\(error.code): \(error.explanation)"
    }
}

extension MessagingError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .noAccount:
            ("noAccount", "the store holds no account; nothing changed. Create one with SessionManager.createAccount(store:identity:now:) first.")
        case .noSession:
            ("noSession", "there is no session with (or trusted identity for) this device; nothing changed. Fetch its prekey bundle and start a session with startSession(with:bundle:) first.")
        case .sessionExpired:
            ("sessionExpired", "the session with this device never got a reply within Limits.maxUnacknowledgedSessionAge, so it is not used to send; nothing changed. Fetch a fresh bundle and start a new session.")
        case .untrustedIdentity:
            ("untrustedIdentity", "this device presents another identity key than the one trusted for it; nothing was decrypted, sent or changed. Compare safety numbers with its owner out of band and call acceptIdentity(_:for:) only if they match.")
        case .setup(let e): ("setup", e.explanation)
        case .decrypt(let e): ("decrypt", e.explanation)
        case .encrypt(let e): ("encrypt", e.explanation)
        case .storage(let e): ("storage", e.explanation)
        case .unknownGroup:
            ("unknownGroup", "this device holds no state for the group; nothing changed. Create or join the group, or wait for a member's sender-key distribution.")
        case .notAMember:
            ("notAMember", "the address is not a member of the group; nothing changed. Check the address, or add it to the group first.")
        case .group(let e): ("group", e.explanation)
        case .reservedPlaintext:
            ("reservedPlaintext", "the plaintext starts with bytes reserved for group updates and distributions (0x01 0x04 or 0x01 0x06); nothing was sent or changed. Encode application data so that it cannot start with them.")
        case .rejectedByPolicy:
            ("rejectedByPolicy", "the content policy refused this plaintext for the reason given; nothing was encrypted or changed. Change the message, or the policy.")
        }
    }
}

extension ReceiveError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .setup(let e): ("setup", e.explanation)
        case .decrypt(let e): ("decrypt", e.explanation)
        }
    }
}

extension GroupError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .malformed(let e): ("malformed", e.explanation)
        case .wrongGroup:
            ("wrongGroup", "the message or distribution is for another group than the one it was given to; nothing changed. Route group messages by their distribution id.")
        case .noSenderKey:
            ("noSenderKey", "there is no chain from this sender with this chain id (never distributed, rotated out, or the sender was removed); nothing changed. Ask the sender to send its distribution again, or drop the message if the sender was removed.")
        case .invalidSignature:
            ("invalidSignature", "the group message's signature did not verify against the sender's signing key; nothing changed (it is checked before any state is touched). Drop it: it was forged or damaged.")
        case .duplicate:
            ("duplicate", "this group message was already received, or arrived after its key was discarded; nothing changed. It is a redelivery, a replay or a very late message: drop it.")
        case .tooFarAhead:
            ("tooFarAhead", "the message is further ahead of the sender's chain than Limits.maxSenderKeyJump allows, so no keys were derived; nothing changed. Drop it; if that many messages were really lost, ask the sender for a new distribution.")
        case .authenticationFailure:
            ("authenticationFailure", "the group message's signature verified but its ciphertext did not decrypt: the sender's client signed a broken message. Nothing changed; drop it and tell the sender.")
        case .chainExhausted:
            ("chainExhausted", "this device's sending chain in the group has used all 2^32 iterations; nothing was sent. Rotate the sender key (a new distribution), then send again.")
        case .notAMember:
            ("notAMember", "the address (a sender, or a member to remove) is not in the group's roster, or its pairwise session presents another identity than the roster lists for it; nothing changed. Check the address; drop a message from it, or apply a pending group update first if the roster is out of date.")
        case .notAnAdmin:
            ("notAnAdmin", "the roster change is by a member who is not an admin (this device, or the sender of an update); nothing changed. Only admins add or remove members: ask an admin to make the change.")
        case .staleRevision:
            ("staleRevision", "a roster update older than the roster held (or as old, losing the tie-break) was not applied; nothing changed. Nothing to do: the newer roster stands.")
        case .chainClaimed:
            ("chainClaimed", "a distribution claims a chain id or signing key already held for another sender; it was refused and nothing changed. Drop it: it is forged or replayed by another member.")
        case .notInGroup:
            ("notInGroup", "this device is not, or no longer, a member of the group; nothing changed. Ask an admin to add it again.")
        case .invalidRoster:
            ("invalidRoster", "the roster change cannot be made, for the reason given; nothing changed. Change the request if it is this device's own (an admin leaves with leaveGroup, the last member cannot leave); drop it if it came in an update.")
        }
    }
}

extension SessionSetupError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .invalidBundle:
            ("invalidBundle", "the prekey bundle did not parse, so no session was started and nothing changed. Fetch the bundle again; if it keeps failing, the server or the peer's client is broken.")
        case .invalidSignature:
            ("invalidSignature", "a prekey signature in the bundle did not verify against its identity key; no session was started and nothing was computed. Fetch the bundle again; if it still fails, the server may be tampering with it.")
        case .weakKey:
            ("weakKey", "a Diffie-Hellman during session setup gave the all-zero result (a low-order key); no session was created and nothing changed. The bundle or first message is broken or hostile: drop it.")
        case .unknownSignedPreKey:
            ("unknownSignedPreKey", "the first message names a signed prekey this account does not hold (never had, or rotated out); nothing changed. The sender used an old bundle: ask it to fetch a fresh one and start again.")
        case .unknownOneTimePreKey:
            ("unknownOneTimePreKey", "the first message names a one-time prekey that is unknown or already used; nothing changed. Drop a repeated first message; otherwise ask the sender to start again from a fresh bundle.")
        case .firstMessageRejected:
            ("firstMessageRejected", "the first message of a new session did not decrypt, so no session was created and no prekey consumed; nothing changed. It was tampered with or damaged: ask the sender to start again from a fresh bundle.")
        case .notAPreKeyMessage:
            ("notAPreKeyMessage", "the message is not a first (PreKey) message, so it cannot start a session; nothing changed. Deliver it to its existing session, or ask the sender to start a new one.")
        case .baseKeyAlreadyAccepted:
            ("baseKeyAlreadyAccepted", "this first message's base key was already accepted once: it is a replay, so no session was created and nothing was delivered or changed. Drop it.")
        case .postQuantumRequired:
            ("postQuantumRequired", "a classical setup was refused (a bundle without a KEM prekey, or a classical first message); nothing was computed or changed. Ask the peer for a post-quantum bundle, or allow classical setup (allowClassical) if that risk is accepted.")
        case .unknownKEMPreKey:
            ("unknownKEMPreKey", "the first message names a KEM prekey this account does not hold (unknown, or a one-time KEM prekey already used); nothing changed. Ask the sender to fetch a fresh bundle and start again.")
        }
    }
}

extension DecryptError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .malformed(let e): ("malformed", e.explanation)
        case .authenticationFailure:
            ("authenticationFailure", "the message failed authentication: it was tampered with, damaged, or encrypted for another session; nothing changed. Drop it; if every message from this peer fails, start a new session from a fresh bundle.")
        case .duplicate:
            ("duplicate", "this message was already received, or arrived after its key was discarded; nothing changed. It is a redelivery, a replay or a very late message: drop it.")
        case .tooFarAhead:
            ("tooFarAhead", "the message would skip more message keys than Limits.maxSkip allows, so none were derived; nothing changed. Drop it; if that many messages were really lost, start a new session from a fresh bundle.")
        case .setupMismatch:
            ("setupMismatch", "a first (PreKey) message for this session carries other setup fields than the session was made with; nothing changed. Drop it: it is damaged or forged.")
        case .noSession:
            ("noSession", "there is no session this message could belong to (for example a ratchet message from an unknown peer); nothing changed. Ask the sender to start a new session from a fresh bundle.")
        case .invalidState:
            ("invalidState", "the session has no receiving chain or key material for this message (named); nothing changed. Drop it; if it repeats, start a new session from a fresh bundle.")
        }
    }
}

extension EncryptError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .plaintextTooLarge:
            ("plaintextTooLarge", "the plaintext is larger than the limit; nothing was encrypted or changed. Split it, or send it as an encrypted attachment.")
        case .counterExhausted:
            ("counterExhausted", "the sending chain has used all 2^32 message numbers without a reply; nothing was encrypted or changed. Start a new session from a fresh bundle.")
        case .noSendingChain:
            ("noSendingChain", "this session was set up by the peer and cannot send before it has received a message; nothing was encrypted or changed. Wait for the peer's first message, or start a session from its bundle.")
        case .invalidReuseGuard:
            ("invalidReuseGuard", "the injected RandomSource returned a reuse guard that is not 4 bytes; nothing was encrypted or changed. Fix the RandomSource: it is a programming error.")
        case .invalidRatchetKey:
            ("invalidRatchetKey", "the peer's ratchet key gives an all-zero Diffie-Hellman result, which no authenticated message can leave: the stored session is damaged. Nothing was encrypted or changed; start a new session from a fresh bundle.")
        }
    }
}

extension StorageError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .sealedRecordRejected:
            ("sealedRecordRejected", "a sealed record did not authenticate: the storage key or passphrase is wrong, the record was tampered with, or it was moved to another row; nothing was read or changed. Check the storage key; if it is right, restore the store from a backup.")
        case .corruptRecord(_, let e):
            ("corruptRecord", "the named record opened but did not parse: \(e.explanation)")
        case .backend:
            ("backend", "the database or file system failed (its message is given); nothing of the operation was committed. Check disk space, permissions and that the store is open, then retry.")
        }
    }
}

extension RecordError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .badMagic:
            ("badMagic", "the record does not start with this library's magic: it is not one of its records, or it is damaged. Nothing was loaded; restore the store from a backup.")
        case .unsupportedVersion:
            ("unsupportedVersion", "the record was written in a format version this library cannot read (a newer one). Nothing was loaded; upgrade the library.")
        case .wrongKind:
            ("wrongKind", "the record is of another kind than the one asked for: rows were mixed up. Nothing was loaded; restore the store from a backup.")
        case .truncated:
            ("truncated", "the record ends before its last field: it was cut short. Nothing was loaded; restore the store from a backup.")
        case .trailingBytes:
            ("trailingBytes", "the record goes on after its last field: it is damaged or was altered. Nothing was loaded; restore the store from a backup.")
        case .malformed:
            ("malformed", "the named field holds a value no writer produces: the record is damaged or was altered. Nothing was loaded; restore the store from a backup.")
        }
    }
}

extension CryptoError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .invalidLength:
            ("invalidLength", "a key or fixed-size value had the wrong number of bytes; nothing was computed. Check where the bytes come from: they were cut short or decoded wrongly.")
        case .invalidPublicKey:
            ("invalidPublicKey", "a peer public key was rejected (all-zero, of low order, or not a valid point); nothing was computed. The key is damaged or hostile: get it again from its source.")
        case .weakSharedSecret:
            ("weakSharedSecret", "a Diffie-Hellman gave the all-zero result (the peer key has low order); the result was discarded. Drop that key: it is damaged or hostile.")
        case .invalidSignature:
            ("invalidSignature", "an Ed25519 signature did not verify; the signed data was not used. It was altered or signed by another key: get it again from its source.")
        case .authenticationFailure:
            ("authenticationFailure", "a ciphertext failed authentication (tampered, truncated, wrong key or wrong associated data); no plaintext was released. Drop it, or check which key was used.")
        case .invalidParameter:
            ("invalidParameter", "a parameter is outside what the primitive accepts (named); nothing was computed. It is a programming error in the caller.")
        case .initializationFailure:
            ("initializationFailure", "libsodium could not be initialised, so no cryptography can run. Check the process's environment (for example that a random device is available), then restart.")
        }
    }
}

extension WireError: CustomStringConvertible, ExplainedError {
    /// The case as Swift spells it, payload included (`duplicate(index: 0)`):
    /// stable across releases, for logs, metrics and scripts.
    public var code: String { ErrorText.code(parts.name, of: self) }
    /// One line: the ``code``, then what happened, what changed and what to do.
    public var description: String { ErrorText.line(self) }
    var explanation: String { parts.explanation }

    private var parts: (name: String, explanation: String) {
        switch self {
        case .truncated:
            ("truncated", "the input ended before the field being read: it was cut short in transit or storage; nothing changed. Get the complete bytes again.")
        case .unknownVersion:
            ("unknownVersion", "the input is in a protocol version this library does not speak (a newer or foreign client); nothing changed. The sender must use a version this library supports.")
        case .unknownType:
            ("unknownType", "the input's type byte is not one the protocol defines: it is damaged or not a message of this protocol; nothing changed. Check what was passed in.")
        case .trailingBytes:
            ("trailingBytes", "bytes follow a structure whose length is fixed: the input was padded, joined to other data, or damaged; nothing changed. Pass exactly one message or bundle.")
        case .invalidKey:
            ("invalidKey", "the named public key is malformed, all-zero or of low order, so it cannot be used safely; nothing changed. The input is damaged or hostile: get it again from its source.")
        case .invalidFlags:
            ("invalidFlags", "reserved flag bits are set: the input comes from a newer or broken client; nothing changed. Fetch it again, or update this library.")
        case .tooLarge:
            ("tooLarge", "the ciphertext implies a plaintext larger than the caller's limit, so it was refused before any work; nothing changed. Raise the limit if such messages are expected; otherwise drop it.")
        case .unexpectedType:
            ("unexpectedType", "the input is a well-formed item of a type this operation does not take (for example a bundle where a message is expected); nothing changed. Pass it to the operation for its type.")
        case .invalidField:
            ("invalidField", "the named field holds a value the layout does not allow: the input is damaged or came from a broken client; nothing changed. Get it again from its source.")
        }
    }
}
