import Testing
@testable import E2EE

/// `maintainDirectory`: the pool a relay takes at once and hands out itself.
@Suite("Directory maintenance")
struct DirectoryMaintenanceTests {
    let policy = PreKeyPolicy(minimumOneTimePreKeys: 10, targetOneTimePreKeys: 30,
                              minimumOneTimeKEMPreKeys: 4, targetOneTimeKEMPreKeys: 8)

    @Test func firstUploadCarriesCurrentKeysAndFullPools() throws {
        let bob = try Device("bob")
        let account = try #require(try bob.store.loadAccount())
        let upload = try bob.manager.maintainDirectory(policy: policy, remaining: nil)
        let spk = try #require(upload.newSignedPreKey)
        #expect(spk.id == account.currentSignedPreKey.id)
        #expect(bob.manager.identity.publicKey.isValidSignature(spk.signature, for: spk.publicKey.encoded))
        let lastResort = try #require(upload.newLastResortKEMPreKey)
        #expect(lastResort.id == account.currentLastResortKEMPreKey?.id)
        // Keys the account made earlier go out too (a new account has a pool of its own).
        let oneTime = max(30, account.unpublishedOneTimePreKeyCount), kem = max(8, account.unpublishedKEMPreKeyCount)
        #expect(upload.newOneTimePreKeys.count == oneTime)
        #expect(upload.newKEMPreKeys.count == kem)
        #expect(Set(upload.newOneTimePreKeys.map(\.id)).count == oneTime)
        for kem in upload.newKEMPreKeys + [lastResort] {
            #expect(bob.manager.identity.publicKey.isValidSignature(kem.signature, for: kem.publicKey.encoded))
        }
        // Everything went out: nothing is left to hand out, and the mark was committed.
        let after = try #require(try bob.store.loadAccount())
        #expect(after.unpublishedOneTimePreKeyCount == 0)
        #expect(after.unpublishedKEMPreKeyCount == 0)
    }

    @Test func refillsOnlyBelowTheMinimumAndNeverResends() throws {
        let bob = try Device("bob")
        let first = try bob.manager.maintainDirectory(policy: policy, remaining: nil)
        // The directory still holds enough: nothing to send, not even the current keys.
        let idle = try bob.manager.maintainDirectory(policy: policy, remaining: (oneTime: 10, kem: 4))
        #expect(idle.isEmpty)
        // Below the minimum: topped up to the target, with ids never sent before.
        let refill = try bob.manager.maintainDirectory(policy: policy, remaining: (oneTime: 9, kem: 1))
        #expect(refill.newOneTimePreKeys.count == 21)
        #expect(refill.newKEMPreKeys.count == 7)
        #expect(refill.newSignedPreKey == nil && refill.newLastResortKEMPreKey == nil)
        #expect(Set(first.newOneTimePreKeys.map(\.id)).isDisjoint(with: refill.newOneTimePreKeys.map(\.id)))
        #expect(Set(first.newKEMPreKeys.map(\.id)).isDisjoint(with: refill.newKEMPreKeys.map(\.id)))
        // A bundle handed out by the library itself no longer offers keys the directory holds.
        #expect(try bob.manager.publishBundle().oneTimePreKey == nil)
    }

    /// Keys from the upload, served as a directory would, set up a session the
    /// account accepts, and the one-time keys it names are consumed.
    @Test func uploadedKeysSetUpSessions() throws {
        let alice = try Device("alice"), bob = try Device("bob")
        let upload = try bob.manager.maintainDirectory(policy: policy, remaining: nil)
        let spk = try #require(upload.newSignedPreKey)
        let bundle = PreKeyBundle(identityKey: bob.manager.identity.publicKey, signedPreKeyID: spk.id,
                                  signedPreKey: spk.publicKey, signedPreKeySignature: spk.signature,
                                  oneTimePreKey: upload.newOneTimePreKeys[7], kemPreKey: upload.newKEMPreKeys[3])
        try alice.manager.startSession(with: bob.address, bundle: bundle)
        #expect(try bob.manager.receive(alice.send("hi", to: bob), from: alice.address) == Array("hi".utf8))
        let next = try bob.manager.maintainDirectory(policy: policy, remaining: (oneTime: 29, kem: 7))
        #expect(next.consumedOneTimePreKeyIDs == [upload.newOneTimePreKeys[7].id])
        #expect(next.consumedKEMPreKeyIDs == [upload.newKEMPreKeys[3].id])
    }
}
