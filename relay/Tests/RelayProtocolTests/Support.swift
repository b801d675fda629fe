import E2EE
@testable import RelayProtocol

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator, so every random
/// input of these tests is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }
}

/// Bytes from hex written by hand; spaces and newlines are for reading.
func hex(_ text: String) -> [UInt8] {
    let digits = text.unicodeScalars.filter { !$0.properties.isWhitespace }.map { Character($0) }
    precondition(digits.count % 2 == 0, "odd hex")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// The error `body` threw, or nil if it threw none. (Closures infer
/// `throws(any Error)`, so the parsers' typed error is recovered by a cast.)
func wireError(_ body: () throws -> Void) -> RelayWireError? {
    do {
        try body()
        return nil
    } catch {
        return error as? RelayWireError
    }
}

func isTruncation(_ error: RelayWireError?) -> Bool {
    if case .truncated = error { return true }
    return false
}

/// One parser of the module: parse, then serialise again.
struct Parser: Sendable {
    let name: String
    let parse: @Sendable ([UInt8]) throws(RelayWireError) -> [UInt8]
}

/// Every parser of the module.
let parsers: [Parser] = [
    Parser(name: "RelayAddress") { (b: [UInt8]) throws(RelayWireError) in try RelayAddress(serialized: b).serialized },
    Parser(name: "Envelope") { (b: [UInt8]) throws(RelayWireError) in try Envelope(serialized: b).serialized },
    Parser(name: "Frame") { (b: [UInt8]) throws(RelayWireError) in try Frame(serialized: b).serialized },
    Parser(name: "KeyUpload") { (b: [UInt8]) throws(RelayWireError) in try KeyUpload(serialized: b).serialized },
]

/// Fixed keys and values: the same bytes on every run.
enum Fixture {
    /// RFC 8032 §7.1, test 1: secret key and public key.
    static let rfcSeed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    static let rfcPublic = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    static let identity = try! IdentityKey.PrivateKey(seed: rfcSeed)
    static let otherIdentity = try! IdentityKey.PrivateKey(seed: [UInt8](repeating: 7, count: 32))

    /// RFC 7748 §6.1: Alice's and Bob's X25519 public keys.
    static let alicePublic = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    static let bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")

    static let alice = try! RelayAddress(userID: "alice", deviceID: 1)
    static let aliceHex = "05 616c696365 00000001"
    static let bob = try! RelayAddress(userID: "bob", deviceID: 2)
    static let counting = try! AuthNonce(bytes: Array(0...31))

    static func x25519(_ seed: UInt8) -> X25519.PublicKey {
        try! X25519.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32)).publicKey
    }

    /// ML-KEM key generation is the costly part of a fixture: three keys, made once.
    static let kemKeys: [MLKEM.PublicKey] = (1...3).map {
        try! MLKEM.PrivateKey(seedRepresentation: [UInt8](repeating: $0, count: 64)).publicKey
    }

    static func kem(id: UInt32, key: Int, by identity: IdentityKey.PrivateKey = identity) -> PreKeyBundle.KEM {
        PreKeyBundle.KEM(id: KEMPreKeyID(rawValue: id), publicKey: kemKeys[key],
                         signature: identity.signature(for: kemKeys[key].encoded))
    }

    static func signedPreKey(id: UInt32 = 7, by identity: IdentityKey.PrivateKey = identity) -> KeyUpload.SignedPreKey {
        let key = x25519(1)
        return KeyUpload.SignedPreKey(id: SignedPreKeyID(rawValue: id), publicKey: key,
                                      signature: identity.signature(for: key.encoded))
    }

    /// Every part present: a signed prekey, three one-time prekeys, a
    /// last-resort and two one-time KEM prekeys, and ids to remove.
    static func fullUpload(by identity: IdentityKey.PrivateKey = identity) -> KeyUpload {
        try! KeyUpload(
            signedPreKey: signedPreKey(by: identity),
            oneTimePreKeys: (0..<3).map { KeyUpload.OneTimePreKey(id: PreKeyID(rawValue: 100 + $0), publicKey: x25519(UInt8(2 + $0))) },
            lastResortKEMPreKey: kem(id: 1, key: 0, by: identity),
            oneTimeKEMPreKeys: [kem(id: 2, key: 1, by: identity), kem(id: 3, key: 2, by: identity)],
            removedSignedPreKeyIDs: [SignedPreKeyID(rawValue: 5), SignedPreKeyID(rawValue: 6)],
            removedKEMPreKeyIDs: [KEMPreKeyID(rawValue: 9)])
    }

    static let envelope = try! Envelope(serverID: 0x0102_0304_0506_0708, serverTimeMilliseconds: 0x0000_0190_0000_0001,
                                        sender: bob, ciphertext: [0xAA, 0xBB, 0xCC])
    static let envelopeHex = "01 01 0102030405060708 0000019000000001 03 626f62 00000002 00000003 aabbcc"

    /// One frame of each type.
    static let frames: [Frame] = [
        .challenge(counting),
        .auth(address: alice, signature: [UInt8](repeating: 0x11, count: 64)),
        .envelope(envelope),
        .ack(serverID: 258),
        .replaced,
        .ready,
        .error(code: 401, reason: "hello"),
    ]
}
