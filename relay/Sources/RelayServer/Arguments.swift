/// What `e2ee-relay serve` was asked to run.
public struct RelayConfiguration: Sendable, Equatable {
    /// Address to bind; loopback unless told otherwise, so a test never listens outside.
    public var host: String
    /// 0 asks the kernel for an ephemeral port (the bound one is reported once listening).
    public var port: Int
    /// Path of the SQLite database. Accepted and logged; nothing is stored yet.
    public var databasePath: String

    public init(host: String = "127.0.0.1", port: Int, databasePath: String) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
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

    public static let usage = "usage: e2ee-relay serve --db PATH --port N [--host ADDRESS]"

    /// Parses the arguments after the executable's name.
    public static func parse(_ arguments: [String]) throws(RelayArgumentError) -> RelayCommand {
        guard let command = arguments.first else { throw .noCommand }
        if command == "-h" || command == "--help" || command == "help" { return .help }
        guard command == "serve" else { throw .unknownCommand(command) }

        var values: [String: String] = [:]
        var rest = arguments.dropFirst()
        while let option = rest.popFirst() {
            if option == "-h" || option == "--help" { return .help }
            guard ["--db", "--port", "--host"].contains(option) else { throw .unknownOption(option) }
            guard let value = rest.popFirst(), !value.hasPrefix("--") else { throw .missingValue(option: option) }
            guard values[option] == nil else { throw .repeatedOption(option) }
            guard !value.isEmpty else { throw .badValue(option: option, value: value) }
            values[option] = value
        }
        guard let db = values["--db"] else { throw .missingOption("--db") }
        guard let portText = values["--port"] else { throw .missingOption("--port") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw .badValue(option: "--port", value: portText)
        }
        return .serve(RelayConfiguration(host: values["--host"] ?? "127.0.0.1", port: port, databasePath: db))
    }
}
