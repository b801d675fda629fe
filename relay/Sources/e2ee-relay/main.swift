import Foundation
import Logging
import Metrics
import RelayServer

// Exit codes: 0 after a graceful shutdown, 1 when the server fails, 2 on bad arguments.

// A closed stdout or stderr should fail that write (EPIPE), not kill the server.
signal(SIGPIPE, SIG_IGN)

func writeLine(_ text: String, to handle: FileHandle) {
    // Unbuffered, so a test reading the pipe sees the line at once; a failed write is
    // not worth stopping the relay for.
    try? handle.write(contentsOf: Data((text + "\n").utf8))
}

// A device's commands: stdout carries only their output, so logs go to stderr, warnings up.
if let name = CommandLine.arguments.dropFirst().first, ClientCommand.names.contains(name) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .warning
        return handler
    }
    exit(await ClientCommand.run(Array(CommandLine.arguments.dropFirst())))
}

let command: RelayCommand
do {
    command = try RelayCommand.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    writeLine("e2ee-relay: \(error)", to: .standardError)
    writeLine(RelayCommand.usage, to: .standardError)
    exit(2)
}

switch command {
case .help:
    writeLine(RelayCommand.usage, to: .standardOutput)
    writeLine(ClientCommand.usage, to: .standardOutput)
case .serve(let configuration):
    if configuration.jsonLogs {
        LoggingSystem.bootstrap(JSONLogHandler.init)
    } else {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
    }
    let metrics = PrometheusMetrics()
    MetricsSystem.bootstrap(metrics)
    let logger = Logger(label: "e2ee-relay")
    do {
        try await Relay.run(configuration, metrics: metrics, logger: logger) { host, port in
            // The one line on stdout, which tests and scripts wait for; logs go to stderr.
            // An IPv6 address is bracketed so that the last colon is always the port.
            let shown = host.contains(":") ? "[\(host)]" : host
            writeLine("listening on \(shown):\(port)", to: .standardOutput)
        }
    } catch {
        logger.critical("e2ee-relay stopped", metadata: ["error": "\(error)"])
        exit(1)
    }
}
