import E2EE
import Foundation
import RelayProtocol
@testable import RelayStorage

/// A store on a fresh file under the temporary directory; the file and its
/// WAL companions are deleted afterwards.
func withStore(_ body: (SQLiteRelayStore, String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("relay-store-\(UUID().uuidString).sqlite").path
    defer {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    let store = try SQLiteRelayStore(path: path)
    defer { store.close() }
    try await body(store, path)
}

func address(_ user: String, _ device: UInt32) -> RelayAddress {
    // Test names are valid by construction; a typo should stop the test loudly.
    try! RelayAddress(userID: user, deviceID: device)
}

/// Fixed keys: the same bytes on every run.
enum Keys {
    static let identity = try! IdentityKey.PrivateKey(seed: [UInt8](repeating: 1, count: 32))
    static let otherIdentity = try! IdentityKey.PrivateKey(seed: [UInt8](repeating: 2, count: 32))

    static func x25519(_ seed: UInt8) -> X25519.PublicKey {
        try! X25519.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32)).publicKey
    }

    /// ML-KEM key generation is the costly part: a dozen keys, made once.
    static let kemKeys: [MLKEM.PublicKey] = (1...12).map {
        try! MLKEM.PrivateKey(seedRepresentation: [UInt8](repeating: UInt8($0), count: 64)).publicKey
    }

    static func kem(id: UInt32, key: Int, by identity: IdentityKey.PrivateKey = identity) -> PreKeyBundle.KEM {
        PreKeyBundle.KEM(id: KEMPreKeyID(rawValue: id), publicKey: kemKeys[key],
                         signature: identity.signature(for: kemKeys[key].encoded))
    }

    static func signedPreKey(id: UInt32, seed: UInt8 = 1, by identity: IdentityKey.PrivateKey = identity) -> KeyUpload.SignedPreKey {
        let key = x25519(seed)
        return KeyUpload.SignedPreKey(id: SignedPreKeyID(rawValue: id), publicKey: key,
                                      signature: identity.signature(for: key.encoded))
    }

    static func oneTime(_ ids: [UInt32]) -> [KeyUpload.OneTimePreKey] {
        ids.map { KeyUpload.OneTimePreKey(id: PreKeyID(rawValue: $0), publicKey: x25519(UInt8(truncatingIfNeeded: $0 &+ 10))) }
    }
}

extension RelayStore {
    /// Adds the device with `Keys.identity`, expecting it to be new.
    func add(_ address: RelayAddress, identity: IdentityKey.PrivateKey = Keys.identity) async throws {
        let result = try await addDevice(address, identity: identity.publicKey, nowMs: 1)
        guard result == .added else { throw RelayStoreError("\(address) was not new") }
    }
}

/// The server ids of a `.queued` result, or nil for a mismatch.
func queuedIDs(_ result: EnqueueResult) -> [UInt32: UInt64]? {
    if case .queued(let ids) = result { return ids }
    return nil
}

/// Holds the writer with a job until `count` more jobs wait, so that those
/// form one batch (one transaction); returns once the holding job runs.
func holdWriter(_ writer: SQLiteWriter, until count: Int) async -> Task<Void, any Error> {
    let (started, startedContinuation) = AsyncStream<Void>.makeStream()
    let holder = Task {
        try await writer.perform { _ throws(RelayStoreError) in
            startedContinuation.yield()
            let deadline = Date().addingTimeInterval(20)
            while writer.waitingCount < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        }
    }
    for await _ in started { break }
    return holder
}
