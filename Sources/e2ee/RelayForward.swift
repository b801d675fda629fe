#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

/// `e2ee relay register|send|sync|remove-device …`: the relay's client lives
/// in the relay package (relay/), which this package does not depend on, so
/// the command runs `e2ee-relay` with the same arguments, in this process's
/// place: $E2EE_RELAY_BIN, else the one beside this executable, else the PATH.
struct RelayTool: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Talk through an e2ee-relay server (runs e2ee-relay with the same arguments).",
        discussion: """
            e2ee-relay is built in the relay package (swift build --package-path relay). It is \
            found as $E2EE_RELAY_BIN, else beside this executable, else on the PATH. Its \
            arguments are its own: 'e2ee relay send …' runs 'e2ee-relay send …', which parses \
            them and decides the exit status (0 success, 1 failure, 2 usage).
            """,
        subcommands: [Register.self, Send.self, Sync.self, RemoveDevice.self]
    )
    static let path = "relay"

    func run() throws(CLIError) {
        let names = Self.configuration.subcommands.compactMap { $0.configuration.commandName }
        throw .usage("relay needs one of: \(names.sorted().joined(separator: ", "))")
    }

    struct Register: RelayForwarding {
        static let configuration = CommandConfiguration(
            commandName: "register",
            abstract: "Register this device with a relay and publish its prekeys.",
            usage: "e2ee relay register --store <dir> --server <url> --user <name> [--device <n>] [--approved-by <dir>]",
            discussion: """
                Creates the store if missing. A user's further device is approved by a \
                registered one (--approved-by its store).
                """
        )
        @Argument(parsing: .captureForPassthrough, help: "e2ee-relay's options, passed on as they are.")
        var arguments: [String] = []
        func run() throws(CLIError) { try forward() }
    }

    struct Send: RelayForwarding {
        static let configuration = CommandConfiguration(
            commandName: "send",
            abstract: "Encrypt a message for every device of a user (and this user's other devices) and send it.",
            usage: "e2ee relay send --store <dir> --to <user> [--message <text>] [--server <url>]",
            discussion: "The message is --message, else stdin."
        )
        @Argument(parsing: .captureForPassthrough, help: "e2ee-relay's options, passed on as they are.")
        var arguments: [String] = []
        func run() throws(CLIError) { try forward() }
    }

    struct Sync: RelayForwarding {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Receive until nothing came for --idle seconds (default 2).",
            usage: "e2ee relay sync --store <dir> [--idle <seconds>] [--server <url>]",
            discussion: """
                One line per message, 'SENDER: TEXT' (group messages 'SENDER in GROUP: TEXT'), \
                each committed before its ack.
                """
        )
        @Argument(parsing: .captureForPassthrough, help: "e2ee-relay's options, passed on as they are.")
        var arguments: [String] = []
        func run() throws(CLIError) { try forward() }
    }

    struct RemoveDevice: RelayForwarding {
        static let configuration = CommandConfiguration(
            commandName: "remove-device",
            abstract: "Remove one of this user's devices from the relay.",
            usage: "e2ee relay remove-device --store <dir> --device <n> [--server <url>]"
        )
        @Argument(parsing: .captureForPassthrough, help: "e2ee-relay's options, passed on as they are.")
        var arguments: [String] = []
        func run() throws(CLIError) { try forward() }
    }
}

/// A relay subcommand: its arguments go to e2ee-relay untouched.
protocol RelayForwarding: CLICommand {
    var arguments: [String] { get }
}

extension RelayForwarding {
    static var path: String { "relay" }

    func forward() throws(CLIError) -> Never {
        try RelayForward.run([Self.configuration.commandName ?? ""] + arguments)
    }
}

enum RelayForward {
    static func run(_ arguments: [String]) throws(CLIError) -> Never {
        var candidates = [String]()
        if let bin = getenv("E2EE_RELAY_BIN").map({ String(cString: $0) }), !bin.isEmpty { candidates.append(bin) }
        if let beside = besideSelf() { candidates.append(beside) }
        for path in candidates where access(path, X_OK) == 0 { exec(path, arguments, search: false) }
        exec("e2ee-relay", arguments, search: true)
        throw .failed("e2ee-relay not found: build it (swift build --package-path relay), put it on the PATH or set E2EE_RELAY_BIN")
    }

    private static func besideSelf() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash]) + "/e2ee-relay"
    }

    /// Replaces this process; returns only if the exec failed.
    private static func exec(_ path: String, _ arguments: [String], search: Bool) {
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        if search { execvp(path, &argv) } else { execv(path, &argv) }
        for pointer in argv { free(pointer) }
    }
}
