import E2EE
import FuzzTargets
import RelayFuzzChecks
import RelayProtocol

/// The seeds of `relay_request` (fuzz/relay_request/corpus/): valid inputs of
/// every parser, `u8 kind || body`, named `<kind>-<what>`. Deterministic: keys
/// come from labelled fixtures (an `Account` built from a fixed record, whose
/// directory upload is what a client sends), Ed25519 signatures are
/// deterministic, and nonces and tokens are fixed bytes.
enum RelaySeeds {
    static func files() throws -> [(name: String, bytes: [UInt8])] {
        var out = [(name: String, bytes: [UInt8])]()
        func add(_ kind: RelayRequestKind, _ what: String, _ body: [UInt8]) {
            out.append(("\(kind.name)-\(what)", [kind.rawValue] + body))
        }

        let identity = Fixtures.identity("relay alice identity")
        let alice = try RelayAddress(userID: "alice", deviceID: 1)
        let bob = try RelayAddress(userID: "bob.B-2_x", deviceID: 7)
        let longest = try RelayAddress(userID: String(repeating: "u", count: RelayAddress.maxUserIDBytes), deviceID: .max)
        let challenge = try AuthNonce(bytes: (0..<32).map { UInt8($0) })
        let envelope = try Envelope(serverID: 1_000_001, serverTimeMilliseconds: 1_764_860_000_000, sender: bob,
                                    ciphertext: (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37) })

        // A device's first upload to a directory: signed prekey, last-resort KEM
        // prekey, two one-time prekeys, one one-time KEM prekey.
        var account = Fixtures.account("relay alice", oneTimePreKeys: 2, oneTimeKEMPreKeys: 1)
        let policy = PreKeyPolicy(minimumOneTimePreKeys: 0, targetOneTimePreKeys: 2,
                                  minimumOneTimeKEMPreKeys: 0, targetOneTimeKEMPreKeys: 1)
        let upload = try KeyUpload(account.maintainDirectory(now: 0, policy: policy, remaining: nil))
        precondition(upload.signedPreKey != nil && upload.lastResortKEMPreKey != nil
                     && upload.oneTimePreKeys.count == 2 && upload.oneTimeKEMPreKeys.count == 1,
                     "relay seeds: the fixture account's directory upload changed")
        precondition(upload.verifySignatures(identity: account.identity.publicKey), "relay seeds: bad upload signatures")
        var bundleAccount = Fixtures.account("relay bob", oneTimePreKeys: 1)
        let bundle = bundleAccount.publishBundle().serialized
        let classicalBundle = bundleAccount.publishClassicalBundle().serialized

        add(.frame, "challenge", Frame.challenge(challenge).serialized)
        add(.frame, "auth", Frame.auth(address: alice, signature: identity.signature(
            for: AuthContext.webSocket(challenge: challenge, address: alice))).serialized)
        add(.frame, "envelope", Frame.envelope(envelope).serialized)
        add(.frame, "ack", Frame.ack(serverID: 1_000_001).serialized)
        add(.frame, "replaced", Frame.replaced.serialized)
        add(.frame, "ready", Frame.ready.serialized)
        add(.frame, "error", Frame.error(code: 429, reason: "rate limited: é ✓").serialized)
        add(.frame, "send", Frame.send(requestID: 7, user: "bob", request: try SendRequest(messages: [
            1: Array(repeating: 0x11, count: 12), 3: [0x33],
        ])).serialized)
        add(.frame, "send-result", Frame.sendResult(requestID: 7, status: 409,
                                                    body: try DeviceMismatch(missing: [2], extra: [3]).serialized).serialized)

        add(.envelope, "message", envelope.serialized)
        add(.envelope, "empty", try Envelope(serverID: 0, serverTimeMilliseconds: 0, sender: longest, ciphertext: []).serialized)

        add(.address, "short", alice.serialized)
        add(.address, "longest", longest.serialized)

        add(.keyUpload, "first-upload", upload.serialized)
        add(.keyUpload, "empty", try KeyUpload().serialized)
        add(.keyUpload, "one-time-and-removals", try KeyUpload(
            oneTimePreKeys: upload.oneTimePreKeys,
            removedSignedPreKeyIDs: [SignedPreKeyID(rawValue: 1)],
            removedKEMPreKeyIDs: [KEMPreKeyID(rawValue: 3), KEMPreKeyID(rawValue: 2)]).serialized)

        add(.register, "alice", RegisterRequest(address: alice, signedBy: identity).serialized)
        add(.tokenRequest, "alice", TokenRequest(address: alice, nonce: challenge, signedBy: identity).serialized)
        add(.tokenGrant, "grant", try TokenGrant(token: (0..<32).map { UInt8(0xA0 ^ $0) },
                                                 expiresMilliseconds: 1_764_860_300_000).serialized)

        add(.sendRequest, "three-devices", try SendRequest(messages: [
            1: Array(repeating: 0x11, count: 24), 2: [], 7: Array(repeating: 0x77, count: 9),
        ]).serialized)
        // Devices out of order: refused (one encoding per request), a seed for the refusal path.
        var unsorted = [UInt8]()
        unsorted.appendBE(UInt16(2))
        for (device, body) in [(UInt32(9), [UInt8](repeating: 0x99, count: 3)), (UInt32(4), [0x44])] {
            unsorted.appendBE(device)
            unsorted.appendBE(UInt32(body.count))
            unsorted += body
        }
        add(.sendRequest, "unsorted", unsorted)

        add(.sendResult, "two-devices", try SendResult(serverTimeMilliseconds: 1_764_860_000_000,
                                                       serverIDs: [1: 17, 7: 18]).serialized)
        var unsortedResult = [UInt8]()
        unsortedResult.appendBE(UInt64(5))
        unsortedResult.appendBE(UInt16(2))
        unsortedResult.appendBE(UInt32(8)); unsortedResult.appendBE(UInt64(1))
        unsortedResult.appendBE(UInt32(3)); unsortedResult.appendBE(UInt64(2))
        add(.sendResult, "unsorted", unsortedResult)

        add(.deviceMismatch, "missing-and-extra", try DeviceMismatch(missing: [2, 3], extra: [5]).serialized)
        var unsortedMismatch = [UInt8]()
        unsortedMismatch.appendBE(UInt16(2))
        unsortedMismatch.appendBE(UInt32(6)); unsortedMismatch.appendBE(UInt32(1))
        unsortedMismatch.appendBE(UInt16(0))
        add(.deviceMismatch, "unsorted", unsortedMismatch)

        add(.bundleList, "two-devices", try BundleList(bundles: [(1, bundle), (2, classicalBundle)]).serialized)
        add(.bundleList, "empty", try BundleList(bundles: []).serialized)

        add(.keyCounts, "counts", KeyCounts(oneTimePreKeys: 98, oneTimeKEMPreKeys: 3).serialized)

        for file in out {
            // Every seed passes the harness's checks, or the generator would commit a crash.
            do { try RelayRequestHarness.check(file.bytes) } catch {
                fatalError("relay seed \(file.name): \(error.description)")
            }
        }
        return out
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` big-endian (the relay's byte order).
    mutating func appendBE<T: FixedWidthInteger>(_ value: T) {
        for shift in stride(from: T.bitWidth - 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}
