import E2EE
import RelayProtocol

/// Why a ``RelayClient`` call failed.
public enum RelayClientError: Error, Sendable, CustomStringConvertible {
    /// The relay could not be reached or the connection broke.
    case transport(String)
    /// The relay answered with an HTTP status other than the one expected (its
    /// reason text, if any, for people).
    case status(Int, String)
    /// The relay's answer did not parse: a broken or hostile relay.
    case malformedResponse(RelayWireError)
    /// A bundle from the relay did not parse or verify: a broken or hostile relay.
    case badBundle(device: UInt32, WireError)
    /// The relay refused WebSocket authentication.
    case authenticationFailed(String)
    /// The library refused the operation (no session, untrusted identity, …).
    case messaging(MessagingError)
    /// The address is not one the relay accepts.
    case invalidAddress(RelayWireError)
    /// The user has no device with keys on the relay.
    case noDevices(String)
    /// The CA certificates to trust could not be read.
    case trustRoots(String)

    public var description: String {
        switch self {
        case .transport(let s): "relay unreachable: \(s)"
        case .status(let code, let reason): "relay answered \(code)\(reason.isEmpty ? "" : ": \(reason)")"
        case .malformedResponse(let e): "malformed answer from the relay: \(e)"
        case .badBundle(let device, let e): "bundle of device \(device) refused: \(e)"
        case .authenticationFailed(let s): "relay authentication failed: \(s)"
        case .messaging(let e): "\(e)"
        case .invalidAddress(let e): "invalid address: \(e)"
        case .noDevices(let user): "\(user) has no device with keys on the relay"
        case .trustRoots(let s): "cannot use the CA certificates: \(s)"
        }
    }
}
