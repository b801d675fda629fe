import E2EE

/// Bob's account and both ends of a session Alice started with it (PQXDH, one
/// first message accepted): the state a store holds in these tests.
struct Pair {
    var bobAccount: Account
    var alice: Session
    var bob: Session
    let aliceIdentity: IdentityKey.PrivateKey

    init() throws {
        aliceIdentity = IdentityKey.PrivateKey()
        bobAccount = Account()
        bobAccount.generateOneTimePreKeys(count: 3)
        alice = try Session.initiate(identity: aliceIdentity, bundle: bobAccount.publishBundle())
        (bob, _) = try bobAccount.acceptSession(from: alice.encrypt(Array("first".utf8)))
    }
}
