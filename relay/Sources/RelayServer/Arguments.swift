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

    public init(host: String = "127.0.0.1", port: Int, databasePath: String, limits: RelayLimits = RelayLimits()) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.limits = limits
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

    public var description: String {
        switch self {
        case .noCommand: "no command given"
        case .unknownCommand(let c): "unknown command '\(c)'"
        case .unknownOption(let o): "unknown option '\(o)'"
        case .missingValue(let o): "\(o) needs a value"
        case .repeatedOption(let o): "\(o) given twice"
        case .missingOption(let o): "\(o) is required"
        case .badValue(let o, let v): "bad value '\(v)' for \(o)"
        }
    }
}

/// The relay's command line, parsed by hand until there is more than one command.
public enum RelayCommand: Equatable, Sendable {
    case help
    case serve(RelayConfiguration)

    public static let usage = """
        usage: e2ee-relay serve (--db PATH | --postgres URL) --port N [--host ADDRESS]
                                [--send-rate N] [--fetch-limit N] [--message-ttl SECONDS]
          --send-rate R        send requests per second per device, decimals allowed (burst 2R, at least 2;
                               default 500)
          --fetch-limit N      bundle fetches per device and target user per minute (burst N; default 10),
                               10N per minute for all targets
          --message-ttl S      seconds a queued message waits for its device (default 30 days)
          --postgres URL       postgres://user[:password]@host[:port]/database: PostgreSQL instead of
                               SQLite, shared by every node (also E2EE_RELAY_POSTGRES)
        """

    /// Parses the arguments after the executable's name.
    public static func parse(_ arguments: [String]) throws(RelayArgumentError) -> RelayCommand {
        guard let command = arguments.first else { throw .noCommand }
        if command == "-h" || command == "--help" || command == "help" { return .help }
        guard command == "serve" else { throw .unknownCommand(command) }

        guard let values = try options(arguments.dropFirst(),
                                       allowed: ["--db", "--port", "--host", "--send-rate", "--fetch-limit", "--message-ttl",
                                                 "--postgres"])
        else { return .help }
        let postgres = values["--postgres"] ?? ProcessInfo.processInfo.environment["E2EE_RELAY_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
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
        var configuration = RelayConfiguration(host: values["--host"] ?? "127.0.0.1", port: port, databasePath: db,
                                               limits: limits)
        configuration.postgresURL = postgres
        return .serve(configuration)
    }

    /// `--option value` pairs, each allowed option at most once with a
    /// non-empty value; nil when `-h` or `--help` is among them.
    public static func options(_ arguments: ArraySlice<String>, allowed: Set<String>) throws(RelayArgumentError) -> [String: String]? {
        var values: [String: String] = [:]
        var rest = arguments
        while let option = rest.popFirst() {
            if option == "-h" || option == "--help" { return nil }
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
