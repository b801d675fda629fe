import E2EE
import Testing
@testable import RelayProtocol

/// The request and response bodies of docs/RELAY.md: layouts, round trips,
/// one encoding per value, and every refusal.
@Suite struct RequestTests {
    @Test func registerAndTokenRequestsCarryTheirSignatures() throws {
        let identity = IdentityKey.PrivateKey()
        let register = RegisterRequest(address: Fixture.alice, signedBy: identity)
        let parsed = try RegisterRequest(serialized: register.serialized)
        #expect(parsed == register && parsed.isValid)
        var forged = register.serialized
        forged[forged.count - 1] ^= 1
        #expect(try RegisterRequest(serialized: forged).isValid == false)
        // The statement names the address: a signature for another address does not hold.
        var moved = register.serialized
        moved[Fixture.alice.serialized.count - 1] ^= 2
        #expect(try RegisterRequest(serialized: moved).isValid == false)
        #expect(throws: RelayWireError.truncated(needed: 64, available: 63)) {
            try RegisterRequest(serialized: Array(register.serialized.dropLast()))
        }
        let token = TokenRequest(address: Fixture.alice, nonce: Fixture.counting, signedBy: identity)
        #expect(try TokenRequest(serialized: token.serialized) == token)
        #expect(AuthContext.isValid(signature: token.signature, of: AuthContext.token(nonce: Fixture.counting, address: Fixture.alice),
                                    by: identity.publicKey))
        let grant = try TokenGrant(token: [UInt8](repeating: 5, count: 32), expiresMilliseconds: 77)
        #expect(try TokenGrant(serialized: grant.serialized) == grant)
        #expect(throws: RelayWireError.self) { try TokenGrant(token: [1], expiresMilliseconds: 0) }
    }

    @Test func sendRequestLayoutAndCanonicalOrder() throws {
        let request = try SendRequest(messages: [9: [1], 2: []])
        #expect(request.serialized == hex("0002 00000002 00000000 00000009 00000001 01"))
        #expect(try SendRequest(serialized: request.serialized) == request)
        // The same messages in another order, a repeated device, device 0: refused.
        #expect(throws: RelayWireError.invalidField("devices out of order: 2 after 9")) {
            try SendRequest(serialized: hex("0002 00000009 00000001 01 00000002 00000000"))
        }
        #expect(throws: RelayWireError.invalidField("devices out of order: 2 after 2")) {
            try SendRequest(serialized: hex("0002 00000002 00000000 00000002 00000000"))
        }
        #expect(throws: RelayWireError.invalidDeviceID(0)) { try SendRequest(serialized: hex("0001 00000000 00000000")) }
        #expect(throws: RelayWireError.invalidDeviceID(0)) { try SendRequest(messages: [0: []]) }
        // Counts and lengths are refused before anything is read.
        #expect(throws: RelayWireError.tooMany(field: "devices", count: 33, max: 32)) { try SendRequest(serialized: hex("0021")) }
        #expect(throws: RelayWireError.tooLarge(field: "len", size: Envelope.maxMessageBytes + 1, max: Envelope.maxMessageBytes)) {
            try SendRequest(serialized: hex("0001 00000001 00040001"))
        }
        #expect(throws: RelayWireError.tooLarge(field: "len", size: Int(UInt32.max), max: Envelope.maxMessageBytes)) {
            try SendRequest(serialized: hex("0001 00000001 ffffffff"))
        }
        #expect(throws: RelayWireError.trailingBytes(count: 1)) { try SendRequest(serialized: hex("0000 00")) }
    }

    @Test func resultsMismatchesAndBundleLists() throws {
        let result = try SendResult(serverTimeMilliseconds: 1, serverIDs: [3: 10, 1: 11])
        #expect(result.serialized == hex("0000000000000001 0002 00000001 000000000000000b 00000003 000000000000000a"))
        #expect(try SendResult(serialized: result.serialized) == result)
        #expect(throws: RelayWireError.invalidDeviceID(0)) { try SendResult(serverTimeMilliseconds: 0, serverIDs: [0: 1]) }
        #expect(throws: RelayWireError.invalidField("devices out of order: 1 after 3")) {
            try SendResult(serialized: hex("0000000000000001 0002 00000003 000000000000000a 00000001 000000000000000b"))
        }

        let mismatch = try DeviceMismatch(missing: [4, 2, 4], extra: [9])
        #expect(mismatch.missing == [2, 4] && mismatch.extra == [9])
        #expect(mismatch.serialized == hex("0002 00000002 00000004 0001 00000009"))
        #expect(try DeviceMismatch(serialized: mismatch.serialized) == mismatch)
        #expect(throws: RelayWireError.invalidField("devices out of order: 2 after 4")) {
            try DeviceMismatch(serialized: hex("0002 00000004 00000002 0000"))
        }
        #expect(throws: RelayWireError.invalidDeviceID(0)) { try DeviceMismatch(serialized: hex("0000 0001 00000000")) }

        let list = try BundleList(bundles: [(1, [1, 2]), (5, [])])
        #expect(list.serialized == hex("0002 00000001 00000002 0102 00000005 00000000"))
        #expect(try BundleList(serialized: list.serialized) == list)
        #expect(throws: RelayWireError.invalidField("devices not ascending")) { try BundleList(bundles: [(5, []), (1, [])]) }
        #expect(throws: RelayWireError.tooLarge(field: "bundle", size: 4097, max: 4096)) {
            try BundleList(serialized: hex("0001 00000001 00001001"))
        }
        let counts = KeyCounts(oneTimePreKeys: 3, oneTimeKEMPreKeys: .max)
        #expect(counts.serialized == hex("00000003 ffffffff"))
        #expect(try KeyCounts(serialized: counts.serialized) == counts)
    }
}
