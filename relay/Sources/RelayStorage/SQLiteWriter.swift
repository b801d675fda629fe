import Foundation

/// One thread that owns the connection and commits in groups.
///
/// Each call is a job; the thread takes every job waiting, runs them in one
/// transaction, each inside its own savepoint (a failing job is rolled back
/// alone and reports its error), and resumes the callers only after COMMIT
/// returned. One fsync then covers a whole batch: under load the batch grows
/// to what arrived during the previous commit, which is what lets a single
/// file keep thousands of durable writes a second.
final class SQLiteWriter: @unchecked Sendable {
    // @unchecked: `jobs`, `closing`, `finished` and `largest` are read and
    // written under `condition` only; `connection` belongs to the writer thread
    // from `start()` on (the store's init uses it before, single-threaded), and
    // that thread closes it. `thread` is set once, before any job exists.

    /// A caller's work: `run` inside the savepoint on the writer thread, or
    /// `fail` when the work cannot run or its transaction did not commit.
    struct Job: Sendable {
        let run: @Sendable (SQLiteConnection) -> Outcome
        let fail: @Sendable (RelayStoreError) -> Void
    }

    /// What a job did; `resume` hands its result to the caller after COMMIT.
    struct Outcome {
        let succeeded: Bool
        let resume: () -> Void
    }

    private let connection: SQLiteConnection
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closing = false
    private var finished = false
    private var thread: Thread?
    private var largest = 0

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "relay-sqlite-writer"
        self.thread = thread
        thread.start()
    }

    /// Runs `body` in the next batch and returns its result once that batch
    /// committed.
    func perform<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(RelayStoreError) -> T) async throws(RelayStoreError) -> T {
        let result: Result<T, RelayStoreError> = await withCheckedContinuation { continuation in
            let job = Job(
                run: { connection in
                    let result: Result<T, RelayStoreError>
                    do throws(RelayStoreError) {
                        result = .success(try body(connection))
                    } catch {
                        result = .failure(error)
                    }
                    let succeeded = if case .success = result { true } else { false }
                    return Outcome(succeeded: succeeded, resume: { continuation.resume(returning: result) })
                },
                fail: { continuation.resume(returning: .failure($0)) })
            submit(job)
        }
        return try result.get()
    }

    /// The most jobs one transaction held, for tests (that a batch really held several).
    var largestBatch: Int {
        condition.lock()
        defer { condition.unlock() }
        return largest
    }

    /// Jobs waiting for the writer (tests use it to line up a batch).
    var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// Finishes the jobs already submitted, then stops the thread, which
    /// closes the connection. Jobs submitted afterwards fail with "closed".
    /// Safe to call more than once, from any thread but the writer's.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while thread != nil && !finished { condition.wait() }
        condition.unlock()
    }

    private func submit(_ job: Job) {
        condition.lock()
        if closing {
            condition.unlock()
            job.fail(RelayStoreError("store closed"))
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !closing { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                break
            }
            let batch = jobs
            jobs = []
            largest = max(largest, batch.count)
            condition.unlock()
            runBatch(batch)
        }
        // Closed here, by its only user, so that no two closers can race on it.
        connection.close()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func runBatch(_ batch: [Job]) {
        do {
            try connection.exec("BEGIN IMMEDIATE")
        } catch {
            for job in batch { job.fail(error) }
            return
        }
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        do {
            for job in batch {
                try connection.prepared("SAVEPOINT job").run()
                let outcome = job.run(connection)
                connection.resetStatements()
                if !outcome.succeeded {
                    try connection.prepared("ROLLBACK TO job").run()
                }
                try connection.prepared("RELEASE job").run()
                outcomes.append(outcome)
            }
            try connection.prepared("COMMIT").run()
        } catch {
            // A savepoint or the commit itself failed: nothing of the batch is
            // known to be durable, so every job reports the error.
            connection.resetStatements()
            if connection.inTransaction { try? connection.exec("ROLLBACK") }
            for job in batch { job.fail(error) }
            return
        }
        for outcome in outcomes { outcome.resume() }
    }
}
