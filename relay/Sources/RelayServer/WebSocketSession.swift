import Hummingbird
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import RelayProtocol

/// One `/v1/ws` connection: challenge, auth, then the device's queue and
/// live messages out, acks in (docs/RELAY.md, Delivery).
struct WebSocketSession {
    /// Envelopes read from the store at a time.
    static let batch = 256
    /// The largest frame either way (an envelope, a `send`).
    static let maxFrameBytes = Frame.maxByteCount
    /// `send` frames of one connection handled at once; the next waits.
    static let maxSendsInFlight = 64
    /// How long a client has to answer the challenge.
    static let authTimeout: Duration = .seconds(10)

    let service: RelayService
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter

    /// How long a draining connection waits for the acks of what it delivered.
    static let drainAckWait: Duration = .seconds(5)

    func run() async throws {
        // A relay shutting down takes no new device: it reconnects elsewhere, or after the restart.
        if service.lifecycle.isDraining {
            try? await outbound.close(.goingAway, reason: "shutting down")
            return
        }
        let nonce = AuthNonce.random()
        try await write(.challenge(nonce))
        var messages = inbound.messages(maxSize: Self.maxFrameBytes).makeAsyncIterator()
        // Nothing but a valid answer is accepted first, and only for so long.
        let timer = Task { [outbound] in
            try await Task.sleep(for: Self.authTimeout)
            try await outbound.close(.policyViolation, reason: "authentication timed out")
        }
        let first = try await messages.next()
        timer.cancel()
        guard case .binary(let buffer) = first, case .auth(let address, let signature) = try? Frame(serialized: Array(buffer: buffer)),
              try await service.verifyWebSocket(challenge: nonce, address: address, signature: signature)
        else {
            try? await write(.error(code: 401, reason: "authentication failed"))
            return
        }
        let connection = service.hub.attach(address)
        await service.announceConnected(address)
        let gauge = service.metrics.connected
        defer {
            service.hub.detach(connection)
            gauge.record(service.hub.count)
        }
        gauge.record(service.hub.count)
        service.logger.debug("device connected", metadata: ["device": "\(address)"])
        try await write(.ready)
        let (acks, ackSink) = AsyncStream.makeStream(of: UInt64.self)
        let outstanding = Outstanding(service.lifecycle)
        defer { outstanding.forget() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await deliver(connection, outstanding) }
            group.addTask { await acknowledge(acks, for: address, outstanding) }
            try await withThrowingTaskGroup(of: Void.self) { sends in
                var inFlight = 0
                // Acks and sends in; anything else from an authenticated client ends the connection.
                reading: while let message = try await messages.next() {
                    let frame: Frame?
                    if case .binary(let buffer) = message { frame = try? Frame(serialized: Array(buffer: buffer)) } else { frame = nil }
                    switch frame {
                    case .ack(let id)?:
                        ackSink.yield(id)
                    case .send(let id, let user, let request)?:
                        if inFlight == Self.maxSendsInFlight {
                            try await sends.next()
                            inFlight -= 1
                        }
                        inFlight += 1
                        sends.addTask { try await send(id, from: address, to: user, request) }
                    default:
                        try? await write(.error(code: 400, reason: "expected an ack or a send frame"))
                        break reading
                    }
                }
                try await sends.waitForAll()
            }
            ackSink.finish()
            // Acks received are applied before the connection is let go.
            connection.end()
            try await group.waitForAll()
        }
    }

    /// A `send` frame, answered with a `sendResult` of the same id.
    private func send(_ id: UInt32, from sender: RelayAddress, to user: String, _ request: SendRequest) async throws {
        let (status, body): (UInt16, [UInt8])
        do {
            (status, body) = try await service.send(from: sender, to: user, request)
        } catch {
            service.logger.error("send failed", metadata: ["device": "\(sender)", "error": "\(error)"])
            (status, body) = (500, Array("the relay could not store the message".utf8))
        }
        try await write(.sendResult(requestID: id, status: status, body: body))
    }

    /// The queue, oldest first, then whatever arrives, until the connection
    /// is replaced or ends. Unacked envelopes stay queued and come again on
    /// the next connection.
    private func deliver(_ connection: DeliveryHub.Connection, _ outstanding: Outstanding) async throws {
        let delivered = service.metrics.delivered
        let lifecycle = service.lifecycle
        var wake = connection.wake.makeAsyncIterator()
        var last: UInt64 = 0
        delivering: while !connection.isReplaced.load(ordering: .sequentiallyConsistent) && !lifecycle.isDraining {
            let envelopes = try await service.store.pending(for: connection.address, after: last, limit: Self.batch,
                                                            nowMs: service.clock())
            for envelope in envelopes {
                if lifecycle.isDraining { break delivering }
                outstanding.delivered(envelope.serverID)
                try await write(.envelope(envelope))
                last = envelope.serverID
                delivered.increment()
            }
            if envelopes.count == Self.batch { continue }
            guard await wake.next() != nil else { break }
        }
        if lifecycle.isDraining && service.hub.isCurrent(connection) {
            // Shutting down: nothing more goes out, and what went out is acked
            // (its ack applied) before the close, so it does not come again.
            let deadline = ContinuousClock.now + Self.drainAckWait
            while !outstanding.isEmpty && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            try? await outbound.close(.goingAway, reason: "shutting down")
            return
        }
        if service.hub.isCurrent(connection) == false {
            // Another connection of the device took over: say so, then close.
            try? await write(.replaced)
            try? await outbound.close(.normalClosure, reason: "replaced")
        }
    }

    /// Applies acks as they come, many at once: they share the store's commits.
    private func acknowledge(_ acks: AsyncStream<UInt64>, for address: RelayAddress, _ outstanding: Outstanding) async {
        let counter = service.metrics.acks
        await withTaskGroup(of: Void.self) { group in
            for await id in acks {
                group.addTask {
                    do {
                        if try await service.store.acknowledge(id, for: address) { counter.increment() }
                        outstanding.acked(id)
                    } catch {
                        // Not deleted: the envelope comes again and is a duplicate to the device.
                        service.logger.error("ack failed", metadata: ["device": "\(address)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    private func write(_ frame: Frame) async throws {
        try await outbound.write(.binary(ByteBuffer(bytes: frame.serialized)))
    }
}
