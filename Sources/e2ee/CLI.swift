import ArgumentParser
import E2EE
import ToolSupport

/// Why a command stopped. Usage errors exit 2; everything else exits 1 with the
/// store untouched.
enum CLIError: Error {
    /// Bad command line: unknown command or flag, missing flag, bad peer name.
    case usage(String)
    /// Rejected input or a failed operation, already phrased as `<what> failed: <why>`.
    case failed(String)
}

/// A command of the tool. Its `run()` throws only ``CLIError``, which
/// ``CLI/main(_:)`` turns into the exit status and the line on stderr.
protocol CLICommand: ParsableCommand {
    /// The words after `e2ee` that name the command in messages: "encrypt",
    /// "group add" (`e2ee: group add failed: …`).
    static var path: String { get }
}

/// `e2ee`: the root command. Run without a subcommand it is a usage error.
struct E2EETool: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "e2ee",
        abstract: "End-to-end encrypted conversations between store directories, through files.",
        discussion: """
            Each store directory holds one device's account: its keys, sessions, groups and \
            received messages, in store.sqlite with every record sealed. A store's own name, \
            which its peers use for it, is its directory's name. Every command that takes \
            --store also takes --passphrase-file FILE: the store key is then derived from the \
            passphrase (Argon2id) instead of kept in DIR/storage.key.

            Without --in/--out, input is read from stdin and output written to stdout. The \
            directories that --store (init), --out and --out-dir name are created (mode 0700) \
            when missing.

            Sessions are set up with PQXDH (X25519 + ML-KEM-1024, PROTOCOL.md §2b): 'bundle' \
            includes a KEM prekey ('--classical' leaves it out, for peers without PQXDH), and a \
            bundle without one or a classical first message is refused (postQuantumRequired) \
            unless --allow-classical is given.

            Peer names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'. Group IDs: \
            32 lowercase hex digits.

            Exit status: 0 success, 1 rejected input or failure, 2 usage error.

            Shell completions: e2ee --generate-completion-script bash|zsh|fish.
            """,
        version: "e2ee \(E2EEVersion.current)",
        subcommands: [InitCommand.self, BundleCommand.self, EncryptCommand.self, DecryptCommand.self,
                      ReceiveCommand.self, InboxCommand.self, InspectCommand.self, GroupTool.self, RelayTool.self]
    )
    static let path = ""

    func run() throws(CLIError) { throw .usage("missing command") }
}

/// Parsing, running and reporting: the exit status of every outcome is decided here.
enum CLI {
    /// Runs one command line (without the program name) and returns the exit status:
    /// 0 success (help, `--version` and completion scripts too), 1 rejected input or
    /// failure, 2 usage error.
    static func main(_ arguments: [String]) -> Int32 {
        var command: any ParsableCommand
        do {
            try checkCommandWords(arguments)
        } catch {
            return commandExit(error.error, of: error.command)
        }
        do {
            command = try E2EETool.parseAsRoot(arguments)
        } catch {
            return parserExit(error)
        }
        do {
            // e2ee-relay parses its own arguments.
            if command is any CLICommand, !(command is any RelayForwarding) { try checkRepeats(arguments) }
            try command.run()
            return 0
        } catch let error as CLIError {
            return commandExit(error, of: type(of: command))
        } catch {
            // Only argument-parser's own commands (`e2ee help …`) get here: a clean exit or a usage error.
            return parserExit(error)
        }
    }

    /// An error of argument-parser: help, `--version` and completion scripts are clean
    /// exits (stdout, 0); everything else (unknown command or option, missing or bad
    /// value, a `ValidationError` of a command's `validate()`) is a usage error
    /// (stderr, 2), never its own EX_USAGE (64) or 1.
    static func parserExit(_ error: any Error) -> Int32 {
        if E2EETool.exitCode(for: error) == .success {
            let text = E2EETool.fullMessage(for: error)
            if !text.isEmpty { IO.printOut(text) }
            return 0
        }
        // "Error: <message>\n<usage>": the first line says "e2ee: " as every other error does.
        let message = E2EETool.message(for: error)
        let full = E2EETool.fullMessage(for: error)
        let lead = "Error: " + message
        let rest = full.hasPrefix(lead) ? String(full.dropFirst(lead.count)) : "\n" + full
        IO.printError("e2ee: \(message.isEmpty ? "usage error" : message)\(rest)")
        return 2
    }

    /// A command's own error: usage (2, with the command's usage) or failure (1,
    /// one line `e2ee: <command> failed: <why>`).
    static func commandExit(_ error: CLIError, of type: any ParsableCommand.Type) -> Int32 {
        let path = (type as? any CLICommand.Type)?.path ?? ""
        switch error {
        case .usage(let message):
            let help = path.isEmpty ? "e2ee --help" : "e2ee \(path) --help"
            IO.printError("e2ee: \(message)\nUsage: \(E2EETool.usageString(for: type))\n  See '\(help)' for more information.")
            return 2
        case .failed(let message):
            IO.printError("e2ee: \(path) failed: \(message)")
            return 1
        }
    }

    /// A wrong command word, said as such: argument-parser would name the first
    /// option it cannot place instead ("Unknown option '--store'").
    static func checkCommandWords(_ arguments: [String]) throws(WordError) {
        var command: any ParsableCommand.Type = E2EETool.self
        // `e2ee help CMD…` (argument-parser's own) names commands the same way.
        let words = arguments.first == "help" ? arguments.dropFirst() : arguments[...]
        for word in words {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !word.hasPrefix("-"), !(command == E2EETool.self && word == "help") else { return }
            guard let next = subcommands.first(where: { $0.configuration.commandName == word }) else {
                let path = (command as? any CLICommand.Type)?.path ?? ""
                throw WordError(error: .usage(path.isEmpty ? "unknown command '\(word)'" : "unknown \(path) command '\(word)'"),
                                command: command)
            }
            command = next
        }
    }

    struct WordError: Error {
        let error: CLIError
        let command: any ParsableCommand.Type
    }

    /// argument-parser keeps the last of a repeated option and takes an empty value;
    /// the tool has always refused both as usage errors. Run after a successful parse,
    /// so every `--word` is an option name (a value cannot start with a dash) and every
    /// empty argument is an option's value.
    static func checkRepeats(_ arguments: [String]) throws(CLIError) {
        var seen = Set<String>()
        var previous = ""
        for argument in arguments {
            if argument == "--" { break }
            if argument.hasPrefix("--") {
                let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                if parts.count == 2, parts[1].isEmpty { throw .usage("\(name) needs a value") }
                guard seen.insert(name).inserted else { throw .usage("\(name) given twice") }
            } else if argument.isEmpty {
                throw .usage("\(previous) needs a value")
            }
            previous = argument
        }
    }
}

/// A library error as one line: its code (the case with its context, as Swift
/// spells it: `malformed(truncated(needed: 40, available: 8))`), then what
/// happened and what to do (the error's description). ``ReceiveError`` and
/// ``MessagingError``'s wrappers are unwrapped to the error inside; group ids
/// are spelled as on the command line. Every message the tool prints for a
/// library error comes from here.
func describe(_ error: any Error) -> String {
    var inner: any Error = error
    if let e = error as? ReceiveError {
        switch e {
        case .decrypt(let d): inner = d
        case .setup(let s): inner = s
        }
    }
    if let e = error as? MessagingError {
        switch e {
        case .decrypt(let d): inner = d
        case .setup(let s): inner = s
        case .encrypt(let x): inner = x
        case .storage(let x): inner = x
        case .group(let g): inner = g
        // DistributionID's description drops leading zeros: spell ids as the command line does.
        case .unknownGroup(let id): return "unknownGroup(\(GroupID.text(id)))" + e.description.dropFirst(e.code.count)
        default: break
        }
    }
    if let e = inner as? GroupError, case .wrongGroup(let id) = e {
        return "wrongGroup(\(GroupID.text(id)))" + e.description.dropFirst(e.code.count)
    }
    return String(describing: inner)
}
