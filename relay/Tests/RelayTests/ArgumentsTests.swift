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

    @Test(arguments: [
        ([], RelayArgumentError.noCommand),
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
