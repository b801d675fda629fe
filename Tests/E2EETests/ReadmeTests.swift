import Testing
import E2EE

/// The README's foundation example, verbatim (with `assert` as `#expect`).
@Test func readmeFoundationExample() throws {
    let alice = IdentityKey.PrivateKey()
    let bob = IdentityKey.PrivateKey()
    let signature = alice.signature(for: Array("hello".utf8))
    #expect(alice.publicKey.isValidSignature(signature, for: Array("hello".utf8)))

    let ephemeral = X25519.PrivateKey()
    let dh = try ephemeral.sharedSecret(with: bob.publicKey.keyAgreementKey())
    let sameDH = try bob.sharedSecret(with: ephemeral.publicKey)
    #expect(dh == sameDH)

    let root = try RootKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
    var (_, chain) = root.advanced(with: dh)
    let messageKey = chain.next()

    let ad = Array("header".utf8)
    let sealed = try AEADv1.seal(Array("hi Bob".utf8), using: messageKey, authenticating: ad)
    let opened = try AEADv1.open(sealed, using: messageKey, authenticating: ad)
    #expect(opened == Array("hi Bob".utf8))
}
