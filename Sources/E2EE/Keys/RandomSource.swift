internal import CE2EE

/// Where fresh private keys and reuse guards come from. Production code uses
/// ``SystemRandomSource``; tests and fuzzers inject a deterministic source so
/// that protocol runs are reproducible to the byte.
public protocol RandomSource: Sendable {
    /// A fresh X25519 private key (ephemeral and ratchet keys).
    func makePrivateKey() -> X25519.PrivateKey
    /// A 4-byte AEAD_v1 reuse guard, or nil to let the C core draw one.
    func makeReuseGuard() -> [UInt8]?
    /// Fills `buffer` with fresh random bytes (sender chain keys, signing seeds,
    /// chain ids), written in place so that secrets never pass through an array.
    /// The default is libsodium's CSPRNG.
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        e2ee_random_bytes(base, buffer.count)
    }
}

extension SecureBytes {
    /// `count` bytes from `random` (libsodium's CSPRNG for ``SystemRandomSource``).
    init(randomCount count: Int, from random: any RandomSource) {
        self = SecureBytes(count: count) { (b: UnsafeMutableRawBufferPointer) in random.fill(b) }
    }
}

/// libsodium's CSPRNG.
public struct SystemRandomSource: RandomSource {
    /// The system CSPRNG; it has no state.
    public init() {}
    public func makePrivateKey() -> X25519.PrivateKey { X25519.PrivateKey() }
    public func makeReuseGuard() -> [UInt8]? { nil }
}

extension RandomSource where Self == SystemRandomSource {
    /// libsodium's CSPRNG.
    public static var system: SystemRandomSource { SystemRandomSource() }
}
