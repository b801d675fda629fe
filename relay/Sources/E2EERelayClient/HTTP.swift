import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Binary requests over URLSession (FoundationNetworking on Linux).
struct HTTP: Sendable {
    let base: URL
    let session: URLSession

    init(base: URL) {
        self.base = base
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: configuration)
    }

    /// Sends a request; returns the status and body whatever the status.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil,
                 bearer: [UInt8]? = nil) async throws(RelayClientError) -> (status: Int, body: [UInt8]) {
        guard let url = URL(string: path, relativeTo: base) else { throw .transport("bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        if let bearer {
            request.setValue("Bearer " + bearer.map { String(format: "%02x", $0) }.joined(),
                             forHTTPHeaderField: "Authorization")
        }
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
