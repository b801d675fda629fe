import E2EE
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import RelayProtocol
import Synchronization

/// What became of one envelope the relay delivered.
public struct Delivery: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Decrypted and committed (``SessionManager/receive(_:from:)``), then acked.
        case received(Received)
        /// Applied before (a redelivery after a lost ack): acked, nothing changed.
        case duplicate
        /// Refused for good (forged, malformed, not for this device): acked so
        /// it is not delivered again; the session is unchanged.
        case rejected(MessagingError)
        /// Not applied for now (an untrusted identity, a storage failure): not
        /// acked, so it comes again on the next connection.
        case deferred(MessagingError)
    }

    public let sender: ProtocolAddress
    /// The group of a group message; nil for a pairwise one.
    public let group: DistributionID?
    public let serverID: UInt64
    public let serverTimeMilliseconds: UInt64
    public let outcome: Outcome
}

/// A device's client of `e2ee-relay` (docs/RELAY.md), over a
/// ``SessionManager``: registration, prekeys in the directory, sessions from
/// fetched bundles, sending to all of a user's devices, and a receive loop
/// that acks each envelope only after the library committed it.
public final class RelayClient: Sendable {
    public let manager: SessionManager
    public let address: RelayAddress
    let http: HTTP
    let webSocketURL: String
    private let grant = Mutex<TokenGrant?>(nil)
    let logger: Logger

    /// How `wss://` is checked (nil for `ws://`).
    let tls: RelayTLS?

    /// `server` is the relay's base URL (`http://127.0.0.1:8080`, or
    /// `https://relay.example:8443`); the device is the manager's local
    /// address, which must be a valid relay address. `tls` says which CA an
    /// `https` relay's certificate must chain to (the system's by default).
    public init(server: URL, manager: SessionManager, tls: RelayTLS? = nil,
                logger: Logger = Logger(label: "e2ee-relay-client")) throws(RelayClientError) {
        do { address = try RelayAddress(manager.localAddress) } catch { throw .invalidAddress(error) }
        self.manager = manager
        self.logger = logger
        if server.scheme?.lowercased() == "https" {
            if let tls { self.tls = tls } else { self.tls = try RelayTLS.system() }
        } else {
            self.tls = nil
        }
        http = HTTP(base: server, tls: self.tls)
        var ws = server.absoluteString
        while ws.hasSuffix("/") { ws.removeLast() }
        if ws.hasPrefix("https://") { ws = "wss://" + ws.dropFirst("https://".count) } else if ws.hasPrefix("http://") {
            ws = "ws://" + ws.dropFirst("http://".count)
        }
        webSocketURL = ws + "/v1/ws"
    }

    // MARK: Registration and keys

    /// Registers this device and publishes its prekeys. A user's first device
    /// registers alone; a further one is approved by a registered device of
    /// the same user (the relay checks that device's token).
    public func register(approvedBy approver: RelayClient? = nil, policy: PreKeyPolicy = PreKeyPolicy()) async throws(RelayClientError) {
        let body = RegisterRequest(address: address, signedBy: manager.identity).serialized
        let bearer = try await approver?.token()
        _ = try await http.expect(200, 201, method: "POST", "/v1/devices", body: body, bearer: bearer)
        let first = try messaging { () throws(MessagingError) in try manager.maintainDirectory(policy: policy, remaining: nil) }
        try await upload(first)
    }

    /// Tops up the directory's pools when the relay says they run low, and
    /// rotates the signed prekey on schedule. Returns whether anything was uploaded.
    @discardableResult
    public func refillPreKeys(policy: PreKeyPolicy = PreKeyPolicy()) async throws(RelayClientError) -> Bool {
        let counts = try await preKeyCounts()
        let upload = try messaging { () throws(MessagingError) in
            try manager.maintainDirectory(policy: policy, remaining: (Int(counts.oneTimePreKeys), Int(counts.oneTimeKEMPreKeys)))
        }
        guard !upload.isEmpty else { return false }
        try await self.upload(upload)
        return true
    }

    /// The directory's remaining one-time prekeys and KEM prekeys of this device.
    public func preKeyCounts() async throws(RelayClientError) -> KeyCounts {
        let body = try await http.expect(200, method: "GET", "/v1/keys", bearer: token())
        do { return try KeyCounts(serialized: body) } catch { throw .malformedResponse(error) }
    }

    private func upload(_ upload: PreKeyUpload) async throws(RelayClientError) {
        let keys: KeyUpload
        do { keys = try KeyUpload(upload) } catch { throw .malformedResponse(error) }
        _ = try await http.expect(204, method: "PUT", "/v1/keys", body: keys.serialized, bearer: token())
    }

    /// Removes one of this user's devices (this one included) from the relay.
    public func removeDevice(_ deviceID: UInt32) async throws(RelayClientError) {
        _ = try await http.expect(204, method: "DELETE", "/v1/devices/\(deviceID)", bearer: token())
    }

    /// A bearer token, fetched with a signed challenge when the one held
    /// expires within a minute.
    public func token() async throws(RelayClientError) -> [UInt8] {
        let now = UInt64(max(0, Date.now.timeIntervalSince1970 * 1000))
        if let held = grant.withLock({ $0 }), held.expiresMilliseconds > now + 60_000 { return held.token }
        let challenge = try await http.expect(200, method: "POST", "/v1/auth/challenge")
        let nonce: AuthNonce
        do { nonce = try AuthNonce(bytes: challenge) } catch { throw .malformedResponse(error) }
        let request = TokenRequest(address: address, nonce: nonce, signedBy: manager.identity)
        let answer = try await http.expect(200, method: "POST", "/v1/auth/token", body: request.serialized)
        let fresh: TokenGrant
        do { fresh = try TokenGrant(serialized: answer) } catch { throw .malformedResponse(error) }
        grant.withLock { $0 = fresh }
        return fresh.token
    }

    // MARK: Sessions and sending

    /// Bundles of the user's devices (or one device), each claiming one-time
    /// keys on the relay. Every bundle is parsed and its signatures verified
    /// here: the relay is not trusted for them.
    public func fetchBundles(user: String, device: UInt32? = nil) async throws(RelayClientError) -> [(device: UInt32, bundle: PreKeyBundle)] {
        let path = device.map { "/v1/keys/\(user)/\($0)" } ?? "/v1/keys/\(user)"
        let (status, body) = try await http.request("GET", path, bearer: token())
        if status == 404 { throw .noDevices(user) }
        guard status == 200 else { throw .status(status, String(decoding: body.prefix(512), as: UTF8.self)) }
        let list: BundleList
        do { list = try BundleList(serialized: body) } catch { throw .malformedResponse(error) }
        var out = [(device: UInt32, bundle: PreKeyBundle)]()
        for entry in list.bundles {
            do { out.append((entry.device, try PreKeyBundle(serialized: entry.bytes))) } catch {
                throw .badBundle(device: entry.device, error)
            }
        }
        return out
    }

    /// Starts a session with each of the user's devices (or those listed) from
    /// fresh bundles; returns the devices' addresses.
    @discardableResult
    public func startSessions(with user: String, devices: [UInt32]? = nil) async throws(RelayClientError) -> [ProtocolAddress] {
        var bundles = [(device: UInt32, bundle: PreKeyBundle)]()
        if let devices {
            for device in devices { bundles += try await fetchBundles(user: user, device: device) }
        } else {
            bundles = try await fetchBundles(user: user)
        }
        var started = [ProtocolAddress]()
        for (device, bundle) in bundles where !(user == address.userID && device == address.deviceID) {
            let peer = ProtocolAddress(userID: user, deviceID: device)
            try messaging { () throws(MessagingError) in try manager.startSession(with: peer, bundle: bundle) }
            started.append(peer)
        }
        return started
    }

    /// Encrypts `plaintext` for every device of `user` (sessions are started
    /// from the directory where missing) in one batched call and sends them
    /// in one request. If the relay says the device list changed (409), the
    /// missing devices get sessions, extra ones are left out, and it is sent
    /// again, once.
    /// With `connection`, the request goes over that open WebSocket instead of HTTP.
    @discardableResult
    public func send(_ plaintext: [UInt8], to user: String, via connection: RelayConnection? = nil) async throws(RelayClientError) -> SendResult {
        var devices: [UInt32]
        do {
            devices = try manager.store.deviceIDs(of: user).filter { !(user == address.userID && $0 == address.deviceID) }
        } catch {
            throw .messaging(.storage(error))
        }
        if devices.isEmpty {
            devices = try await startSessions(with: user).map(\.deviceID)
        }
        for attempt in 0..<2 {
            let addresses = devices.map { ProtocolAddress(userID: user, deviceID: $0) }
            let sealed = try messaging { () throws(MessagingError) in try manager.encrypt(plaintext, to: addresses) }
            var messages = [UInt32: [UInt8]]()
            for (peer, message) in sealed { messages[peer.deviceID] = message }
            let (status, body) = try await post(messages, to: user, via: connection)
            switch status {
            case 200:
                do { return try SendResult(serialized: body) } catch { throw .malformedResponse(error) }
            case 409 where attempt == 0:
                let mismatch: DeviceMismatch
                do { mismatch = try DeviceMismatch(serialized: body) } catch { throw .malformedResponse(error) }
                logger.debug("device list changed", metadata: ["user": "\(user)", "missing": "\(mismatch.missing)",
                                                               "extra": "\(mismatch.extra)"])
                if !mismatch.missing.isEmpty { try await startSessions(with: user, devices: mismatch.missing) }
                devices = Array(Set(devices).subtracting(mismatch.extra).union(mismatch.missing)).sorted()
            default:
                throw .status(status, String(decoding: body.prefix(512), as: UTF8.self))
            }
        }
        throw .status(409, "the device list changed again")
    }

    /// Sends messages the library already made (group updates, distributions,
    /// a group message to every member device), one request per user. Unlike
    /// ``send(_:to:)`` it cannot re-encrypt, so a changed device list is an error.
    public func deliver(_ messages: [(address: ProtocolAddress, message: [UInt8])]) async throws(RelayClientError) {
        // A request carries one message per device, so a device's second
        // message goes in the next round: each device gets its messages in order.
        var rounds = [[String: [UInt32: [UInt8]]]]()
        var seen = [ProtocolAddress: Int]()
        for (peer, message) in messages {
            let round = seen[peer, default: 0]
            seen[peer] = round + 1
            if round == rounds.count { rounds.append([:]) }
            rounds[round][peer.userID, default: [:]][peer.deviceID] = message
        }
        for round in rounds {
            for (user, perDevice) in round.sorted(by: { $0.key < $1.key }) {
                let (status, body) = try await sendRaw(perDevice, to: user)
                guard status == 200 else { throw .status(status, String(decoding: body.prefix(512), as: UTF8.self)) }
            }
        }
    }

    /// Sends opaque bytes as they are (no encryption): for tools that measure
    /// the relay itself. Messages go to the devices named.
    public func sendRaw(_ messages: [UInt32: [UInt8]], to user: String) async throws(RelayClientError) -> (status: Int, body: [UInt8]) {
        try await post(messages, to: user, via: nil)
    }

    private func post(_ messages: [UInt32: [UInt8]], to user: String,
                      via connection: RelayConnection?) async throws(RelayClientError) -> (status: Int, body: [UInt8]) {
        if let connection { return try await connection.send(messages, to: user) }
        let request: SendRequest
        do { request = try SendRequest(messages: messages) } catch { throw .invalidAddress(error) }
        return try await http.request("PUT", "/v1/messages/\(user)", body: request.serialized, bearer: token())
    }

    func messaging<T>(_ body: () throws(MessagingError) -> T) throws(RelayClientError) -> T {
        do { return try body() } catch { throw .messaging(error) }
    }
}
