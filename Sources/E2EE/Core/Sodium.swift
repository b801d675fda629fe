/// Checks a C return code of the core. The core only fails on arguments the
/// Swift layer has already validated or on authentication, so callers map -1
/// to the error that fits their operation.
@inline(__always)
func check(_ rc: Int32, _ error: CryptoError) throws(CryptoError) {
    if rc != 0 { throw error }
}
