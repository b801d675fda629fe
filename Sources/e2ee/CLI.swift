import E2EE

/// Why a command stopped. Usage errors exit 2; everything else exits 1 with the
/// store untouched.
enum CLIError: Error {
    /// Bad command line: unknown command or flag, missing flag, bad peer name.
    case usage(String)
    /// Rejected input or a failed operation, already phrased as `<what> failed: <why>`.
    case failed(String)
}

enum CLI {
    static let usage = """
        usage:
          e2ee init    --store DIR
          e2ee bundle  --store DIR [--out FILE]
          e2ee encrypt --store DIR --peer NAME [--bundle FILE] [--in FILE] [--out FILE]
          e2ee encrypt --store DIR --peer NAME --in-dir DIR --out-dir DIR   (every file, in name order)
          e2ee decrypt --store DIR --peer NAME [--in FILE] [--out FILE]
          e2ee receive --store DIR --peer NAME --dir MESSAGES [--sync normal|full]
          e2ee inbox   --store DIR [--ack yes]
          e2ee inspect [--in FILE]
        Every --store command also takes --passphrase-file FILE: the store key is then
        derived from the passphrase (Argon2id) instead of kept in DIR/storage.key.
        Without --in/--out, input is read from stdin and output written to stdout.
        Peer names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'.
        Exit status: 0 success, 1 rejected input or failure, 2 usage error.
        """

    /// Runs one command and returns the exit status.
    static func run(_ arguments: [String]) -> Int32 {
        do {
            try dispatch(arguments)
            return 0
        } catch {
            switch error {
            case .usage(let message):
                IO.printError("e2ee: \(message)\n\(usage)")
                return 2
            case .failed(let message):
                IO.printError("e2ee: \(arguments[0]) failed: \(message)")
                return 1
            }
        }
    }

    private static func dispatch(_ arguments: [String]) throws(CLIError) {
        guard let command = arguments.first else { throw .usage("missing command") }
        if command == "-h" || command == "--help" || command == "help" {
            IO.printOut(usage)
            return
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "init":
            let o = try Options(rest, allowed: ["store", "passphrase-file"])
            try Commands.initialize(store: o.store())
        case "bundle":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "out"])
            try Commands.bundle(store: o.store(), output: Output(path: o["out"]))
        case "receive":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "sync", "peer", "dir"])
            try Commands.receive(store: o.store(), peer: PeerName(o.required("peer")), directory: o.required("dir"))
        case "inbox":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "ack"])
            guard [nil, "yes", "no"].contains(o["ack"]) else { throw .usage("--ack takes yes or no") }
            try Commands.inbox(store: o.store(), acknowledge: o["ack"] == "yes")
        case "encrypt" where rest.contains("--in-dir"):
            let o = try Options(rest, allowed: ["store", "passphrase-file", "peer", "in-dir", "out-dir"])
            try Commands.encryptAll(store: o.store(), peer: PeerName(o.required("peer")),
                                    inputDirectory: o.required("in-dir"), outputDirectory: o.required("out-dir"))
        case "encrypt":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "peer", "bundle", "in", "out"])
            let store = try o.store()
            let peer = try PeerName(try o.required("peer"))
            try Commands.encrypt(store: store, peer: peer, bundlePath: o["bundle"],
                                 input: Input(path: o["in"]), output: Output(path: o["out"]))
        case "decrypt":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "peer", "in", "out"])
            let store = try o.store()
            let peer = try PeerName(try o.required("peer"))
            try Commands.decrypt(store: store, peer: peer, input: Input(path: o["in"]), output: Output(path: o["out"]))
        case "inspect":
            let o = try Options(rest, allowed: ["in"])
            try Inspect.run(input: Input(path: o["in"]))
        default:
            throw .usage("unknown command '\(command)'")
        }
    }
}

/// `--flag VALUE` or `--flag=VALUE` pairs, each flag at most once, no positionals.
struct Options {
    private var values: [String: String] = [:]

    init(_ arguments: [String], allowed: Set<String>) throws(CLIError) {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            guard arg.hasPrefix("--"), arg.count > 2 else { throw .usage("unexpected argument '\(arg)'") }
            var name = String(arg.dropFirst(2))
            var value: String
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            } else {
                guard allowed.contains(name) else { throw .usage("unknown flag '--\(name)'") }
                guard i + 1 < arguments.count else { throw .usage("--\(name) needs a value") }
                i += 1
                value = arguments[i]
            }
            guard allowed.contains(name) else { throw .usage("unknown flag '--\(name)'") }
            guard !value.isEmpty else { throw .usage("--\(name) needs a value") }
            guard values[name] == nil else { throw .usage("--\(name) given twice") }
            values[name] = value
            i += 1
        }
    }

    subscript(name: String) -> String? { values[name] }

    func required(_ name: String) throws(CLIError) -> String {
        guard let v = values[name] else { throw .usage("missing --\(name)") }
        return v
    }

    func store() throws(CLIError) -> Store {
        var store = Store(path: try required("store"), passphraseFile: values["passphrase-file"])
        switch values["sync"] {
        case nil, "normal": break
        case "full": store.synchronous = .full
        case let other?: throw .usage("--sync takes normal or full, not '\(other)'")
        }
        return store
    }
}

/// A peer's name, safe to use as a file name in the store.
struct PeerName {
    let value: String

    init(_ value: String) throws(CLIError) {
        let bytes = Array(value.utf8)
        let ok = (1...64).contains(bytes.count) && bytes[0] != UInt8(ascii: ".") && bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        guard ok else { throw .usage("bad peer name '\(value)' (1-64 of [A-Za-z0-9._-], not starting with '.')") }
        self.value = value
    }
}

/// A library error as one line: the case and its context without type
/// prefixes (`malformed(truncated(needed: 40, available: 8))`);
/// ``ReceiveError`` is unwrapped to the error inside it.
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
        default: break
        }
    }
    var text = String(describing: inner)
    for prefix in ["E2EE.", "WireError.", "DecryptError.", "SessionSetupError.", "EncryptError.",
                   "RecordError.", "CryptoError.", "MessagingError.", "StorageError.", "E2EEStore."] {
        text = text.replacing(prefix, with: "")
    }
    return text
}
