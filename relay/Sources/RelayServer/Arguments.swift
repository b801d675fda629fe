import class Foundation.ProcessInfo

/// What `e2ee-relay serve` was asked to run.
public struct RelayConfiguration: Sendable, Equatable {
    /// Address to bind; loopback unless told otherwise, so a test never listens outside.
    public var host: String
    /// 0 asks the kernel for an ephemeral port (the bound one is reported once listening).
    public var port: Int
    /// Path of the SQLite database (created if missing).
    public var databasePath: String
    /// Rate limits, TTLs and lifetimes.
    public var limits: RelayLimits
    /// PostgreSQL instead of SQLite (`--postgres URL` or `E2EE_RELAY_POSTGRES`): several nodes may share it.
    public var postgresURL: String?
    /// TLS 1.3 (PEM certificate chain and private key); nil serves plain HTTP.
    public var tls: RelayTLSFiles?
    /// `json`: one JSON object per log line (for a log collector).
    public var jsonLogs = false

    public init(host: String = "127.0.0.1", port: Int, databasePath: String, limits: RelayLimits = RelayLimits(),
                tls: RelayTLSFiles? = nil) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.limits = limits
        self.tls = tls
    }
}

/// The server's certificate chain and key, PEM files read at start.
public struct RelayTLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// A command line that `e2ee-relay` refuses (the executable exits 2 with ``RelayCommand/usage``).
public enum RelayArgumentError: Error, Equatable, CustomStringConvertible {
    case noCommand
    case unknownCommand(String)
    case unknownOption(String)
    case missingValue(option: String)
    case repeatedOption(String)
    case missingOption(String)
    case badValue(option: String, value: String)
    /// Plain HTTP on an address other hosts can reach, without `--insecure-allow-plaintext`.
    case plaintextNotLoopback(host: String)

    public var description: String {
        switch self {
        case .noCommand: "no command given"
        case .unknownCommand(let c): "unknown command '\(c)'"
        case .unknownOption(let o): "unknown option '\(o)'"
        case .missingValue(let o): "\(o) needs a value"
        case .repeatedOption(let o): "\(o) given twice"
        case .missingOption(let o): "\(o) is required"
        case .badValue(let o, let v): "bad value '\(v)' for \(o)"
        case .plaintextNotLoopback(let h):
            "refusing plain HTTP on \(h), which is not loopback: give --tls-cert and --tls-key (or --insecure-allow-plaintext)"
        }
    }
}

/// The relay's command line, parsed by hand until there is more than one command.
public enum RelayCommand: Equatable, Sendable {
    case help
    case serve(RelayConfiguration)

    public static let usage = """
        usage: e2ee-relay serve (--db PATH | --postgres URL) --port N [--host ADDRESS]
                                [--send-rate R] [--fetch-limit N] [--message-ttl SECONDS]
                                [--tls-cert PEM --tls-key PEM] [--log-format text|json]
          --send-rate R        send requests per second per device, decimals allowed (burst 2R, at least 2;
                               default 500)
          --fetch-limit N      bundle fetches per device and target user per minute (burst N; default 10),
                               10N per minute for all targets
          --message-ttl S      seconds a queued message waits for its device (default 30 days)
          --postgres URL       postgres://user[:password]@host[:port]/database: PostgreSQL instead of
                               SQLite, shared by every node (--db is then not needed)
          --tls-cert PEM       serve HTTPS and WSS (TLS 1.3 only) with this certificate chain
          --tls-key PEM        and this private key (both or neither)
          --insecure-allow-plaintext
                               serve plain HTTP on a non-loopback --host (refused otherwise)
          --log-format F       text (default) or json: one object per line on stderr
        Every option can also come from the environment: --db is E2EE_RELAY_DB, --port
        E2EE_RELAY_PORT, --tls-cert E2EE_RELAY_TLS_CERT, and so on (E2EE_RELAY_ and the option's
        name in capitals, dashes as underscores; E2EE_RELAY_INSECURE_ALLOW_PLAINTEXT=1 for the
        switch). An option on the command line wins over the environment.
        """

    /// Options that take a value; each also reads `E2EE_RELAY_<NAME>` from the environment.
    static let valueOptions: Set<String> = ["--db", "--port", "--host", "--send-rate", "--fetch-limit", "--message-ttl",
                                            "--tls-cert", "--tls-key", "--log-format", "--postgres"]
    /// Options without a value.
    static let switches: Set<String> = ["--insecure-allow-plaintext"]

    /// `--tls-cert` → `E2EE_RELAY_TLS_CERT`.
    public static func environmentName(of option: String) -> String {
        "E2EE_RELAY_" + String(option.drop(while: { $0 == "-" }).map { $0 == "-" ? "_" : $0 }).uppercased()
    }

    /// Parses the arguments after the executable's name.
    /// `environment` supplies what the command line leaves out (``environmentName(of:)``).
    public static func parse(_ arguments: [String], environment: [String: String] = [:]) throws(RelayArgumentError) -> RelayCommand {
        guard let command = arguments.first else { throw .noCommand }
        if command == "-h" || command == "--help" || command == "help" { return .help }
        guard command == "serve" else { throw .unknownCommand(command) }

        guard var values = try options(arguments.dropFirst(), allowed: valueOptions, switches: switches)
        else { return .help }
        for option in valueOptions.union(switches) where values[option] == nil {
            guard let value = environment[environmentName(of: option)] else { continue }
            guard !value.isEmpty else { throw .badValue(option: environmentName(of: option), value: value) }
            values[option] = value
        }
        let allowPlaintext: Bool
        switch values["--insecure-allow-plaintext"] {
        case nil, "0", "false": allowPlaintext = false
        case "1", "true", "yes": allowPlaintext = true
        case let other?: throw .badValue(option: environmentName(of: "--insecure-allow-plaintext"), value: other)
        }
        var tls: RelayTLSFiles?
        switch (values["--tls-cert"], values["--tls-key"]) {
        case (nil, nil): tls = nil
        case (let cert?, let key?): tls = RelayTLSFiles(certificatePath: cert, keyPath: key)
        case (nil, _): throw .missingOption("--tls-cert")
        case (_, nil): throw .missingOption("--tls-key")
        }
        let host = values["--host"] ?? "127.0.0.1"
        // Tokens and ciphertext metadata must not cross a network in the clear by accident.
        if tls == nil && !allowPlaintext && !isLoopback(host) { throw .plaintextNotLoopback(host: host) }
        let postgres = values["--postgres"]
        guard let db = values["--db"] ?? (postgres == nil ? nil : "") else { throw .missingOption("--db") }
        guard let portText = values["--port"] else { throw .missingOption("--port") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw .badValue(option: "--port", value: portText)
        }
        var limits = RelayLimits()
        if let rate = try positiveRate(values, "--send-rate") {
            limits.sendPerSender = RateLimit(burst: max(2, 2 * rate), perSecond: rate)
        }
        if let fetch = try positive(values, "--fetch-limit") {
            limits.fetchPerTarget = RateLimit(burst: Double(fetch), perSecond: Double(fetch) / 60)
            limits.fetchPerRequester = RateLimit(burst: 10 * Double(fetch), perSecond: 10 * Double(fetch) / 60)
        }
        if let ttl = try positive(values, "--message-ttl") {
            limits.messageTTLMilliseconds = UInt64(ttl) * 1000
        }
        var configuration = RelayConfiguration(host: host, port: port, databasePath: db, limits: limits, tls: tls)
        configuration.postgresURL = postgres
        switch values["--log-format"] {
        case nil, "text": break
        case "json": configuration.jsonLogs = true
        case let other?: throw .badValue(option: "--log-format", value: other)
        }
        return .serve(configuration)
    }

    /// 127.0.0.0/8, ::1 and `localhost`: addresses no other host reaches.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// `--option value` pairs, each allowed option at most once with a
    /// non-empty value (a switch stands alone and reads as "1"); nil when
    /// `-h` or `--help` is among them.
    public static func options(_ arguments: ArraySlice<String>, allowed: Set<String>,
                               switches: Set<String> = []) throws(RelayArgumentError) -> [String: String]? {
        var values: [String: String] = [:]
        var rest = arguments
        while let option = rest.popFirst() {
            if option == "-h" || option == "--help" { return nil }
            if switches.contains(option) {
                guard values[option] == nil else { throw .repeatedOption(option) }
                values[option] = "1"
                continue
            }
            guard allowed.contains(option) else { throw .unknownOption(option) }
            guard let value = rest.popFirst(), !value.hasPrefix("--") else { throw .missingValue(option: option) }
            guard values[option] == nil else { throw .repeatedOption(option) }
            guard !value.isEmpty else { throw .badValue(option: option, value: value) }
            values[option] = value
        }
        return values
    }

    /// A rate in requests per second: decimals allowed, so a slow refill
    /// (one request a minute is 0.0167) can be configured.
    private static func positiveRate(_ values: [String: String], _ option: String) throws(RelayArgumentError) -> Double? {
        guard let text = values[option] else { return nil }
        guard let r = Double(text), r.isFinite, r > 0, r <= 1_000_000_000 else { throw .badValue(option: option, value: text) }
        return r
    }

    private static func positive(_ values: [String: String], _ option: String) throws(RelayArgumentError) -> Int? {
        guard let text = values[option] else { return nil }
        guard let n = Int(text), n > 0, n <= 1_000_000_000 else { throw .badValue(option: option, value: text) }
        return n
    }
}

