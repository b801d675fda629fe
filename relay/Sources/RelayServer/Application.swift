import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import RelayProtocol
import RelayStorage
import ServiceLifecycle

/// Builds and runs the relay's Hummingbird application.
public enum Relay {
    /// The application: the routes of docs/RELAY.md over `service`.
    ///
    /// `onListening` is called once the socket is bound, with the bound address, so
    /// that `--port 0` can report the port the kernel chose.
    /// `tls`: from ``tlsConfiguration(_:)``; nil serves plain HTTP.
    public static func makeApplication(
        _ configuration: RelayConfiguration,
        service: RelayService,
        metrics: PrometheusMetrics?,
        tls: TLSConfiguration? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void
    ) throws -> some ApplicationProtocol {
        let router = Router()
        // Liveness: the process serves requests.
        router.get("/health") { _, _ in "ok" }
        // Readiness: the store answers and no shutdown began.
        router.get("/ready") { _, _ -> Response in
            await service.isReady()
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "not ready")))
        }
        if let metrics {
            router.get("/metrics") { _, _ in
                await service.refreshGauges()
                return metrics.render()
            }
        }
        addRoutes(to: router, service: service)

        // A router of its own for upgrades, so plain HTTP requests are never matched
        // against WebSocket paths.
        let wsRouter = Router(context: BasicWebSocketRequestContext.self)
        wsRouter.ws("/v1/ws") { inbound, outbound, _ in
            try await WebSocketSession(service: service, inbound: inbound, outbound: outbound).run()
        }

        let http: HTTPServerBuilder = .http1WebSocketUpgrade(
            webSocketRouter: wsRouter,
            configuration: .init(ws: .init(maxFrameSize: WebSocketSession.maxFrameBytes)))
        return Application(
            router: router,
            server: try tls.map { try HTTPServerBuilder.tls(http, tlsConfiguration: $0) } ?? http,
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

    static func addRoutes(to router: Router<BasicRequestContext>, service: RelayService) {
        router.post("/v1/devices") { request, _ -> Response in
            let body = try await request.body.collect(upTo: RelayAddress.maxByteCount + 96)
            let (status, bytes) = try await service.register(Array(buffer: body), bearer: request.headers[.authorization])
            return binary(status, bytes)
        }
        router.delete("/v1/devices/:device") { request, context -> Response in
            let status = try await service.removeDevice(try context.parameters.require("device"),
                                                        bearer: request.headers[.authorization])
            return Response(status: status)
        }
        router.post("/v1/auth/challenge") { _, _ -> Response in
            binary(.ok, try service.challenge().bytes)
        }
        router.post("/v1/auth/token") { request, _ -> Response in
            let body = try await request.body.collect(upTo: RelayAddress.maxByteCount + 96)
            return binary(.ok, try await service.token(Array(buffer: body)).serialized)
        }
        router.put("/v1/keys") { request, _ -> Response in
            let body = try await request.body.collect(upTo: KeyUpload.maxByteCount)
            try await service.uploadKeys(Array(buffer: body), bearer: request.headers[.authorization])
            return Response(status: .noContent)
        }
        router.get("/v1/keys") { request, _ -> Response in
            binary(.ok, try await service.keyCounts(bearer: request.headers[.authorization]).serialized)
        }
        router.get("/v1/keys/:user") { request, context -> Response in
            let list = try await service.fetchBundles(user: try context.parameters.require("user"), device: nil,
                                                      bearer: request.headers[.authorization])
            return binary(.ok, list.serialized)
        }
        router.get("/v1/keys/:user/:device") { request, context -> Response in
            let list = try await service.fetchBundles(user: try context.parameters.require("user"),
                                                      device: try context.parameters.require("device"),
                                                      bearer: request.headers[.authorization])
            return binary(.ok, list.serialized)
        }
        router.put("/v1/messages/:user") { request, context -> Response in
            // Authenticated before the body is read, so a stranger cannot make the relay buffer 8 MiB.
            _ = try await service.authenticate(request.headers[.authorization])
            let body = try await request.body.collect(upTo: SendRequest.maxByteCount)
            let (status, bytes) = try await service.send(to: try context.parameters.require("user"), Array(buffer: body),
                                                         bearer: request.headers[.authorization])
            return binary(status, bytes)
        }
    }

    /// TLS 1.3 only, with the chain and key of `files` (PEM).
    public static func tlsConfiguration(_ files: RelayTLSFiles) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        guard !chain.isEmpty else { throw RelayTLSError("no certificate in \(files.certificatePath)") }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: files.keyPath, format: .pem)))
        tls.minimumTLSVersion = .tlsv13
        return tls
    }

    static func binary(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/octet-stream"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Runs the relay until SIGTERM or SIGINT, then shuts down gracefully: the listener
    /// closes, open requests finish and WebSockets are closed with "going away".
    public static func run(
        _ configuration: RelayConfiguration,
        metrics: PrometheusMetrics?,
        logger: Logger,
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void
    ) async throws {
        let tls = try configuration.tls.map { files in
            do { return try tlsConfiguration(files) } catch { throw RelayTLSError("cannot load the certificate or key: \(error)") }
        }
        let (store, storeServices) = try makeStore(configuration, logger: logger)
        let service = RelayService(store: store, limits: configuration.limits, logger: logger)
        let app = try makeApplication(configuration, service: service, metrics: metrics, tls: tls, logger: logger,
                                      onListening: onListening)
        var group = ServiceGroupConfiguration(
            // The store first (it stops last, after the requests) and the drain last: the
            // group stops services in reverse order, so the drain runs first.
            services: storeServices + [app, SweepService(service: service), DrainService(service: service, bound: .seconds(7))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // A client that never closes must not hold the process forever: after this,
        // shutdown escalates to cancellation.
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
        logger.info("e2ee-relay stopped")
    }
}

/// Deletes expired messages and tokens once a minute.
struct SweepService: Service {
    let service: RelayService

    func run() async {
        // Returns (rather than throws) on shutdown: a service that throws fails the whole group.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await service.sweep()
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }
}

/// The server's certificate or key could not be used.
public struct RelayTLSError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
