import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Binary requests: over URLSession (FoundationNetworking on Linux) for
/// `http://`, over NIO and NIOSSL for `https://`, because URLSession on Linux
/// cannot be given a CA of its own per client.
struct HTTP: Sendable {
    let base: URL
    let session: URLSession
    let tls: RelayTLS?
    /// The largest answer read (a bundle list of 64 devices is far below).
    static let maxAnswerBytes = 16 << 20

    init(base: URL, tls: RelayTLS? = nil) {
        self.base = base
        self.tls = tls
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: configuration)
    }

    /// Sends a request; returns the status and body whatever the status.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil,
                 bearer: [UInt8]? = nil) async throws(RelayClientError) -> (status: Int, body: [UInt8]) {
        guard let url = URL(string: path, relativeTo: base) else { throw .transport("bad path \(path)") }
        let authorization = bearer.map { "Bearer " + $0.map { String(format: "%02x", $0) }.joined() }
        if let tls { return try await secureRequest(method, url, body: body, authorization: authorization, tls: tls) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw RelayClientError.transport("not an HTTP answer") }
            return (http.statusCode, Array(data))
        } catch let error as RelayClientError {
            throw error
        } catch {
            throw .transport("\(error.localizedDescription)")
        }
    }

    /// One request on a connection of its own, TLS 1.3, the certificate
    /// checked against `tls`'s roots and the URL's host.
    private func secureRequest(_ method: String, _ url: URL, body: [UInt8]?, authorization: String?,
                               tls: RelayTLS) async throws(RelayClientError) -> (status: Int, body: [UInt8]) {
        guard let host = url.host, !host.isEmpty else { throw .transport("no host in \(url)") }
        let port = url.port ?? 443
        var uri = URLComponents(url: url, resolvingAgainstBaseURL: true)?.percentEncodedPath ?? "/"
        if uri.isEmpty { uri = "/" }
        // An IP address is not a server name: NIOSSL then checks the certificate against the peer's address.
        let serverName = Self.isIPAddress(host) ? nil : host
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(context: tls.context, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri)
                head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
                head.headers.add(name: "Connection", value: "close")
                head.headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
                if body != nil { head.headers.add(name: "Content-Type", value: "application/octet-stream") }
                if let authorization { head.headers.add(name: "Authorization", value: authorization) }
                do {
                    try await outbound.write(.head(head))
                    if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                    try await outbound.write(.end(nil))
                } catch {
                    // A refused handshake closes the channel under the write; its own error
                    // (the certificate's, say) is on the inbound side, and says more.
                    for try await _ in inbound {}
                    throw error
                }
                var status = 0
                var answer = [UInt8]()
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        status = Int(head.status.code)
                    case .body(let buffer):
                        guard answer.count + buffer.readableBytes <= Self.maxAnswerBytes else {
                            throw RelayClientError.transport("answer larger than \(Self.maxAnswerBytes) bytes")
                        }
                        answer += buffer.readableBytesView
                    case .end:
                        return (status, answer)
                    }
                }
                throw RelayClientError.transport("the connection closed before the answer")
            }
        } catch let error as RelayClientError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// As ``request(_:_:body:bearer:)``, failing unless the status is `expected`.
    func expect(_ expected: Int..., method: String, _ path: String, body: [UInt8]? = nil,
                bearer: [UInt8]? = nil) async throws(RelayClientError) -> [UInt8] {
        let (status, answer) = try await request(method, path, body: body, bearer: bearer)
        guard expected.contains(status) else {
            throw .status(status, String(decoding: answer.prefix(512), as: UTF8.self))
        }
        return answer
    }
}
