import E2EE
import E2EERelayClient
import Foundation
import Testing

/// A CA and server certificates made at test time with Debian's `openssl`.
struct TestCA {
    let directory: String
    var certificate: String { directory + "/ca.pem" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("relay-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", directory + "/ca.key", "-out", certificate, "-days", "2", "-subj", "/CN=relay-test-ca",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA:
    /// the paths of its PEM chain and key.
    func serverCertificate(_ name: String, names: [String]) throws -> (certificate: String, key: String) {
        let base = directory + "/" + name
        try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=\(names[0])"])
        let sans = names.map { $0.first?.isNumber == true ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        let extensions = "subjectAltName=\(sans)\nbasicConstraints=critical,CA:FALSE\n"
            + "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: base + ".ext"))
        try openssl(["x509", "-req", "-in", base + ".csr", "-CA", certificate, "-CAkey", directory + "/ca.key",
                     "-CAcreateserial", "-out", base + ".pem", "-days", "2", "-extfile", base + ".ext"])
        return (base + ".pem", base + ".key")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

enum OpenSSLError: Error {
    case failed([String], Int32)
}

/// Runs `openssl` with `arguments`; its output is discarded, its status checked.
@discardableResult
func openssl(_ arguments: [String], stdin: String? = nil, allowFailure: Bool = false) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if process.terminationStatus != 0 && !allowFailure { throw OpenSSLError.failed(arguments, process.terminationStatus) }
    return (process.terminationStatus, text)
}

/// A device with an in-memory store whose client talks to `server` with `tls`.
func tlsDevice(_ user: String, server: URL, tls: RelayTLS?) throws -> (store: MemoryStore, client: RelayClient) {
    let store = MemoryStore()
    try SessionManager.createAccount(store: store)
    let manager = try SessionManager(store: store, localAddress: ProtocolAddress(userID: user, deviceID: 1))
    return (store, try RelayClient(server: server, manager: manager, tls: tls))
}

/// A small key policy, so that registration is quick.
let smallPolicy = PreKeyPolicy(minimumOneTimePreKeys: 0, targetOneTimePreKeys: 5,
                               minimumOneTimeKEMPreKeys: 0, targetOneTimeKEMPreKeys: 5)

/// The transport error a client call failed with, if it failed that way.
func transportFailure(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch {
        if case .transport(let reason)? = error as? RelayClientError { return reason }
        return "other: \(error)"
    }
}
