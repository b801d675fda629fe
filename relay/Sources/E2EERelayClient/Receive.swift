import E2EE
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import RelayProtocol
import Synchronization

extension RelayClient {
    /// When ``receive(until:_:)`` returns.
    public enum ReceiveMode: Sendable {
        /// After this long without an envelope (the queue was drained).
        case idle(Duration)
        /// When the task is cancelled, the relay closes the connection, or
        /// another connection of this device replaces this one.
        case closed
    }

    /// Why a receive loop ended.
    public enum ReceiveEnd: Sendable, Equatable {
        case idle
        case closed
        /// Another connection of this device took over.
        case replaced
    }

    /// Connects to `/v1/ws`, answers the challenge, then applies each envelope
    /// through ``SessionManager/receive(_:from:)`` and acks it only after that
    /// committed (or after a final refusal): an envelope the device crashed
    /// on comes again and is then a duplicate. `onReady` runs once the relay
    /// accepted the connection; `handler` runs for each envelope once it was
    /// applied, before its ack is sent.
    @discardableResult
    public func receive(until mode: ReceiveMode, onReady: @escaping @Sendable (RelayConnection) async -> Void = { _ in },
                        _ handler: @escaping @Sendable (Delivery) async -> Void) async throws(RelayClientError) -> ReceiveEnd {
        try await receiveEnvelopes(until: mode, onReady: onReady) { envelope in
            let delivery = self.apply(envelope)
            // The handler first: if the ack is lost, it sees the envelope
            // again as a duplicate, never a committed message not at all.
            await handler(delivery)
            return delivery.outcome.acks
        }
    }

    /// The envelopes as the relay delivers them, one at a time, each acked
    /// when `handler` returns true (and left queued, to come again on the
    /// next connection, when it returns false). For tools that measure the
    /// relay; a device uses ``receive(until:onReady:_:)``.
    @discardableResult
    public func receiveEnvelopes(until mode: ReceiveMode, onReady: @escaping @Sendable (RelayConnection) async -> Void = { _ in },
                                 _ handler: @escaping @Sendable (Envelope) async -> Bool) async throws(RelayClientError) -> ReceiveEnd {
        let state = LoopState()
        let configuration = WebSocketClientConfiguration(maxFrameSize: Envelope.maxMessageBytes + 1024)
        do {
            try await WebSocketClient.connect(url: webSocketURL, configuration: configuration,
                                             tlsConfiguration: tls?.configuration, logger: logger) { [self]
                inbound, outbound, _ in
                state.touch()
                let connection = RelayConnection(outbound: outbound)
                defer { connection.close() }
                // Idle mode: the watchdog closes the connection once nothing came for that long.
                let watchdog = Task { [state] in
                    guard case .idle(let idle) = mode else { return }
                    let limit = Int64(idle.components.seconds) * 1_000_000_000 + idle.components.attoseconds / 1_000_000_000
                    while !Task.isCancelled {
                        try await Task.sleep(for: .milliseconds(20))
                        // Idle counts from `ready`: a slow handshake under load is not an idle queue
                        // (closing then would race the client's own auth frame).
                        if state.isReady.load(ordering: .relaxed),
                           Self.nowNanoseconds() - state.lastActivity.load(ordering: .relaxed) > limit {
                            state.ended.withLock { $0 = .idle }
                            try await outbound.close(.normalClosure, reason: nil)
                            return
                        }
                    }
                }
                defer { watchdog.cancel() }
                try await withTaskCancellationHandler {
                    for try await message in inbound.messages(maxSize: Envelope.maxMessageBytes + 1024) {
                        guard case .binary(let buffer) = message else { continue }
                        let parsed = Result { () throws(RelayWireError) in try Frame(serialized: Array(buffer: buffer)) }
                        guard case .success(let frame) = parsed else {
                            if case .failure(let error) = parsed { state.failure.withLock { $0 = .malformedResponse(error) } }
                            try await outbound.close(.protocolError, reason: nil)
                            return
                        }
                        switch frame {
                        case .challenge(let nonce):
                            let statement = AuthContext.webSocket(challenge: nonce, address: address)
                            let auth = Frame.auth(address: address, signature: manager.identity.signature(for: statement))
                            try await outbound.write(.binary(ByteBuffer(bytes: auth.serialized)))
                        case .ready:
                            state.touch()
                            state.isReady.store(true, ordering: .relaxed)
                            await onReady(connection)
                        case .envelope(let envelope):
                            if await handler(envelope) {
                                let ack = Frame.ack(serverID: envelope.serverID)
                                try await outbound.write(.binary(ByteBuffer(bytes: ack.serialized)))
                            }
                            state.touch()
                        case .replaced:
                            state.ended.withLock { $0 = .replaced }
                        case .error(let code, let reason):
                            state.failure.withLock { $0 = code == 401 ? .authenticationFailed(reason) : .status(Int(code), reason) }
                        case .sendResult(let id, let status, let body):
                            connection.resolve(id, .success((Int(status), body)))
                        case .auth, .ack, .send:
                            state.failure.withLock { $0 = .transport("unexpected frame from the relay") }
                            try await outbound.close(.protocolError, reason: nil)
                            return
                        }
                    }
                } onCancel: {
                    Task { try? await outbound.close(.goingAway, reason: nil) }
                }
            }
        } catch {
            throw .transport("\(error)")
        }
        if let failure = state.failure.withLock({ $0 }) { throw failure }
        return state.ended.withLock { $0 }
    }

    /// What the connection's tasks share.
    private final class LoopState: Sendable {
        let ended = Mutex<ReceiveEnd>(.closed)
        let failure = Mutex<RelayClientError?>(nil)
        let lastActivity = Atomic<Int64>(RelayClient.nowNanoseconds())
        let isReady = Atomic<Bool>(false)

        func touch() { lastActivity.store(RelayClient.nowNanoseconds(), ordering: .relaxed) }
    }

    /// Applies one envelope: the library's atomic receive decides. A group
    /// message goes to its group; everything else to the pairwise sessions.
    func apply(_ envelope: Envelope) -> Delivery {
        let sender = envelope.sender.protocolAddress
        var group: DistributionID?
        let outcome: Delivery.Outcome
        do {
            if case .senderKey(let message)? = try? WireMessage(serialized: envelope.ciphertext) {
                group = message.distributionID
                outcome = .received(try manager.groupDecrypt(envelope.ciphertext, in: message.distributionID,
                                                             from: sender))
            } else {
                outcome = .received(try manager.receive(envelope.ciphertext, from: sender))
            }
        } catch {
            switch error {
            case .decrypt(.duplicate), .group(.duplicate):
                outcome = .duplicate
            // Not yet applicable: the distribution or the user's decision may come later.
            case .untrustedIdentity, .storage, .noAccount, .unknownGroup, .group(.noSenderKey):
                outcome = .deferred(error)
            default:
                outcome = .rejected(error)
            }
        }
        return Delivery(sender: sender, group: group, serverID: envelope.serverID,
                        serverTimeMilliseconds: envelope.serverTimeMilliseconds, outcome: outcome)
    }

    static func nowNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

extension Delivery.Outcome {
    /// Everything but a deferred envelope is acked.
    var acks: Bool {
        if case .deferred = self { return false }
        return true
    }
}
