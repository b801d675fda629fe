import NIOSSL

/// How a ``RelayClient`` checks the relay's certificate on `https://` (and
/// the WebSocket's `wss://`): TLS 1.3 only, the chain verified against the
/// trust roots and the certificate against the URL's host name (or IP
/// address). Plain `http://` URLs ignore it.
public struct RelayTLS: Sendable {
    let configuration: TLSConfiguration
    /// Made once: loading trust roots is not free.
    let context: NIOSSLContext

    private init(trustRoots: NIOSSLTrustRoots) throws(RelayClientError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = trustRoots
        self.configuration = configuration
        do { context = try NIOSSLContext(configuration: configuration) } catch { throw .trustRoots("\(error)") }
    }

    /// The system's trust roots.
    public static func system() throws(RelayClientError) -> RelayTLS {
        try RelayTLS(trustRoots: .default)
    }

    /// Only the CA certificates in a PEM file (a private deployment's own CA).
    public static func trusting(caFile path: String) throws(RelayClientError) -> RelayTLS {
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(path) } catch { throw .trustRoots("\(path): \(error)") }
        guard !certificates.isEmpty else { throw .trustRoots("\(path) holds no certificate") }
        return try RelayTLS(trustRoots: .certificates(certificates))
    }
}
