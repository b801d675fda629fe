import RelayServer
import Testing

@Suite struct ArgumentsTests {
    @Test func serveWithDefaults() throws {
        let command = try RelayCommand.parse(["serve", "--db", "relay.sqlite", "--port", "8080"])
        #expect(command == .serve(RelayConfiguration(host: "127.0.0.1", port: 8080, databasePath: "relay.sqlite")))
    }

    @Test func serveWithHost() throws {
        let command = try RelayCommand.parse(["serve", "--host", "::1", "--port", "0", "--db", "x"])
        #expect(command == .serve(RelayConfiguration(host: "::1", port: 0, databasePath: "x")))
    }

    /// `--postgres URL` (or `E2EE_RELAY_POSTGRES`) replaces `--db`; the flag wins over the variable.
    @Test func postgresInsteadOfADatabaseFile() throws {
        let url = "postgres://relay@127.0.0.1:5432/relay"
        for (arguments, environment) in [(["serve", "--postgres", url, "--port", "1"], [String: String]()),
                                         (["serve", "--port", "1"], ["E2EE_RELAY_POSTGRES": url]),
                                         (["serve", "--postgres", url, "--port", "1"], ["E2EE_RELAY_POSTGRES": "postgres://other@h/x"])] {
            guard case .serve(let configuration) = try RelayCommand.parse(arguments, environment: environment)
            else { Issue.record("not serve"); continue }
            #expect(configuration.postgresURL == url)
            #expect(configuration.databasePath == "")
        }
        #expect(throws: RelayArgumentError.badValue(option: "E2EE_RELAY_POSTGRES", value: "")) {
            try RelayCommand.parse(["serve", "--port", "1"], environment: ["E2EE_RELAY_POSTGRES": ""])
        }
        #expect(throws: RelayArgumentError.missingOption("--db")) { try RelayCommand.parse(["serve", "--port", "1"]) }
    }

    /// The send rate takes decimals; its burst is twice the rate, never below 2.
    @Test func sendRateTakesDecimals() throws {
        for (text, burst, rate) in [("0.01", 2.0, 0.01), ("1", 2, 1), ("2.5", 5, 2.5), ("500", 1000, 500)] {
            guard case .serve(let configuration) = try RelayCommand.parse(["serve", "--db", "x", "--port", "1", "--send-rate", text])
            else { Issue.record("not serve"); continue }
            #expect(configuration.limits.sendPerSender == RateLimit(burst: burst, perSecond: rate))
        }
    }

    @Test(arguments: [
        ([], RelayArgumentError.noCommand),
        (["serve", "--db", "x", "--port", "1", "--send-rate", "0"], .badValue(option: "--send-rate", value: "0")),
        (["serve", "--db", "x", "--port", "1", "--send-rate", "-1"], .badValue(option: "--send-rate", value: "-1")),
        (["serve", "--db", "x", "--port", "1", "--send-rate", "nan"], .badValue(option: "--send-rate", value: "nan")),
        (["serve", "--db", "x", "--port", "1", "--send-rate", "inf"], .badValue(option: "--send-rate", value: "inf")),
        (["serve", "--db", "x", "--port", "1", "--send-rate", "fast"], .badValue(option: "--send-rate", value: "fast")),
        (["run"], .unknownCommand("run")),
        (["serve", "--db", "x"], .missingOption("--port")),
        (["serve", "--port", "1"], .missingOption("--db")),
        (["serve", "--db"], .missingValue(option: "--db")),
        (["serve", "--db", "--port", "1"], .missingValue(option: "--db")),
        (["serve", "--db", "x", "--port", "65536"], .badValue(option: "--port", value: "65536")),
        (["serve", "--db", "x", "--port", "-1"], .badValue(option: "--port", value: "-1")),
        (["serve", "--db", "x", "--port", "http"], .badValue(option: "--port", value: "http")),
        (["serve", "--db", "", "--port", "1"], .badValue(option: "--db", value: "")),
        (["serve", "--db", "x", "--db", "y", "--port", "1"], .repeatedOption("--db")),
        (["serve", "--db", "x", "--port", "1", "--verbose"], .unknownOption("--verbose")),
    ] as [([String], RelayArgumentError)])
    func refused(arguments: [String], expected: RelayArgumentError) {
        #expect(throws: expected) { try RelayCommand.parse(arguments) }
    }
}
