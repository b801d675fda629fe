internal import CE2EE

/// libsodium is initialised once, thread-safely, by the C core; this forces it
/// early so that a broken installation surfaces as an error, not mid-protocol.
enum Sodium {
    static func ensureInitialized() throws(CryptoError) {
        guard e2ee_init() == 0 else { throw .initializationFailure }
    }
}

/// Checks a C return code of the core. The core only fails on arguments the
/// Swift layer has already validated or on authentication, so callers map -1
/// to the error that fits their operation.
@inline(__always)
func check(_ rc: Int32, _ error: CryptoError) throws(CryptoError) {
    if rc != 0 { throw error }
}
