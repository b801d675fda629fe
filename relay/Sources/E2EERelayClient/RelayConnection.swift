import HummingbirdWSClient
import NIOCore
import RelayProtocol
import Synchronization

/// An open, authenticated `/v1/ws` connection of a device, handed to
/// `onReady` by the receive loops: sends over it need no HTTP request each
/// (`send` frames, answered by `sendResult`). Valid until its loop returns.
public final class RelayConnection: Sendable {
    private struct State {
        var next: UInt32 = 1
        var pending: [UInt32: CheckedContinuation<Result<(status: Int, body: [UInt8]), RelayClientError>, Never>] = [:]
        var closed = false
    }

    private let outbound: WebSocketOutboundWriter
    private let state = Mutex(State())

    init(outbound: WebSocketOutboundWriter) {
        self.outbound = outbound
    }

    /// Sends ciphertexts to `user`'s devices as they are; the relay's status
    /// and body, as for `PUT /v1/messages/{user}`.
    public func send(_ messages: [UInt32: [UInt8]], to user: String) async throws(RelayClientError) -> (status: Int, body: [UInt8]) {
        let request: SendRequest
        do {
            try RelayAddress.checkUserID(user)
            request = try SendRequest(messages: messages)
        } catch {
            throw .invalidAddress(error)
        }
        let result = await withCheckedContinuation { continuation in
            let id: UInt32? = state.withLock { state in
                guard !state.closed else { return nil }
                let id = state.next
                state.next &+= 1
                state.pending[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume(returning: .failure(.transport("the connection is closed")))
                return
            }
            let frame = Frame.send(requestID: id, user: user, request: request)
            Task {
                guard frame.serialized.count <= Frame.maxByteCount else {
                    self.resolve(id, .failure(.transport("more than \(Frame.maxByteCount) bytes: send it over HTTP")))
                    return
                }
                do {
                    try await outbound.write(.binary(ByteBuffer(bytes: frame.serialized)))
                } catch {
                    self.resolve(id, .failure(.transport("\(error)")))
                }
            }
        }
        return try result.get()
    }

    /// The relay answered request `id`.
    func resolve(_ id: UInt32, _ result: Result<(status: Int, body: [UInt8]), RelayClientError>) {
        state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: result)
    }

    /// The connection ended: every request still waiting fails.
    func close() {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for continuation in waiting { continuation.resume(returning: .failure(.transport("the connection closed"))) }
    }
}
