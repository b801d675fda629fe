import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// Builds and runs the relay's Hummingbird application.
public enum Relay {
    /// Largest WebSocket message the echo accepts; the mailbox will set its own limit (256 KiB).
    static let maxMessageSize = 1 << 20

    /// The application: `GET /health` and the `/v1/ws` upgrade.
    ///
    /// `onListening` is called once the socket is bound, with the bound address, so
    /// that `--port 0` can report the port the kernel chose.
    public static func makeApplication(
        _ configuration: RelayConfiguration,
        logger: Logger,
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ in "ok" }

        // A router of its own for upgrades, so plain HTTP requests are never matched
        // against WebSocket paths.
        let wsRouter = Router(context: BasicWebSocketRequestContext.self)
        // For now this only echoes binary messages back, to prove the upgrade path
        // works end to end; the challenge/auth/envelope frames of RELAY.md replace it.
        wsRouter.ws("/v1/ws") { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                if case .binary(let bytes) = message {
                    try await outbound.write(.binary(bytes))
                }
            }
        }

        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: wsRouter),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "e2ee-relay"
            ),
            onServerRunning: { channel in
                // The channel's own address: with port 0 only it knows the real port.
                let address = channel.localAddress
                await onListening(address?.ipAddress ?? configuration.host, address?.port ?? configuration.port)
            },
            logger: logger
        )
    }

    /// Runs the relay until SIGTERM or SIGINT, then shuts down gracefully: the listener
    /// closes, open requests finish and WebSockets are closed with "going away".
    public static func run(
        _ configuration: RelayConfiguration,
        logger: Logger,
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void
    ) async throws {
        logger.info("starting e2ee-relay", metadata: ["db": "\(configuration.databasePath)"])
        let app = makeApplication(configuration, logger: logger, onListening: onListening)
        var group = ServiceGroupConfiguration(
            services: [app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // A client that never closes must not hold the process forever: after this,
        // shutdown escalates to cancellation.
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }
}
