/// Errors of the cryptographic layer: keys, KDFs and AEAD.
public enum CryptoError: Error, Equatable, Sendable {
    /// A key or fixed-size value had the wrong number of bytes.
    case invalidLength(expected: Int, got: Int)
    /// A peer public key was rejected: all-zero, of low order, or not a valid point.
    case invalidPublicKey
    /// A Diffie-Hellman result was all zero (a low-order peer key).
    case weakSharedSecret
    /// An Ed25519 signature did not verify.
    case invalidSignature
    /// An AEAD message failed authentication: tampered, truncated, wrong key or wrong AD.
    case authenticationFailure
    /// A parameter was outside what the primitive accepts (for example an HKDF length).
    case invalidParameter(String)
    /// libsodium could not be initialised.
    case initializationFailure
}
