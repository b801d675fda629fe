/// Client-side moderation: a hook that sees plaintext on this device only,
/// before it is encrypted and after it is decrypted (docs/DESIGN.md, "Content
/// policy"). The server never sees plaintext, so this is the only place a
/// scan can happen; nothing about it is visible on the wire.
///
/// A ``SessionManager`` created with a policy asks it about every application
/// plaintext: ``SessionManager/encrypt(_:toUser:includeOwnDevices:)`` and the other pairwise sends,
/// ``SessionManager/groupEncrypt(_:to:)``, ``SessionManager/receive(_:from:)``,
/// ``SessionManager/receive(batch:commitEvery:)``, and the group receives.
/// Group roster updates and sender-key distributions are protocol messages,
/// not content, and are never shown to it.
///
/// The policy runs synchronously. An outgoing check runs before any lock is
/// taken; an incoming check runs under the sender's lock, between decryption
/// and the commit, so that a held message is stored in the same transaction
/// as the ratchet advance: keep it fast. It may be asked twice about one
/// incoming message (a batch that restarts to take a group's lock decrypts its
/// messages again), so its answer should depend on the plaintext and the
/// context only.
public protocol ContentPolicy: Sendable {
    /// Decides about a plaintext this device is about to encrypt.
    func review(outgoing plaintext: [UInt8], context: ContentContext) -> OutgoingVerdict
    /// Decides about a plaintext this device has just decrypted.
    func review(incoming plaintext: [UInt8], context: ContentContext) -> IncomingVerdict
}

/// Where a plaintext under review goes to or comes from.
public struct ContentContext: Sendable, Equatable {
    /// Outgoing: the devices it is encrypted for (one for a pairwise send, a
    /// user's devices for a fan-out; the group's members for a group message).
    /// Incoming: the device that sent it.
    public let peers: [ProtocolAddress]
    /// The group, for a sender-key group message; nil for a pairwise one.
    public let group: DistributionID?

    /// A context; policies receive these from the manager.
    public init(peers: [ProtocolAddress], group: DistributionID? = nil) {
        self.peers = peers
        self.group = group
    }
}

/// What a policy decided about an outgoing plaintext.
public enum OutgoingVerdict: Sendable, Equatable {
    /// Encrypt it as it is.
    case allow
    /// Do not send it: the call throws ``MessagingError/rejectedByPolicy(reason:)``
    /// and no state changes.
    case reject(reason: String)
    /// Encrypt this plaintext instead (a redacted text, say).
    case replace(with: [UInt8])
}

/// What a policy decided about an incoming plaintext.
public enum IncomingVerdict: Sendable, Equatable {
    /// Deliver it.
    case allow
    /// Keep it out of sight: the message is still received (the ratchet
    /// advances, a redelivery is a duplicate) and is stored in the inbound
    /// table marked held with `reason`, and the receive returns
    /// ``Received/held(_:reason:)``. Nothing is silently dropped: the
    /// application decides what a held message becomes.
    case hold(reason: String)
}

extension SessionManager {
    /// The plaintext to encrypt for `peers`: the original, or the policy's
    /// replacement; throws if the policy rejects it. A reserved plaintext is
    /// refused before the policy sees it; a reserved replacement is refused
    /// by the pairwise send itself (`fanOutLocked`), so a policy cannot smuggle
    /// a group control message into a session either.
    func screenOutgoing(_ plaintext: [UInt8], peers: [ProtocolAddress],
                        group: DistributionID? = nil) throws(MessagingError) -> [UInt8] {
        if group == nil { guard !GroupControl.isReserved(plaintext) else { throw .reservedPlaintext } }
        guard let contentPolicy else { return plaintext }
        switch contentPolicy.review(outgoing: plaintext, context: ContentContext(peers: peers, group: group)) {
        case .allow:
            return plaintext
        case .reject(let reason):
            throw .rejectedByPolicy(reason: reason)
        case .replace(let replacement):
            return replacement
        }
    }

    /// The reason to hold an incoming plaintext from `sender`, or nil to deliver it.
    func screenIncoming(_ plaintext: [UInt8], from sender: ProtocolAddress, group: DistributionID? = nil) -> String? {
        guard let contentPolicy else { return nil }
        switch contentPolicy.review(incoming: plaintext, context: ContentContext(peers: [sender], group: group)) {
        case .allow: return nil
        case .hold(let reason): return reason
        }
    }

    /// What a receive reports and stores for an application plaintext.
    func deliver(_ plaintext: [UInt8], from sender: ProtocolAddress, group: DistributionID? = nil,
                 into changes: inout StoreChanges) -> Received {
        let held = screenIncoming(plaintext, from: sender, group: group)
        changes.inbound.append((sender, plaintext, clock(), held))
        if let held { return .held(plaintext, reason: held) }
        return .message(plaintext)
    }
}
