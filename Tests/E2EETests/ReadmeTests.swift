import Testing
import E2EE

/// The README's two-party example, verbatim but for `assert` → `#expect`.
@Test func readmeTwoPartyExample() throws {
    var bob = Account()
    bob.generateOneTimePreKeys(count: 100)
    let bundle = bob.publishBundle().serialized

    let aliceIdentity = IdentityKey.PrivateKey()
    var alice = try Session.initiate(identity: aliceIdentity, bundle: bundle)
    let first = try alice.encrypt(Array("Hi Bob!".utf8))

    var (bobSession, hello) = try bob.acceptSession(from: first)
    #expect(hello == Array("Hi Bob!".utf8))

    let reply = try bobSession.encrypt(Array("Hi Alice!".utf8))
    #expect(try alice.decrypt(reply) == Array("Hi Alice!".utf8))

    var restored = try Session(serialized: bobSession.serialized())
    let later = try alice.encrypt(Array("still there?".utf8))
    #expect(try restored.decrypt(later) == Array("still there?".utf8))

    do {
        _ = try restored.decrypt(later)
        Issue.record("a replay decrypted")
    } catch {
        #expect(error == .duplicate(index: 0))
    }
}

/// The README's primitive snippet, with concrete inputs.
@Test func readmePrimitivesExample() throws {
    let someBytes = X25519.PrivateKey().publicKey.rawRepresentation
    let rootBytes = [UInt8](repeating: 7, count: 32)
    let plaintext = Array("hi".utf8), ad = Array("ad".utf8)

    let key = X25519.PrivateKey()
    let peer = try X25519.PublicKey(rawRepresentation: someBytes)
    let dh = try key.sharedSecret(with: peer)
    var (_, chain) = try RootKey(rawRepresentation: rootBytes).advanced(with: dh)
    let sealed = try AEADv1.seal(plaintext, using: chain.next(), authenticating: ad)
    #expect(sealed.count == plaintext.count + AEADv1.overhead)
}
