import Synchronization

/// One replaceable callback, called from any task.
///
/// The closure lives in a struct field rather than as the Mutex's value: a
/// `Mutex` of a bare function type stores it reabstracted, and every
/// `withLock { $0 }` read wrote it back wrapped in two more thunks. Each call
/// then went through every thunk added before it: quadratic in the events a
/// node had seen (relay-bench on PostgreSQL stalled at 1,000 msg/s), and in the
/// end a stack overflow.
package final class HandlerSlot<Event: Sendable>: Sendable {
    private struct Handler: Sendable {
        let body: @Sendable (Event) -> Void
    }

    private let slot = Mutex<Handler?>(nil)

    package init() {}

    /// Replaces the callback.
    package func set(_ body: @escaping @Sendable (Event) -> Void) {
        slot.withLock { $0 = Handler(body: body) }
    }

    /// Calls the callback, if one is set (outside the lock: it may take time or set another).
    package func callAsFunction(_ event: Event) {
        slot.withLock { $0 }?.body(event)
    }
}
