internal import CE2EE

/// SHA-512 (libsodium), for safety numbers.
enum SHA512 {
    static func hash(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let rc = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { e2ee_sha512(o.baseAddress, $0.baseAddress, $0.count) }
        }
        precondition(rc == 0, "libsodium failed to initialise")
        return out
    }
}
