import Foundation
import Testing
import E2EE

/// The README's two-party example, verbatim but for `assert` → `#expect`
/// (``readmeExampleIsTheCodeTested`` checks that the two agree).
@Test func readmeTwoPartyExample() throws {
    // README begin
    // Bob's device: an account with prekeys (X25519 and ML-KEM-1024); a server
    // stores his bundle.
    var bob = Account()
    bob.generateOneTimePreKeys(count: 100)
    bob.generateOneTimeKEMPreKeys(count: 100)
    let bundle = bob.publishBundle().serialized            // upload these bytes

    // Alice fetches the bundle and starts a session while Bob is offline: PQXDH,
    // since the bundle has a KEM prekey (one without is refused unless she passes
    // allowClassical: true).
    let aliceIdentity = IdentityKey.PrivateKey()
    var alice = try Session.initiate(identity: aliceIdentity, bundle: bundle)
    let first = try alice.encrypt(Array("Hi Bob!".utf8))  // a PQPreKeyMessage

    // Bob comes online: the first message creates his side of the session
    // (and only then are the one-time prekeys it used deleted).
    var (bobSession, hello) = try bob.acceptSession(from: first)
    #expect(hello == Array("Hi Bob!".utf8))

    // From now on both sides encrypt and decrypt freely, in any order.
    let reply = try bobSession.encrypt(Array("Hi Alice!".utf8))
    #expect(try alice.decrypt(reply) == Array("Hi Alice!".utf8))

    // Sessions are values: persist them as versioned records.
    var restored = try Session(serialized: bobSession.serialized())
    let later = try alice.encrypt(Array("still there?".utf8))
    #expect(try restored.decrypt(later) == Array("still there?".utf8))

    // Tampered, replayed or misdirected messages are typed errors, never garbage.
    do {
        _ = try restored.decrypt(later)
    } catch {
        #expect(error == .duplicate(index: 0))
    }
    // README end
    // The README's catch block runs only if the replay is refused: make sure it was.
    #expect(throws: DecryptError.duplicate(index: 0)) { try restored.decrypt(later) }
}

/// The code above is the README's example, line for line: they cannot drift apart.
@Test func readmeExampleIsTheCodeTested() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let test = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    func lines(_ text: Substring) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    let blocks = readme.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    let example = try #require(blocks.first { $0.hasPrefix("import E2EE\n") && $0.contains("Session.initiate") })
    let expected = lines(example.dropFirst("import E2EE\n".count)).map { $0.replacingOccurrences(of: "assert(", with: "#expect(") }
    let begin = try #require(test.range(of: "// README " + "begin\n")), end = try #require(test.range(of: "// README " + "end"))
    let tested = lines(test[begin.upperBound..<end.lowerBound])
    #expect(tested == expected)
    #expect(expected.count > 15)
}

/// The README's primitive snippet, with concrete inputs.
@Test func readmePrimitivesExample() throws {
    let peerKey = X25519.PrivateKey()
    let someBytes = peerKey.publicKey.rawRepresentation
    let rootBytes = [UInt8](repeating: 7, count: 32)
    let plaintext = Array("hi".utf8), ad = Array("ad".utf8)

    let key = X25519.PrivateKey()
    let peer = try X25519.PublicKey(rawRepresentation: someBytes)
    let dh = try key.sharedSecret(with: peer)
    var (_, chain) = try RootKey(rawRepresentation: rootBytes).advanced(with: dh)
    let sealed = try AEADv1.seal(plaintext, using: chain.next(), authenticating: ad)
    #expect(sealed.count == plaintext.count + AEADv1.overhead)
    // The same steps on the other side give the same key: the message opens,
    // and only with the chain's first key and the same associated data.
    let theirDH = try peerKey.sharedSecret(with: key.publicKey)
    var (_, theirChain) = try RootKey(rawRepresentation: rootBytes).advanced(with: theirDH)
    var copy = theirChain
    #expect(try AEADv1.open(sealed, using: theirChain.next(), authenticating: ad) == plaintext)
    _ = copy.next()
    #expect(throws: CryptoError.self) { try AEADv1.open(sealed, using: copy.next(), authenticating: ad) }
    #expect(throws: CryptoError.self) { try AEADv1.open(sealed, using: theirChain.next(), authenticating: Array("other".utf8)) }
    // Low-order keys are refused, as the README says.
    #expect(throws: CryptoError.invalidPublicKey) { try X25519.PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 32)) }
}

/// The version the package reports is CHANGELOG.md's newest entry, and the
/// README states the versioning rule.
@Test func versionMatchesTheChangelog() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let changelog = try String(contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
    let newest = try #require(changelog.components(separatedBy: "\n## [").dropFirst().first?.components(separatedBy: "]").first)
    #expect(newest == E2EEVersion.current)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("semantic versioning"))
    #expect(!readme.contains("shared/PROTOCOL"), "the README points at the protocol in the repository")
}
