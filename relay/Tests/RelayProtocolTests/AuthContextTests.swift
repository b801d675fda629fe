import E2EE
import Testing
@testable import RelayProtocol

/// The signed statements, pinned byte for byte: the expected hex is written
/// from the layout (ASCII context, 32-byte nonce, `u8 len || user || u32 device`,
/// 32-byte identity), so a change of format fails here.
@Suite struct AuthContextTests {
    // "E2EE-relay v1 "
    static let prefix = "45 32 45 45 2d 72 65 6c 61 79 20 76 31 20"
    static let counting = "000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f"

    @Test func webSocketStatement() {
        #expect(AuthContext.webSocket(challenge: Fixture.counting, address: Fixture.alice)
            == hex(Self.prefix + "77 73" + Self.counting + "05 61 6c 69 63 65 00 00 00 01"))
    }

    @Test func tokenStatement() {
        #expect(AuthContext.token(nonce: Fixture.counting, address: Fixture.alice)
            == hex(Self.prefix + "74 6f 6b 65 6e" + Self.counting + "05 61 6c 69 63 65 00 00 00 01"))
    }

    @Test func registerStatement() throws {
        let identity = try IdentityKey.PublicKey(rawRepresentation: Fixture.rfcPublic)
        #expect(AuthContext.register(address: Fixture.alice, identity: identity)
            == hex(Self.prefix + "72 65 67 69 73 74 65 72" + "05 61 6c 69 63 65 00 00 00 01"
                + "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
    }

    @Test func contextsAreDistinct() {
        let ws = AuthContext.webSocket(challenge: Fixture.counting, address: Fixture.alice)
        let token = AuthContext.token(nonce: Fixture.counting, address: Fixture.alice)
        #expect(ws != token)
        let signature = Fixture.identity.signature(for: ws)
        #expect(AuthContext.isValid(signature: signature, of: ws, by: Fixture.identity.publicKey))
        #expect(!AuthContext.isValid(signature: signature, of: token, by: Fixture.identity.publicKey))
    }

    @Test func verification() throws {
        #expect(Fixture.identity.publicKey.rawRepresentation == Fixture.rfcPublic)
        let statements = [
            AuthContext.webSocket(challenge: Fixture.counting, address: Fixture.alice),
            AuthContext.token(nonce: Fixture.counting, address: Fixture.bob),
            AuthContext.register(address: Fixture.alice, identity: Fixture.identity.publicKey),
        ]
        for statement in statements {
            let signature = Fixture.identity.signature(for: statement)
            let key = Fixture.identity.publicKey
            #expect(AuthContext.isValid(signature: signature, of: statement, by: key))
            #expect(!AuthContext.isValid(signature: signature, of: statement, by: Fixture.otherIdentity.publicKey))
            for bit in stride(from: 0, to: 512, by: 37) {
                var flipped = signature
                flipped[bit / 8] ^= 1 << (bit % 8)
                #expect(!AuthContext.isValid(signature: flipped, of: statement, by: key), "bit \(bit)")
            }
            var changed = statement
            changed[changed.count - 1] ^= 1
            #expect(!AuthContext.isValid(signature: signature, of: changed, by: key))
            #expect(!AuthContext.isValid(signature: Array(signature.dropLast()), of: statement, by: key))
            #expect(!AuthContext.isValid(signature: [], of: statement, by: key))
        }
    }

    @Test func nonce() throws {
        #expect(throws: RelayWireError.invalidField("nonce: 31 bytes, not 32")) {
            try AuthNonce(bytes: [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: RelayWireError.invalidField("nonce: 33 bytes, not 32")) {
            try AuthNonce(bytes: [UInt8](repeating: 0, count: 33))
        }
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        let first = AuthNonce.random(using: &a)
        #expect(first == AuthNonce.random(using: &b))
        #expect(first != AuthNonce.random(using: &a))
        #expect(first.bytes.count == 32)
        #expect(AuthNonce.random() != AuthNonce.random())
    }
}
