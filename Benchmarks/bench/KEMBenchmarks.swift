import CBenchRaw
import Crypto
import E2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// ML-KEM-1024 (PROTOCOL.md §2b): E2EE's wrappers next to the swift-crypto
// calls they make. Encapsulation is internal to E2EE (only a session setup
// does it), so its row times swift-crypto's call against one X25519 for scale.
// This is the only file that imports Crypto: E2EE's names stay unambiguous
// everywhere else.

func kemComparisons() -> [Comparison] {
    [
        Comparison("ML-KEM-1024 keygen", ours: { KEMCase.keygenOurs() }, baseline: { KEMCase.keygenRaw() }),
        Comparison("ML-KEM-1024 expand from seed (64 B)",
                   ours: { try KEMCase.expandOurs() }, baseline: { try KEMCase.expandRaw() }),
        Comparison("ML-KEM-1024 public key parse (validating)",
                   ours: { try KEMCase.parseOurs() }, baseline: { try KEMCase.parseRaw() }),
        Comparison("ML-KEM-1024 encaps (internal to E2EE: raw, vs one X25519)",
                   ours: { try KEMCase.encapsRaw() }, baseline: { try X25519Raw() }),
        Comparison("ML-KEM-1024 decaps", ours: { try KEMCase.decapsOurs() }, baseline: { try KEMCase.decapsRaw() }),
        // The rest of what PQXDH adds to a setup is mostly this signature check.
        Comparison(SetupRows.kemSignature, ours: { try VerifyOurs(message: kemSignedMessage()) },
                   baseline: { try VerifyRaw(message: kemSignedMessage()) }),
    ]
}

/// What a KEM prekey's signature covers: `EncodeKEM(KEM_pub)`, 1569 bytes.
func kemSignedMessage() throws -> [UInt8] {
    try MLKEM.PublicKey(rawRepresentation: KEMFixture().publicKeyBytes).encoded
}

/// One swift-crypto key pair from a fixed seed, its public key bytes and one
/// ciphertext to it with the shared secret.
struct KEMFixture {
    let seed: [UInt8]
    let privateKey: MLKEM1024.PrivateKey
    let publicKey: MLKEM1024.PublicKey
    let publicKeyBytes: [UInt8]
    let ciphertext: [UInt8]
    let sharedSecret: [UInt8]

    init() throws {
        seed = FillerBytes.bytes(MLKEM.seedByteCount, seed: Seeds.mlkem)
        privateKey = try MLKEM1024.PrivateKey(seedRepresentation: seed, publicKey: nil)
        publicKey = privateKey.publicKey
        publicKeyBytes = Array(publicKey.rawRepresentation)
        let r = try publicKey.encapsulate()
        ciphertext = Array(r.encapsulated)
        sharedSecret = r.sharedSecret.withUnsafeBytes { Array($0) }
    }
}

/// One ML-KEM call per iteration, ours or swift-crypto's: both sides of a KEM
/// row are this class and differ only in `once`, the body of one iteration
/// (the call and the value it adds to the sink). What `once` works on is made
/// with the case, outside the timed loop, and captured as constants.
final class KEMCase: BenchCase {
    let name: String
    private let once: () throws -> UInt64

    init(_ name: String, _ once: @escaping () throws -> UInt64) {
        self.name = name
        self.once = once
    }

    func run(iterations: Int) throws -> UInt64 {
        let once = once
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= try once()
        }
        return acc
    }
}

extension KEMCase {
    // MARK: Key generation and expansion

    static func keygenOurs() -> KEMCase {
        KEMCase("ours: MLKEM.PrivateKey(random:)") {
            // The public key is computed on use (a re-parse in swift-crypto): not part of keygen.
            let k = MLKEM.PrivateKey()
            return withExtendedLifetime(k) { 1 }
        }
    }

    static func keygenRaw() -> KEMCase {
        KEMCase("MLKEM1024.PrivateKey.generate()") {
            UInt64(try MLKEM1024.PrivateKey.generate().seedRepresentation.first!)
        }
    }

    static func expandOurs() throws -> KEMCase {
        let seed = try KEMFixture().seed
        return KEMCase("ours: MLKEM.PrivateKey(seedRepresentation:)") {
            let k = try MLKEM.PrivateKey(seedRepresentation: seed)
            return withExtendedLifetime(k) { 1 }
        }
    }

    static func expandRaw() throws -> KEMCase {
        let seed = try KEMFixture().seed
        return KEMCase("MLKEM1024.PrivateKey(seedRepresentation:publicKey: nil)") {
            let k = try MLKEM1024.PrivateKey(seedRepresentation: seed, publicKey: nil)
            return UInt64(k.seedRepresentation.first!)
        }
    }

    // MARK: Public key parse

    static func parseOurs() throws -> KEMCase {
        let bytes = try KEMFixture().publicKeyBytes
        return KEMCase("ours: MLKEM.PublicKey(rawRepresentation:)") {
            UInt64(try MLKEM.PublicKey(rawRepresentation: bytes).rawRepresentation.count)
        }
    }

    static func parseRaw() throws -> KEMCase {
        let bytes = try KEMFixture().publicKeyBytes
        return KEMCase("MLKEM1024.PublicKey(rawRepresentation:)") {
            _ = try MLKEM1024.PublicKey(rawRepresentation: bytes)     // opaque C call: cannot be dropped
            return 1
        }
    }

    // MARK: Encapsulation and decapsulation

    static func encapsRaw() throws -> KEMCase {
        let key = try KEMFixture().publicKey
        return KEMCase("MLKEM1024.PublicKey.encapsulate()") {
            UInt64(try key.encapsulate().encapsulated.first!)
        }
    }

    static func decapsOurs() throws -> KEMCase {
        let f = try KEMFixture()
        let key = try MLKEM.PrivateKey(seedRepresentation: f.seed), ct = f.ciphertext
        return KEMCase("ours: MLKEM.PrivateKey.decapsulate") {
            UInt64(try key.decapsulate(ct).withUnsafeBytes { $0[0] })
        }
    }

    static func decapsRaw() throws -> KEMCase {
        let f = try KEMFixture()
        let key = f.privateKey, ct = f.ciphertext
        return KEMCase("MLKEM1024.PrivateKey.decapsulate") {
            UInt64(try key.decapsulate(ct).withUnsafeBytes { $0[0] })
        }
    }
}

// MARK: - The KEM work of one PQXDH setup

/// The swift-crypto calls one PQXDH setup cannot avoid. `.setup`: the
/// recipient expands its KEM prekey from the stored seed, the initiator parses
/// (validates) the bundle's KEM public key, encapsulates, and the recipient
/// decapsulates. `.encapsDecaps`: only the last two, on keys made beforehand.
final class KEMSetupRaw: BenchCase {
    enum Scope { case setup, lastResort, encapsDecaps }

    let name: String
    private let scope: Scope
    private let f: KEMFixture

    init(_ scope: Scope) throws {
        self.scope = scope
        switch scope {
        case .setup: name = "raw: expand from seed + parse + encaps + decaps"
        case .lastResort: name = "raw: parse + encaps + decaps (key kept expanded)"
        case .encapsDecaps: name = "raw: encaps + decaps"
        }
        f = try KEMFixture()
    }

    /// One setup's worth; the shared secrets agree (the self-check relies on it).
    @inline(__always)
    func once() throws -> (initiator: SymmetricKey, recipient: SymmetricKey) {
        switch scope {
        case .setup:
            let privateKey = try MLKEM1024.PrivateKey(seedRepresentation: f.seed, publicKey: nil)
            let publicKey = try MLKEM1024.PublicKey(rawRepresentation: f.publicKeyBytes)
            let r = try publicKey.encapsulate()
            return (r.sharedSecret, try privateKey.decapsulate(r.encapsulated))
        case .lastResort:
            let publicKey = try MLKEM1024.PublicKey(rawRepresentation: f.publicKeyBytes)
            let r = try publicKey.encapsulate()
            return (r.sharedSecret, try f.privateKey.decapsulate(r.encapsulated))
        case .encapsDecaps:
            let r = try f.publicKey.encapsulate()
            return (r.sharedSecret, try f.privateKey.decapsulate(r.encapsulated))
        }
    }

    func run(iterations: Int) throws -> UInt64 {
        var acc: UInt64 = 0
        for _ in 0..<iterations {
            acc &+= UInt64(try once().recipient.withUnsafeBytes { $0[0] })
        }
        return acc
    }
}

// MARK: - Self-check

/// E2EE's ML-KEM wrappers and swift-crypto compute the same keys and secrets,
/// and the raw setup work agrees with itself.
func checkKEM(_ expect: (Bool, String) -> Void) throws {
    let f = try KEMFixture()
    let ours = try MLKEM.PrivateKey(seedRepresentation: f.seed)
    expect(ours.publicKey.rawRepresentation == f.publicKeyBytes, "ML-KEM: expanded public key differs from swift-crypto")
    expect(try MLKEM.PublicKey(rawRepresentation: f.publicKeyBytes) == ours.publicKey,
           "ML-KEM: parsed public key differs from the expanded one")
    expect(try ours.decapsulate(f.ciphertext).withUnsafeBytes { Array($0) } == f.sharedSecret,
           "ML-KEM: decapsulate differs from swift-crypto's encapsulated secret")
    expect(f.ciphertext.count == MLKEM.ciphertextByteCount && f.publicKeyBytes.count == MLKEM.publicKeyByteCount,
           "ML-KEM: sizes \(f.publicKeyBytes.count) / \(f.ciphertext.count)")
    for scope in [KEMSetupRaw.Scope.setup, .encapsDecaps] {
        let (a, b) = try KEMSetupRaw(scope).once()
        expect(a == b, "ML-KEM raw \(scope): the two sides' secrets differ")
    }
}

