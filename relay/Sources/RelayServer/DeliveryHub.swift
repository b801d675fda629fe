import RelayProtocol
import Synchronization

/// The devices connected to this relay process, one consumer each: who to
/// wake when a message is queued, and who to push out when a second
/// connection of the same device authenticates.
final class DeliveryHub: Sendable {
    /// One authenticated WebSocket.
    final class Connection: Sendable {
        let address: RelayAddress
        /// Yields when the device's queue may have grown (or the connection must end).
        let wake: AsyncStream<Void>
        fileprivate let wakeSink: AsyncStream<Void>.Continuation
        /// Set when another connection of the device took over, or the device was removed.
        let isReplaced = Atomic<Bool>(false)

        fileprivate init(address: RelayAddress) {
            self.address = address
            // Newest one: many wakes while busy are one more look at the queue.
            (wake, wakeSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        func end() {
            isReplaced.store(true, ordering: .sequentiallyConsistent)
            wakeSink.yield()
            wakeSink.finish()
        }
    }

    private let connections = Mutex<[RelayAddress: Connection]>([:])

    /// Registers a connection for `address`, ending the one it replaces.
    func attach(_ address: RelayAddress) -> Connection {
        let connection = Connection(address: address)
        let previous = connections.withLock { $0.updateValue(connection, forKey: address) }
        previous?.end()
        return connection
    }

    /// Forgets `connection` if it is still the device's current one.
    func detach(_ connection: Connection) {
        connections.withLock {
            if $0[connection.address] === connection { $0[connection.address] = nil }
        }
    }

    /// Whether `connection` is still its device's connection here.
    func isCurrent(_ connection: Connection) -> Bool {
        connections.withLock { $0[connection.address] === connection }
    }

    /// Wakes the device's connection, if it has one here.
    func notify(_ address: RelayAddress) {
        _ = connections.withLock { $0[address] }?.wakeSink.yield()
    }

    /// Wakes every connection here (notifications from other nodes may have been missed).
    func notifyAll() {
        for connection in connections.withLock({ Array($0.values) }) { connection.wakeSink.yield() }
    }

    /// Ends the device's connection (the device was removed, or it connected to another node).
    func disconnect(_ address: RelayAddress) {
        connections.withLock { $0.removeValue(forKey: address) }?.end()
    }

    var count: Int { connections.withLock { $0.count } }

    /// Wakes every connection here (a drain began).
    func wakeAll() {
        for connection in connections.withLock({ Array($0.values) }) { connection.wakeSink.yield() }
    }
}
