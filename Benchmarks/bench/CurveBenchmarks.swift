import CBenchRaw
import E2EE

// X25519 agreement and Ed25519 signing and verification, next to libsodium.

func curveComparisons() -> [Comparison] {
    [
        Comparison("X25519", ours: { try X25519Ours() }, baseline: { try X25519Raw() }),
        Comparison("X25519 key generation (fixed-base Ed25519 + map to u)", kind: .speedup,
                   ours: { KeyGenOurs() }, baseline: { try KeyGenRaw(.ladder) }),
        Comparison("X25519 key generation vs its fixed-base multiplication alone",
                   ours: { KeyGenOurs() }, baseline: { try KeyGenRaw(.edwards) }),
        Comparison("identity key → X25519 (a key validated before)", kind: .speedup,
                   ours: { IdentityMapOurs() }, baseline: { try IdentityMapRaw() }),
        Comparison("Ed25519 sign", ours: { try SignOurs() }, baseline: { try SignRaw() }),
        Comparison("Ed25519 verify", ours: { try VerifyOurs() }, baseline: { try VerifyRaw() }),
    ]
}

struct CurveFixture {
    let x25519Secret = FillerBytes.bytes(32, seed: Seeds.x25519)
    let x25519PeerSecret = FillerBytes.bytes(32, seed: Seeds.x25519 + 100)
    let ed25519Seed = FillerBytes.bytes(32, seed: Seeds.ed25519)
    let message = FillerBytes.bytes(Sizes.small, seed: Seeds.ed25519 + 100)
}

final class X25519Ours: BenchCase {
    let name = "ours: X25519.PrivateKey.sharedSecret(with:)"
    private let key: X25519.PrivateKey
    private let peer: X25519.PublicKey

    init() throws {
        let f = CurveFixture()
        key = try X25519.PrivateKey(rawRepresentation: f.x25519Secret)
        peer = try X25519.PrivateKey(rawRepresentation: f.x25519PeerSecret).publicKey
    }

    func run(iterations: Int) throws -> UInt64 {
        let key = key, peer = peer
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            _ = try key.sharedSecret(with: peer)     // opaque C call: cannot be dropped
            acc &+= 1
        }
        return acc
    }
}

final class X25519Raw: BenchCase {
    let name = "crypto_scalarmult"
    private let secret, peer, out: RawBuffer

    init() throws {
        let f = CurveFixture()
        secret = RawBuffer(f.x25519Secret)
        peer = RawBuffer(try X25519.PrivateKey(rawRepresentation: f.x25519PeerSecret).publicKey.rawRepresentation)
        out = RawBuffer(count: 32)
    }

    func run(iterations: Int) throws -> UInt64 {
        let secret = secret.pointer, peer = peer.pointer, out = out.pointer
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_scalarmult(out, secret, peer)
            acc &+= UInt64(out[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_scalarmult") }
        return acc
    }
}

final class SignOurs: BenchCase {
    let name = "ours: IdentityKey.PrivateKey.signature(for:)"
    private let key: IdentityKey.PrivateKey
    private let message: [UInt8]

    init() throws {
        let f = CurveFixture()
        key = try IdentityKey.PrivateKey(seed: f.ed25519Seed)
        message = f.message
    }

    func run(iterations: Int) -> UInt64 {
        let key = key, message = message
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            let sig = key.signature(for: message)
            acc &+= UInt64(sig[63])
        }
        return acc
    }
}

/// libsodium's Ed25519 key pair for the fixture seed.
final class RawSigningKey {
    let publicKey = RawBuffer(count: 32)
    let secretKey = RawBuffer(count: 64)

    init() throws {
        let seed = RawBuffer(CurveFixture().ed25519Seed)
        guard crypto_sign_seed_keypair(publicKey.pointer, secretKey.pointer, seed.pointer) == 0 else {
            throw BenchError.rawFailure("crypto_sign_seed_keypair")
        }
    }
}

final class SignRaw: BenchCase {
    let name = "crypto_sign_detached"
    private let key: RawSigningKey
    private let message, sig: RawBuffer

    init() throws {
        key = try RawSigningKey()
        message = RawBuffer(CurveFixture().message)
        sig = RawBuffer(count: 64)
    }

    func run(iterations: Int) throws -> UInt64 {
        let sk = key.secretKey.pointer, m = message.pointer, mCount = UInt64(message.count), sig = sig.pointer
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_sign_detached(sig, nil, m, mCount, sk)
            acc &+= UInt64(sig[63])
        }
        guard rc == 0 else { throw BenchError.rawFailure("crypto_sign_detached") }
        return acc
    }
}

final class VerifyOurs: BenchCase {
    let name = "ours: IdentityKey.PublicKey.isValidSignature"
    private let key: IdentityKey.PublicKey
    private let message, signature: [UInt8]

    /// `message` defaults to the 100-byte fixture message.
    init(message: [UInt8]? = nil) throws {
        let f = CurveFixture()
        let sk = try IdentityKey.PrivateKey(seed: f.ed25519Seed)
        key = sk.publicKey
        self.message = message ?? f.message
        signature = sk.signature(for: self.message)
    }

    func run(iterations: Int) throws -> UInt64 {
        let key = key, message = message, signature = signature
        var valid = 0
        for _ in 0..<iterations where key.isValidSignature(signature, for: message) {
            valid &+= 1
        }
        guard valid == iterations else { throw BenchError.wrongResult("a valid signature was rejected") }
        return UInt64(valid)
    }
}

final class VerifyRaw: BenchCase {
    let name = "crypto_sign_verify_detached"
    private let key: RawSigningKey
    private let message, sig: RawBuffer

    init(message: [UInt8]? = nil) throws {
        key = try RawSigningKey()
        self.message = RawBuffer(message ?? CurveFixture().message)
        sig = RawBuffer(count: 64)
        guard crypto_sign_detached(sig.pointer, nil, self.message.pointer, UInt64(self.message.count),
                                   key.secretKey.pointer) == 0 else {
            throw BenchError.rawFailure("crypto_sign_detached")
        }
    }

    func run(iterations: Int) throws -> UInt64 {
        let pk = key.publicKey.pointer, m = message.pointer, mCount = UInt64(message.count), sig = sig.pointer
        var valid = 0
        for _ in 0..<iterations where crypto_sign_verify_detached(sig, m, mCount, pk) == 0 {
            valid &+= 1
        }
        guard valid == iterations else { throw BenchError.rawFailure("crypto_sign_verify_detached") }
        return UInt64(valid)
    }
}

// MARK: - Key generation and the identity-key map

/// A fresh X25519 key pair: random scalar, then the public key through the
/// fixed-base Ed25519 multiplication and our map to Montgomery u.
final class KeyGenOurs: BenchCase {
    let name = "ours: X25519.PrivateKey()"

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= UInt64(X25519.PrivateKey().publicKey.rawRepresentation[0])
        }
        return acc
    }
}

/// libsodium's key generation (`crypto_scalarmult_base`, a Montgomery ladder
/// like any DH), or the fixed-base Ed25519 multiplication alone (our floor).
final class KeyGenRaw: BenchCase {
    enum Kind { case ladder, edwards }
    let name: String
    private let kind: Kind
    private let secret, out: RawBuffer

    init(_ kind: Kind) throws {
        self.kind = kind
        name = kind == .ladder ? "randombytes + crypto_scalarmult_base" : "randombytes + crypto_scalarmult_ed25519_base_noclamp"
        secret = RawBuffer(count: 32)
        out = RawBuffer(count: 32)
    }

    func run(iterations: Int) throws -> UInt64 {
        let sk = secret.pointer, out = out.pointer
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            randombytes_buf(sk, 32)
            if kind == .ladder {
                rc |= crypto_scalarmult_base(out, sk)
            } else {
                sk[0] &= 248; sk[31] &= 127; sk[31] |= 64
                rc |= crypto_scalarmult_ed25519_base_noclamp(out, sk)
            }
            acc &+= UInt64(out[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("key generation") }
        return acc
    }
}

/// An identity key met before, used in X3DH: the remembered validation and
/// our map (one inversion) against libsodium's map, which checks the subgroup again.
final class IdentityMapOurs: BenchCase {
    let name = "ours: IdentityKey.PublicKey(rawRepresentation:) + keyAgreementKey()"
    private let raw = IdentityKey.PrivateKey().publicKey.rawRepresentation

    func run(iterations: Int) throws -> UInt64 {
        let raw = raw
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= UInt64(try IdentityKey.PublicKey(rawRepresentation: raw).keyAgreementKey().rawRepresentation[0])
        }
        return acc
    }
}

final class IdentityMapRaw: BenchCase {
    let name = "crypto_sign_ed25519_pk_to_curve25519"
    private let ed, out: RawBuffer

    init() throws {
        ed = RawBuffer(IdentityKey.PrivateKey().publicKey.rawRepresentation)
        out = RawBuffer(count: 32)
    }

    func run(iterations: Int) throws -> UInt64 {
        var rc: Int32 = 0, acc: UInt64 = 0
        for _ in 0..<iterations {
            rc |= crypto_sign_ed25519_pk_to_curve25519(out.pointer, ed.pointer)
            acc &+= UInt64(out.pointer[0])
        }
        guard rc == 0 else { throw BenchError.rawFailure("Ed25519 to X25519") }
        return acc
    }
}
