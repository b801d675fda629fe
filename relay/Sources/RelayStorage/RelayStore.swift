import E2EE
import RelayProtocol

/// Why the storage failed: the relay answers 500 and logs `description` (which
/// never holds a key or a message body).
public struct RelayStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// The database could not be reached (or is restarting): the server answers
    /// 503 and the client retries later.
    public let isUnavailable: Bool

    public init(_ description: String, isUnavailable: Bool = false) {
        self.description = description
        self.isUnavailable = isUnavailable
    }
}

/// What ``RelayStore/addDevice(_:identity:nowMs:)`` did.
public enum AddDeviceResult: Sendable, Equatable {
    case added
    /// The address is taken; `sameIdentity` says whether by this identity key
    /// (a repeated registration, which the server treats as success).
    case exists(sameIdentity: Bool)
}

/// What ``RelayStore/enqueue(toUser:from:messages:nowMs:expiresMs:)`` did.
public enum EnqueueResult: Sendable, Equatable {
    /// Every message queued, with its server id per device.
    case queued([UInt32: UInt64])
    /// The device list was not exactly the user's devices (less the sender's own
    /// device when it writes to its own user): nothing was queued.
    case mismatch(missing: [UInt32], extra: [UInt32])
}

/// Remaining one-time keys of a device, for refills.
public struct PreKeyCounts: Sendable, Equatable {
    public let oneTimePreKeys: Int
    public let oneTimeKEMPreKeys: Int

    public init(oneTimePreKeys: Int, oneTimeKEMPreKeys: Int) {
        self.oneTimePreKeys = oneTimePreKeys
        self.oneTimeKEMPreKeys = oneTimeKEMPreKeys
    }
}

/// The relay's storage: devices, token hashes, the key directory and the
/// mailbox. SQLite is the default backend; PostgreSQL (#16) implements the
/// same protocol and runs the same tests.
///
/// Every call is atomic: it happens entirely or not at all, and a call that
/// returned has been made durable (a queued message survives a crash).
public protocol RelayStore: Sendable {
    /// Adds a device. The first device of a user creates the user; the server
    /// decides who may add further ones.
    func addDevice(_ address: RelayAddress, identity: IdentityKey.PublicKey, nowMs: UInt64) async throws(RelayStoreError) -> AddDeviceResult
    /// The device's identity key, or nil for an unknown device.
    func identity(of address: RelayAddress) async throws(RelayStoreError) -> IdentityKey.PublicKey?
    /// The user's device ids, ascending (empty for an unknown user).
    func deviceIDs(ofUser userID: String) async throws(RelayStoreError) -> [UInt32]
    /// Removes the device with its keys, tokens and queue; false if unknown.
    func removeDevice(_ address: RelayAddress) async throws(RelayStoreError) -> Bool

    /// Keeps a token's SHA-256 (never the token) until `expiresMs`.
    func addToken(hash: [UInt8], for address: RelayAddress, expiresMs: UInt64) async throws(RelayStoreError)
    /// The device a token hash belongs to, if it is known and not expired.
    func tokenOwner(hash: [UInt8], nowMs: UInt64) async throws(RelayStoreError) -> RelayAddress?

    /// Applies an upload whose signatures the server verified: a signed prekey
    /// becomes the device's current one, one-time and KEM prekeys join the
    /// pools (an id already held is replaced), removed ids are deleted.
    func applyKeyUpload(_ upload: KeyUpload, for address: RelayAddress, nowMs: UInt64) async throws(RelayStoreError)
    /// A bundle for the device, claiming in one transaction its lowest one-time
    /// prekey and lowest one-time KEM prekey (deleted as they are handed out, so
    /// no key goes to two fetchers); with an empty pool the bundle has no
    /// one-time prekey and the newest last-resort KEM prekey. Nil for an
    /// unknown device or one that never uploaded a signed prekey.
    func claimBundle(for address: RelayAddress) async throws(RelayStoreError) -> PreKeyBundle?
    /// The device's remaining one-time prekeys and one-time KEM prekeys.
    func preKeyCounts(for address: RelayAddress) async throws(RelayStoreError) -> PreKeyCounts

    /// Queues one ciphertext per device of `userID`, all or none, if the
    /// devices named are exactly the user's (less `sender` itself).
    func enqueue(toUser userID: String, from sender: RelayAddress, messages: [UInt32: [UInt8]],
                 nowMs: UInt64, expiresMs: UInt64) async throws(RelayStoreError) -> EnqueueResult
    /// Up to `limit` queued envelopes of the device with a server id above
    /// `after`, oldest first, not expired at `nowMs`.
    func pending(for address: RelayAddress, after serverID: UInt64, limit: Int,
                 nowMs: UInt64) async throws(RelayStoreError) -> [Envelope]
    /// Deletes a delivered message; false if the device has no such message
    /// (already acked, expired, or never its own).
    func acknowledge(_ serverID: UInt64, for address: RelayAddress) async throws(RelayStoreError) -> Bool
    /// Deletes expired messages, token hashes; returns how many messages went.
    func deleteExpired(nowMs: UInt64) async throws(RelayStoreError) -> Int
    /// Messages queued for the device (metrics, tests).
    func queueDepth(for address: RelayAddress) async throws(RelayStoreError) -> Int
}
