#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex. The package's locks use this rather than
/// `Synchronization.Mutex`, whose Linux futex ThreadSanitizer cannot see (it
/// reports every access under one as a race): with pthread, scripts/tsan.sh
/// checks the package's concurrency and reports only real races.
package final class Lock: @unchecked Sendable {   // the mutex is the synchronisation
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A value behind a ``Lock``.
// @unchecked: `value` is only reached through `withLock`, under the lock.
package final class Locked<Value: ~Copyable>: @unchecked Sendable {
    private let lock = Lock()
    private var value: Value

    package init(_ value: consuming Value) {
        self.value = value
    }

    package func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        try lock.withLock { () throws(E) -> R in try body(&value) }
    }
}
