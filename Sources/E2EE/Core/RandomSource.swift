/// Where fresh private keys and reuse guards come from. Production code uses
/// ``SystemRandomSource``; tests and fuzzers inject a deterministic source so
/// that protocol runs are reproducible to the byte.
public protocol RandomSource: Sendable {
    /// A fresh X25519 private key (ephemeral and ratchet keys).
    func makePrivateKey() -> X25519.PrivateKey
    /// A 4-byte AEAD_v1 reuse guard, or nil to let the C core draw one.
    func makeReuseGuard() -> [UInt8]?
}

/// libsodium's CSPRNG.
public struct SystemRandomSource: RandomSource {
    public init() {}
    public func makePrivateKey() -> X25519.PrivateKey { X25519.PrivateKey() }
    public func makeReuseGuard() -> [UInt8]? { nil }
}

extension RandomSource where Self == SystemRandomSource {
    /// libsodium's CSPRNG.
    public static var system: SystemRandomSource { SystemRandomSource() }
}
