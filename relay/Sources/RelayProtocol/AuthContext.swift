import E2EE

/// 32 random bytes the relay hands out to be signed: the WebSocket `challenge`
/// and the nonce of `POST /v1/auth/challenge`. Used once, so a signature
/// over it cannot be replayed.
public struct AuthNonce: Hashable, Sendable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(RelayWireError) {
        guard bytes.count == Self.byteCount else {
            throw .invalidField("nonce: \(bytes.count) bytes, not \(Self.byteCount)")
        }
        self.bytes = bytes
    }

    /// A fresh nonce from `generator`; tests pass a seeded one.
    public static func random(using generator: inout some RandomNumberGenerator) -> AuthNonce {
        var bytes = [UInt8]()
        bytes.reserveCapacity(byteCount)
        for _ in 0..<(byteCount / 8) {
            var word = generator.next()
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return AuthNonce(trusted: bytes)
    }

    /// A fresh nonce from the system's CSPRNG.
    public static func random() -> AuthNonce {
        var system = SystemRandomNumberGenerator()
        return random(using: &system)
    }

    private init(trusted bytes: [UInt8]) {
        self.bytes = bytes
    }
}

/// The statements a device's identity key signs to the relay, as the exact
/// bytes to sign, so that the server and the client build them in one place.
///
/// Each starts with its own ASCII context, `"E2EE-relay v1 "` then `ws`,
/// `token` or `register`: no context is a prefix of another, and none is a
/// statement of the library (whose identity signatures are over `Encode(K)`,
/// starting 0x05 or 0x0A), so a signature made for one cannot be used as another.
public enum AuthContext {
    static let wsContext = Array("E2EE-relay v1 ws".utf8)
    static let tokenContext = Array("E2EE-relay v1 token".utf8)
    static let registerContext = Array("E2EE-relay v1 register".utf8)

    /// `"E2EE-relay v1 ws" || challenge || address`: the answer to a WebSocket `challenge`.
    public static func webSocket(challenge: AuthNonce, address: RelayAddress) -> [UInt8] {
        wsContext + challenge.bytes + address.serialized
    }

    /// `"E2EE-relay v1 token" || nonce || address`: the request for a bearer token.
    public static func token(nonce: AuthNonce, address: RelayAddress) -> [UInt8] {
        tokenContext + nonce.bytes + address.serialized
    }

    /// `"E2EE-relay v1 register" || address || identity (32)`: the device
    /// proves it holds the identity key it registers.
    public static func register(address: RelayAddress, identity: IdentityKey.PublicKey) -> [UInt8] {
        registerContext + address.serialized + identity.rawRepresentation
    }

    /// Whether `signature` is `identity`'s Ed25519 signature of `statement`
    /// (one of the functions above). A signature of the wrong length is false.
    public static func isValid(signature: [UInt8], of statement: [UInt8], by identity: IdentityKey.PublicKey) -> Bool {
        identity.isValidSignature(signature, for: statement)
    }
}
