import E2EE
import Hummingbird
import Logging
import Metrics
import RelayProtocol
import RelayStorage
import Synchronization

/// Limits of one relay process (docs/RELAY.md).
public struct RelayLimits: Sendable, Equatable {
    /// Bundle fetches by one device for one target user.
    public var fetchPerTarget = RateLimit(burst: 10, perSecond: 10.0 / 60)
    /// Bundle fetches by one device, all targets together.
    public var fetchPerRequester = RateLimit(burst: 100, perSecond: 100.0 / 60)
    /// Send requests by one device.
    public var sendPerSender = RateLimit(burst: 1000, perSecond: 500)
    /// How long a queued message waits for its device.
    public var messageTTLMilliseconds: UInt64 = 30 * 24 * 3600 * 1000
    /// How long a bearer token is valid.
    public var tokenLifetimeMilliseconds: UInt64 = 3600 * 1000
    /// How long an auth challenge may be answered.
    public var challengeLifetimeMilliseconds: UInt64 = 60 * 1000
    /// Challenges outstanding at once (a flood of requests for them gets 503).
    public var maxChallenges = 100_000

    public init() {}
}

/// The relay's request handling, over a ``RelayStore``: the routes of
/// docs/RELAY.md as methods, so the application only wires them up.
public final class RelayService: Sendable {
    let store: any RelayStore
    let limits: RelayLimits
    let logger: Logger
    let hub = DeliveryHub()
    let limiter = RateLimiter()
    private let challenges = Mutex<[AuthNonce: UInt64]>([:])
    /// Token hash → owner and expiry: a cache of the store, so that a request
    /// costs no database read.
    private let tokens = Mutex<[[UInt8]: (address: RelayAddress, expiresMs: UInt64)]>([:])
    let clock: @Sendable () -> UInt64
    let metrics = RelayMetrics()
    let lifecycle = Lifecycle()
    let gauges = StoreGauges()

    public init(store: any RelayStore, limits: RelayLimits = RelayLimits(), logger: Logger,
                clock: @escaping @Sendable () -> UInt64 = RelayService.wallClockMilliseconds) {
        self.store = store
        self.limits = limits
        self.logger = logger
        self.clock = clock
        connectToOtherNodes()
    }

    public static let wallClockMilliseconds: @Sendable () -> UInt64 = {
        UInt64(max(0, Date.now.timeIntervalSince1970 * 1000))
    }

    // MARK: Registration

    /// `POST /v1/devices`. The first device of a user needs only its own
    /// signature; a further one also needs a token of a device of that user.
    func register(_ body: [UInt8], bearer: String?) async throws -> (HTTPResponse.Status, [UInt8]) {
        let request: RegisterRequest
        do { request = try RegisterRequest(serialized: body) } catch { throw bad(error) }
        guard request.isValid else { throw HTTPError(.unauthorized, message: "bad signature") }
        let address = request.address
        let existing = try await store.deviceIDs(ofUser: address.userID)
        if !existing.isEmpty && !existing.contains(address.deviceID) {
            // A stranger must not add a device to someone's account and be sent copies.
            guard let bearer else { throw HTTPError(.unauthorized, message: "a further device needs a token of the user") }
            let approver = try await authenticate(bearer)
            guard approver.userID == address.userID else {
                throw HTTPError(.forbidden, message: "the token is another user's")
            }
            guard existing.count < SendRequest.maxDevices else {
                throw HTTPError(.forbidden, message: "at most \(SendRequest.maxDevices) devices per user")
            }
        }
        switch try await store.addDevice(address, identity: request.identity, nowMs: clock()) {
        case .added:
            metrics.registered.increment()
            logger.info("device registered", metadata: ["device": "\(address)"])
            return (.created, [])
        case .exists(sameIdentity: true):
            return (.ok, [])
        case .exists(sameIdentity: false):
            throw HTTPError(.conflict, message: "the device id is taken")
        }
    }

    /// `DELETE /v1/devices/{device}`: any device of the user removes one.
    func removeDevice(_ deviceText: String, bearer: String?) async throws -> HTTPResponse.Status {
        let owner = try await authenticate(bearer)
        guard let device = UInt32(deviceText), let address = try? RelayAddress(userID: owner.userID, deviceID: device) else {
            throw HTTPError(.badRequest, message: "bad device id")
        }
        guard try await store.removeDevice(address) else { throw HTTPError(.notFound) }
        tokens.withLock { $0 = $0.filter { $0.value.address != address } }
        hub.disconnect(address)
        logger.info("device removed", metadata: ["device": "\(address)", "by": "\(owner)"])
        return .noContent
    }

    // MARK: Authentication

    /// A fresh nonce, kept until answered or expired.
    func challenge() throws -> AuthNonce {
        let now = clock()
        let nonce = AuthNonce.random()
        let admitted = challenges.withLock { book -> Bool in
            if book.count >= limits.maxChallenges { book = book.filter { $0.value > now } }
            guard book.count < limits.maxChallenges else { return false }
            book[nonce] = now &+ limits.challengeLifetimeMilliseconds
            return true
        }
        guard admitted else { throw HTTPError(.serviceUnavailable, message: "too many challenges outstanding") }
        return nonce
    }

    /// `POST /v1/auth/token`: a signed, unexpired, never-used nonce gives a token.
    func token(_ body: [UInt8]) async throws -> TokenGrant {
        let request: TokenRequest
        do { request = try TokenRequest(serialized: body) } catch { throw bad(error) }
        let now = clock()
        // Taken out whatever follows: a nonce is answered once.
        let expiry = challenges.withLock { $0.removeValue(forKey: request.nonce) }
        guard let expiry, expiry > now else { throw HTTPError(.unauthorized, message: "unknown or expired challenge") }
        guard let identity = try await store.identity(of: request.address),
              AuthContext.isValid(signature: request.signature,
                                  of: AuthContext.token(nonce: request.nonce, address: request.address), by: identity)
        else { throw HTTPError(.unauthorized, message: "bad signature or unknown device") }
        var random = SystemRandomNumberGenerator()
        let token = (0..<TokenGrant.tokenByteCount).map { _ in UInt8.random(in: 0...255, using: &random) }
        let expires = now &+ limits.tokenLifetimeMilliseconds
        let hash = try Self.tokenHash(token)
        try await store.addToken(hash: hash, for: request.address, expiresMs: expires)
        tokens.withLock { $0[hash] = (request.address, expires) }
        return try TokenGrant(token: token, expiresMilliseconds: expires)
    }

    /// Whether a WebSocket `auth` frame answers `challenge` for a registered device.
    func verifyWebSocket(challenge: AuthNonce, address: RelayAddress, signature: [UInt8]) async throws -> Bool {
        guard let identity = try await store.identity(of: address) else { return false }
        return AuthContext.isValid(signature: signature, of: AuthContext.webSocket(challenge: challenge, address: address),
                                   by: identity)
    }

    /// The device a bearer token belongs to; 401 otherwise.
    func authenticate(_ bearer: String?) async throws -> RelayAddress {
        guard let bearer, let token = Self.parseBearer(bearer) else {
            throw HTTPError(.unauthorized, message: "missing or malformed bearer token")
        }
        let hash = try Self.tokenHash(token)
        let now = clock()
        if let cached = tokens.withLock({ $0[hash] }), cached.expiresMs > now { return cached.address }
        guard let owner = try await store.tokenOwner(hash: hash, nowMs: now) else {
            throw HTTPError(.unauthorized, message: "unknown or expired token")
        }
        return owner
    }

    /// The relay keeps `BLAKE2b-256(token)` only: a leaked database gives no usable token.
    static func tokenHash(_ token: [UInt8]) throws -> [UInt8] {
        try BLAKE2b.hash(token, personal: "E2EE-relay token", outputByteCount: 32)
    }

    /// `Bearer ` followed by the token's 64 lowercase or uppercase hex digits.
    static func parseBearer(_ header: String) -> [UInt8]? {
        let prefix = "Bearer "
        guard header.hasPrefix(prefix) else { return nil }
        let hex = Array(header.utf8.dropFirst(prefix.utf8.count))
        guard hex.count == 2 * TokenGrant.tokenByteCount else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(TokenGrant.tokenByteCount)
        var i = 0
        while i < hex.count {
            guard let high = nibble(hex[i]), let low = nibble(hex[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Keys

    /// `PUT /v1/keys`: every signature checked against the device's identity
    /// before anything is stored.
    func uploadKeys(_ body: [UInt8], bearer: String?) async throws {
        let owner = try await authenticate(bearer)
        let upload: KeyUpload
        do { upload = try KeyUpload(serialized: body) } catch { throw bad(error) }
        guard let identity = try await store.identity(of: owner) else { throw HTTPError(.unauthorized) }
        guard upload.verifySignatures(identity: identity) else {
            throw HTTPError(.badRequest, message: "a prekey signature does not verify")
        }
        try await store.applyKeyUpload(upload, for: owner, nowMs: clock())
        logger.debug("keys uploaded", metadata: ["device": "\(owner)", "opk": "\(upload.oneTimePreKeys.count)",
                                                 "kem": "\(upload.oneTimeKEMPreKeys.count)"])
    }

    /// `GET /v1/keys`: the caller's remaining one-time keys.
    func keyCounts(bearer: String?) async throws -> KeyCounts {
        let owner = try await authenticate(bearer)
        let counts = try await store.preKeyCounts(for: owner)
        return KeyCounts(oneTimePreKeys: UInt32(clamping: counts.oneTimePreKeys),
                         oneTimeKEMPreKeys: UInt32(clamping: counts.oneTimeKEMPreKeys))
    }

    /// `GET /v1/keys/{user}[/{device}]`: a bundle per device, each claiming
    /// its one-time keys; rate limited per (requester, target) and per requester.
    func fetchBundles(user: String, device deviceText: String?, bearer: String?) async throws -> BundleList {
        let requester = try await authenticate(bearer)
        do { try RelayAddress.checkUserID(user) } catch { throw bad(error) }
        var device: UInt32?
        if let deviceText {
            guard let d = UInt32(deviceText), d != 0 else { throw HTTPError(.badRequest, message: "bad device id") }
            device = d
        }
        let now = clock()
        guard limiter.allow("fetch \(requester) \(user)", limits.fetchPerTarget, nowMs: now),
              limiter.allow("fetch \(requester)", limits.fetchPerRequester, nowMs: now)
        else {
            metrics.rateLimitedFetches.increment()
            throw HTTPError(.tooManyRequests, message: "bundle fetches are rate limited")
        }
        let devices = try await store.deviceIDs(ofUser: user).filter { device == nil || $0 == device }
        var bundles = [(device: UInt32, bytes: [UInt8])]()
        for id in devices {
            let address = try RelayAddress(userID: user, deviceID: id)
            guard let bundle = try await store.claimBundle(for: address) else { continue }
            (bundle.oneTimePreKey == nil ? metrics.bundlesWithoutOneTime : metrics.bundlesWithOneTime).increment()
            bundles.append((id, bundle.serialized))
        }
        guard !bundles.isEmpty else { throw HTTPError(.notFound, message: "no device with keys") }
        return try BundleList(bundles: bundles)
    }

    // MARK: Mailbox

    /// `PUT /v1/messages/{user}`: all of the user's devices or none.
    func send(to user: String, _ body: [UInt8], bearer: String?) async throws -> (HTTPResponse.Status, [UInt8]) {
        let sender = try await authenticate(bearer)
        do { try RelayAddress.checkUserID(user) } catch { throw bad(error) }
        let request: SendRequest
        do { request = try SendRequest(serialized: body) } catch { throw bad(error) }
        let (status, answer) = try await send(from: sender, to: user, request)
        return (HTTPResponse.Status(code: Int(status)), answer)
    }

    /// A send from an authenticated device, over HTTP or its WebSocket: the
    /// status and body of the answer (a refusal is a 4xx with its reason).
    func send(from sender: RelayAddress, to user: String, _ request: SendRequest) async throws -> (UInt16, [UInt8]) {
        let now = clock()
        guard limiter.allow("send \(sender)", limits.sendPerSender, nowMs: now) else {
            metrics.rateLimitedSends.increment()
            return (429, Array("sending is rate limited".utf8))
        }
        guard !request.messages.isEmpty else { return (400, Array("no messages".utf8)) }
        switch try await store.enqueue(toUser: user, from: sender, messages: request.messages, nowMs: now,
                                       expiresMs: now &+ limits.messageTTLMilliseconds) {
        case .queued(let ids):
            metrics.queued.increment(by: ids.count)
            for device in ids.keys {
                if let address = try? RelayAddress(userID: user, deviceID: device) { hub.notify(address) }
            }
            return (200, try SendResult(serverTimeMilliseconds: now, serverIDs: ids).serialized)
        case .mismatch(let missing, let extra):
            return (409, try DeviceMismatch(missing: missing, extra: extra).serialized)
        }
    }

    /// Drops expired messages and tokens (run periodically).
    func sweep() async {
        let now = clock()
        do {
            let gone = try await store.deleteExpired(nowMs: now)
            if gone > 0 { logger.info("expired messages deleted", metadata: ["count": "\(gone)"]) }
        } catch {
            logger.error("sweep failed", metadata: ["error": "\(error)"])
        }
        tokens.withLock { $0 = $0.filter { $0.value.expiresMs > now } }
        challenges.withLock { $0 = $0.filter { $0.value > now } }
    }

    /// A parse failure as a 400 that names the field, never the bytes.
    private func bad(_ error: any Error) -> HTTPError {
        HTTPError(.badRequest, message: "malformed request: \(error)")
    }
}

import struct Foundation.Date

/// The relay's metrics, made once so that every series exists (at zero)
/// from the start. Counts only: no address, key or body is ever a label.
struct RelayMetrics: Sendable {
    let registered = Counter(label: "relay_devices_registered_total")
    let queued = Counter(label: "relay_messages_queued_total")
    let delivered = Counter(label: "relay_messages_delivered_total")
    let acks = Counter(label: "relay_acks_total")
    let bundlesWithOneTime = Counter(label: "relay_bundles_served_total", dimensions: [("one_time_prekey", "yes")])
    let bundlesWithoutOneTime = Counter(label: "relay_bundles_served_total", dimensions: [("one_time_prekey", "no")])
    let rateLimitedFetches = Counter(label: "relay_rate_limited_total", dimensions: [("route", "keys")])
    let rateLimitedSends = Counter(label: "relay_rate_limited_total", dimensions: [("route", "messages")])
    let connected = Gauge(label: "relay_connected_devices")

    init() {
        connected.record(0)
    }
}
