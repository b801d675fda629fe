import Testing
@testable import E2EE

/// Exact-byte SenderKeyDistribution and SenderKeyMessage vectors from the
/// independent Python implementation in scripts/gen_group_vectors.py.
@Suite("Group vectors (suite v1)")
struct GroupVectorTests {
    struct File: Decodable {
        struct Chain: Decodable {
            struct Distribution: Decodable { let name, chain_key, wire: String; let iteration: UInt32 }
            struct Message: Decodable { let `guard`, message_key, plaintext, wire: String; let iteration: UInt32 }
            let name, chain_key_0, signing_seed, signing_public: String
            let chain_id: UInt32
            let distributions: [Distribution]
            let messages: [Message]
            let chain_keys: [String: String]
        }
        let distribution_id: String
        let chains: [Chain]
    }

    @Test func chains() throws {
        let file = try loadVectors("group_v1.json", as: File.self)
        let id = try DistributionID(rawValue: hex(file.distribution_id))
        #expect(file.chains.map(\.name) == ["initial", "rotated"])
        for c in file.chains {
            let signing = try IdentityKey.PrivateKey(seed: hex(c.signing_seed))
            #expect(signing.publicKey.rawRepresentation == hex(c.signing_public))
            var own = sending(id, SendingChain(chainID: c.chain_id, iteration: 0,
                                               chainKey: try SenderChainKey(rawRepresentation: hex(c.chain_key_0)),
                                               signingKey: signing))
            let d0 = try #require(c.distributions.first { $0.iteration == 0 })
            #expect(hexString(own.distribution.serialized) == d0.wire, "\(c.name) distribution_0")
            // Parse the distribution as a receiver would, and check it.
            let parsed = try SenderKeyDistribution(serialized: hex(d0.wire))
            #expect(parsed.chainID == c.chain_id && parsed.iteration == 0 && parsed.distributionID == id)
            #expect(parsed.serialized == hex(d0.wire))
            var receiver = try receiving(id)
            try receiver.process(parsed, from: sender, identity: identity(0))

            // The sender sends iterations in order; a lost message just moves its chain on.
            let byIteration = Dictionary(uniqueKeysWithValues: c.messages.map { ($0.iteration, $0) })
            let last = c.messages.map(\.iteration).max()!
            for it in 0...last {
                if let m = byIteration[it] {
                    let wire = try own.encrypt(hex(m.plaintext), random: ScriptedRandom(keys: [], guards: [hex(m.guard)]))
                    #expect(hexString(wire) == m.wire, "\(c.name) message \(it)")
                } else {
                    _ = own.own.chainKey.next()
                    own.own.iteration += 1
                }
                if let expected = c.chain_keys[String(it + 1)] {
                    #expect(hexString(own.own.chainKey.bytes.unsafeArrayCopy) == expected, "\(c.name) ck_\(it + 1)")
                }
            }
            // The distribution a member added after iteration 2 receives.
            if let d3 = c.distributions.first(where: { $0.iteration == 3 }) {
                var replay = sending(id, SendingChain(chainID: c.chain_id, iteration: 3,
                                                      chainKey: try SenderChainKey(rawRepresentation: hex(d3.chain_key)),
                                                      signingKey: signing))
                #expect(hexString(replay.distribution.serialized) == d3.wire)
                var late = try receiving(id)
                try late.process(SenderKeyDistribution(serialized: hex(d3.wire)), from: sender, identity: identity(0))
                for m in c.messages {
                    if m.iteration < 3 {
                        #expect(throws: GroupError.duplicate(iteration: m.iteration)) { try late.decrypt(hex(m.wire), from: sender) }
                    } else {
                        #expect(try late.decrypt(hex(m.wire), from: sender) == hex(m.plaintext))
                    }
                }
                _ = try replay.encrypt([1])
            }
            // Delivery in the file's order (with a gap and a late message).
            for m in c.messages {
                #expect(try receiver.decrypt(hex(m.wire), from: sender) == hex(m.plaintext), "\(c.name) \(m.iteration)")
            }
            for m in c.messages {
                #expect(throws: GroupError.duplicate(iteration: m.iteration)) { try receiver.decrypt(hex(m.wire), from: sender) }
            }
        }
    }
}

/// The vectors' sender (member 0's identity) with its chain, and a receiver
/// whose roster lists it.
private let sender = ProtocolAddress(userID: "sender", deviceID: 1)

private func sending(_ id: DistributionID, _ chain: SendingChain) -> GroupSession {
    GroupSession(distributionID: id, localAddress: sender, localIdentity: identity(0), revision: 1,
                 roster: [GroupMember(address: sender, identityKey: identity(0), isAdmin: true)], pending: [],
                 own: chain, senders: [:])
}

private func receiving(_ id: DistributionID) throws -> GroupSession {
    try GroupSession(distributionID: id, local: member(1), identity: identity(1),
                     members: [GroupMember(address: sender, identityKey: identity(0))])
}
