import Hummingbird
import Logging
import NIOCore
import RelayProtocol
import RelayStorage
import ServiceLifecycle

extension Relay {
    /// The configured store and the services it needs run: SQLite needs none;
    /// PostgreSQL's pool, migrations and listener run as the group's first service,
    /// so that they stop last, after the server has finished its requests.
    static func makeStore(_ configuration: RelayConfiguration, logger: Logger) throws -> (any RelayStore, [any Service]) {
        if let url = configuration.postgresURL {
            // Never the URL itself: it may hold a password.
            logger.info("starting e2ee-relay", metadata: ["store": "postgres", "tls": "\(tlsState(configuration))"])
            let store = try PostgresRelayStore(url: url, logger: logger)
            return (store, [store])
        }
        logger.info("starting e2ee-relay", metadata: ["db": "\(configuration.databasePath)", "tls": "\(tlsState(configuration))"])
        return (try SQLiteRelayStore(path: configuration.databasePath), [])
    }

    private static func tlsState(_ configuration: RelayConfiguration) -> String {
        configuration.tls == nil ? "off" : "TLS 1.3"
    }
}

extension RelayService {
    /// Joins this node to the others on a shared store: their sends wake our
    /// connections, and a device connecting elsewhere ends its connection here.
    func connectToOtherNodes() {
        guard let shared = store as? PostgresRelayStore else { return }
        let hub = self.hub, node = shared.nodeID
        shared.setEventHandler { event in
            switch event {
            case .queued(let address):
                hub.notify(address)
            case .connected(let address, let other) where other != node:
                // The newer connection is the device's one consumer: this one says `replaced`.
                hub.disconnect(address)
            case .connected:
                break
            case .resync:
                hub.notifyAll()
            }
        }
    }

    /// Tells the other nodes that `address` connected here (nothing to tell on SQLite).
    func announceConnected(_ address: RelayAddress) async {
        guard let shared = store as? PostgresRelayStore else { return }
        do {
            try await shared.announceConnected(address)
        } catch {
            // An older connection elsewhere then lives on until its node sees the device
            // gone; the device receives from this one meanwhile.
            logger.warning("could not announce a connection", metadata: ["device": "\(address)", "error": "\(error)"])
        }
    }
}

/// A storage failure is the relay's, never the client's: 503 with Retry-After when
/// the database is unreachable (the client retries), 500 otherwise. The body
/// names neither the query nor its data.
extension RelayStoreError: HTTPResponseError {
    public var status: HTTPResponse.Status { isUnavailable ? .serviceUnavailable : .internalServerError }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if isUnavailable { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: isUnavailable ? "storage unavailable" : "storage failure")))
    }
}
