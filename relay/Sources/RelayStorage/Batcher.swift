import Synchronization

/// Many callers' requests, run in batches: the requests that arrive while a
/// batch runs go in the next one, so a loaded store does one statement for many
/// callers (on PostgreSQL a statement is a round trip and two context switches
/// on each side, which cost more than the statement). Unloaded, a request runs
/// at once, alone.
final class Batcher<Request: Sendable, Response: Sendable>: Sendable {
    /// Runs a batch: one response per request, in order; a throw fails them all.
    typealias Run = @Sendable ([Request]) async throws -> [Response]

    private struct Waiting: Sendable {
        let request: Request
        let continuation: CheckedContinuation<Response, any Error>
    }

    private let state = Mutex<(waiting: [Waiting], running: Int)>(([], 0))
    private let maxBatch: Int
    private let maxRunning: Int
    private let run: Run

    /// `maxBatch` requests per batch at most; `maxRunning` batches at once (each holds a connection).
    init(maxBatch: Int, maxRunning: Int, run: @escaping Run) {
        precondition(maxBatch > 0 && maxRunning > 0)
        self.maxBatch = maxBatch
        self.maxRunning = maxRunning
        self.run = run
    }

    /// The response to `request`, once the batch it went in has run.
    func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state in
                state.waiting.append(Waiting(request: request, continuation: continuation))
                guard state.running < maxRunning else { return false }
                state.running += 1
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Runs batches until nothing waits.
    private func drain() async {
        while true {
            let batch: [Waiting] = state.withLock { state in
                guard !state.waiting.isEmpty else {
                    state.running -= 1
                    return []
                }
                let count = min(state.waiting.count, maxBatch)
                defer { state.waiting.removeFirst(count) }
                return Array(state.waiting.prefix(count))
            }
            guard !batch.isEmpty else { return }
            do {
                let responses = try await run(batch.map(\.request))
                guard responses.count == batch.count else { throw BatcherError.responseCount }
                for (waiting, response) in zip(batch, responses) { waiting.continuation.resume(returning: response) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}

enum BatcherError: Error {
    /// A batch gave a different number of responses than it had requests (a bug).
    case responseCount
}
