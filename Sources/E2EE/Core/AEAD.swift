internal import CE2EE

/// `AEAD_v1` of PROTOCOL.md §3: a random 4-byte reuse guard `G`, then
/// ChaCha20-Poly1305-IETF under nonce `G || 0^8`. A rolled-back state that
/// reuses a message key therefore still (almost surely) uses a fresh nonce.
public enum AEADv1 {
    /// Bytes of the random reuse guard `G` that prefixes every sealed message.
    public static let guardByteCount = 4
    /// Bytes of the Poly1305 authentication tag.
    public static let tagByteCount = 16
    /// Bytes added to the plaintext: guard and tag.
    public static let overhead = guardByteCount + tagByteCount

    /// Seals `plaintext`: returns `G || ciphertext || tag`.
    public static func seal(_ plaintext: [UInt8], using key: MessageKey,
                            authenticating associatedData: [UInt8]) throws(CryptoError) -> [UInt8] {
        try seal(plaintext, using: key, authenticating: associatedData, reuseGuard: nil)
    }

    /// As ``seal(_:using:authenticating:)`` with a chosen guard, for vectors.
    static func seal(_ plaintext: [UInt8], using key: MessageKey, authenticating associatedData: [UInt8],
                     reuseGuard: [UInt8]?) throws(CryptoError) -> [UInt8] {
        if let g = reuseGuard, g.count != guardByteCount {
            throw .invalidLength(expected: guardByteCount, got: g.count)
        }
        let n = plaintext.count + overhead
        var rc: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
            rc = plaintext.withUnsafeBufferPointer { p in
                associatedData.withUnsafeBufferPointer { a in
                    withGuard(reuseGuard) { g in
                        e2ee_aead_seal(buf.baseAddress, n, p.baseAddress, p.count, a.baseAddress, a.count,
                                       key.keyPointer, g)
                    }
                }
            }
            initialized = n
        }
        // `key` is a borrowed argument, alive for the whole call: its pointer stayed valid.
        try check(rc, .invalidParameter("plaintext too long for ChaCha20-Poly1305"))
        return out
    }

    /// Opens `G || ciphertext || tag`. Throws ``CryptoError/authenticationFailure``
    /// for any tampered, truncated or misdirected input.
    public static func open(_ sealed: [UInt8], using key: MessageKey,
                            authenticating associatedData: [UInt8]) throws(CryptoError) -> [UInt8] {
        try sealed.withUnsafeBufferPointer { (s) throws(CryptoError) in
            try associatedData.withUnsafeBufferPointer { (a) throws(CryptoError) in
                try open(sealed: UnsafeRawBufferPointer(s), using: key, authenticating: UnsafeRawBufferPointer(a))
            }
        }
    }

    /// Raw-buffer form for parsers that open a slice of a wire message in place.
    static func open(sealed: UnsafeRawBufferPointer, using key: MessageKey,
                     authenticating associatedData: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        guard sealed.count >= overhead else { throw .authenticationFailure }
        let n = sealed.count - overhead
        var rc: Int32 = 0
        let out = [UInt8](writing: n) { buf in
            rc = e2ee_aead_open(buf.baseAddress, n, sealed.baseAddress, sealed.count,
                                associatedData.baseAddress, associatedData.count, key.keyPointer)
        }
        guard rc == 0 else { throw .authenticationFailure }
        return out
    }

    /// Seals into caller memory (`out.count == plaintext.count + overhead`),
    /// so a message can be assembled in one buffer.
    static func seal(into out: UnsafeMutableRawBufferPointer, plaintext: UnsafeRawBufferPointer, using key: MessageKey,
                     authenticating associatedData: UnsafeRawBufferPointer, reuseGuard: [UInt8]?) throws(CryptoError) {
        if let g = reuseGuard, g.count != guardByteCount {
            throw .invalidLength(expected: guardByteCount, got: g.count)
        }
        let rc = withGuard(reuseGuard) { g in
            e2ee_aead_seal(out.baseAddress, out.count, plaintext.baseAddress, plaintext.count,
                           associatedData.baseAddress, associatedData.count, key.keyPointer, g)
        }
        try check(rc, .invalidParameter("plaintext too long for ChaCha20-Poly1305"))
    }

    @inline(__always)
    static func withGuard<R>(_ g: [UInt8]?, _ body: (UnsafePointer<UInt8>?) -> R) -> R {
        guard let g else { return body(nil) }
        return g.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// ChaCha20-Poly1305-IETF with a caller-chosen nonce: the primitive under
/// ``AEADv1``. Internal, so that protocol code can only reach it through the
/// guard construction; tests run the RFC 8439 vectors through it.
enum ChaCha20Poly1305IETF {
    static let nonceByteCount = 12

    static func seal(_ plaintext: [UInt8], key: MessageKey, nonce: [UInt8], ad: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard nonce.count == nonceByteCount else { throw .invalidLength(expected: nonceByteCount, got: nonce.count) }
        var out = [UInt8](repeating: 0, count: plaintext.count + AEADv1.tagByteCount)
        let n = out.count
        let rc = out.withUnsafeMutableBufferPointer { o in
            plaintext.withUnsafeBufferPointer { p in
                ad.withUnsafeBufferPointer { a in
                    nonce.withUnsafeBufferPointer { nn in
                        e2ee_chacha20poly1305_seal(o.baseAddress, n, p.baseAddress, p.count, a.baseAddress, a.count,
                                                   nn.baseAddress, key.keyPointer)
                    }
                }
            }
        }
        try check(rc, .invalidParameter("plaintext too long for ChaCha20-Poly1305"))
        return out
    }

    static func open(_ ciphertext: [UInt8], key: MessageKey, nonce: [UInt8], ad: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard nonce.count == nonceByteCount else { throw .invalidLength(expected: nonceByteCount, got: nonce.count) }
        guard ciphertext.count >= AEADv1.tagByteCount else { throw .authenticationFailure }
        var out = [UInt8](repeating: 0, count: ciphertext.count - AEADv1.tagByteCount)
        let n = out.count
        let rc = out.withUnsafeMutableBufferPointer { o in
            ciphertext.withUnsafeBufferPointer { c in
                ad.withUnsafeBufferPointer { a in
                    nonce.withUnsafeBufferPointer { nn in
                        e2ee_chacha20poly1305_open(o.baseAddress, n, c.baseAddress, c.count, a.baseAddress, a.count,
                                                   nn.baseAddress, key.keyPointer)
                    }
                }
            }
        }
        try check(rc, .authenticationFailure)
        return out
    }
}
