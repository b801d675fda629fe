import Metrics
import RelayStorage
import ServiceLifecycle
import Synchronization

/// Readiness and the drain before shutdown (docs/RELAY.md, Operations).
final class Lifecycle: Sendable {
    /// Set when graceful shutdown begins: `/ready` answers 503, new
    /// WebSockets are turned away, open ones stop taking envelopes.
    let draining = Atomic<Bool>(false)
    /// Envelopes written to a WebSocket and not acked yet, all connections.
    let unacked = Atomic<Int>(0)

    var isDraining: Bool { draining.load(ordering: .sequentiallyConsistent) }
}

/// True for the first caller only.
final class Once: Sendable {
    private let done = Atomic<Bool>(false)
    func claim() -> Bool { !done.exchange(true, ordering: .acquiringAndReleasing) }
}

/// Gauges read from the store when `/metrics` is scraped.
struct StoreGauges: Sendable {
    let queueDepth = Gauge(label: "relay_queue_depth")
    let oneTimePreKeys = Gauge(label: "relay_prekey_pool", dimensions: [("kind", "one_time")])
    let oneTimeKEMPreKeys = Gauge(label: "relay_prekey_pool", dimensions: [("kind", "one_time_kem")])
    let unacked = Gauge(label: "relay_deliveries_unacked")
    let storageErrors = Counter(label: "relay_storage_check_failures_total")
}

extension RelayService {
    /// How long a readiness probe waits for the store.
    static let readinessTimeout: Duration = .seconds(2)

    /// `GET /ready`: the store answers a read within the timeout, and no shutdown began.
    public func isReady() async -> Bool {
        guard !lifecycle.isDraining else { return false }
        let store = self.store
        // A race the store cannot hold up: a hung store leaves its probe behind, not the caller.
        let answered: Bool = await withCheckedContinuation { continuation in
            let once = Once()
            let timer = Task {
                try? await Task.sleep(for: Self.readinessTimeout)
                if once.claim() { continuation.resume(returning: false) }
            }
            Task {
                let ok: Bool
                do {
                    _ = try await store.deviceIDs(ofUser: "")
                    ok = true
                } catch {
                    ok = false
                }
                timer.cancel()
                if once.claim() { continuation.resume(returning: ok) }
            }
        }
        if !answered { gauges.storageErrors.increment() }
        return answered
    }

    /// Refreshes the store's gauges (before `/metrics` renders them).
    func refreshGauges() async {
        gauges.unacked.record(lifecycle.unacked.load(ordering: .relaxed))
        guard let statistics = store as? any RelayStoreStatistics else { return }
        do {
            let totals = try await statistics.totals()
            gauges.queueDepth.record(totals.queuedMessages)
            gauges.oneTimePreKeys.record(totals.oneTimePreKeys)
            gauges.oneTimeKEMPreKeys.record(totals.oneTimeKEMPreKeys)
        } catch {
            gauges.storageErrors.increment()
            logger.error("metrics: the store did not answer", metadata: ["error": "\(error)"])
        }
    }

    /// Starts the drain: readiness fails, connections stop taking envelopes
    /// and close once what they delivered is acked.
    func beginDrain() {
        lifecycle.draining.store(true, ordering: .sequentiallyConsistent)
        hub.wakeAll()
    }
}

/// Last in the service group, so the first to hear of a graceful shutdown
/// (the group stops its services in reverse order): it drains the
/// WebSockets while the server still runs, then returns, and only then does
/// the server stop listening and close what is left.
struct DrainService: Service {
    let service: RelayService
    /// The longest wait for connections to finish their deliveries and acks.
    let bound: Duration

    func run() async {
        // Returns at once if shutdown was already triggered; throws only on cancellation.
        do { try await gracefulShutdown() } catch { return }
        let started = ContinuousClock.now
        service.logger.info("draining", metadata: ["connections": "\(service.hub.count)",
                                                  "unacked": "\(service.lifecycle.unacked.load(ordering: .relaxed))"])
        service.beginDrain()
        while service.hub.count > 0 && ContinuousClock.now - started < bound {
            try? await Task.sleep(for: .milliseconds(20))
        }
        service.logger.info("drained", metadata: ["connections_left": "\(service.hub.count)",
                                                 "unacked": "\(service.lifecycle.unacked.load(ordering: .relaxed))"])
    }
}

/// The envelopes one WebSocket delivered and the device has not acked yet,
/// mirrored in ``Lifecycle/unacked`` for the gauge and the drain.
final class Outstanding: Sendable {
    private let ids = Mutex<Set<UInt64>>([])
    private let lifecycle: Lifecycle

    init(_ lifecycle: Lifecycle) {
        self.lifecycle = lifecycle
    }

    func delivered(_ id: UInt64) {
        if ids.withLock({ $0.insert(id).inserted }) { lifecycle.unacked.wrappingAdd(1, ordering: .relaxed) }
    }

    /// The ack of `id` was applied (or failed for good).
    func acked(_ id: UInt64) {
        if ids.withLock({ $0.remove(id) }) != nil { lifecycle.unacked.wrappingSubtract(1, ordering: .relaxed) }
    }

    var isEmpty: Bool { ids.withLock { $0.isEmpty } }

    /// The connection ended: what it still held stays queued for the next one.
    func forget() {
        let left = ids.withLock { ids in
            defer { ids = [] }
            return ids.count
        }
        lifecycle.unacked.wrappingSubtract(left, ordering: .relaxed)
    }
}
