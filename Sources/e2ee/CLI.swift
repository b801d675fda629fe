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

enum CLI {
    static let usage = """
        usage:
          e2ee --version
          e2ee init    --store DIR
          e2ee bundle  --store DIR [--out FILE] [--classical]
          e2ee encrypt --store DIR --peer NAME [--bundle FILE] [--in FILE] [--out FILE] [--allow-classical]
          e2ee encrypt --store DIR --peer NAME --in-dir DIR --out-dir DIR   (every file, in name order)
          e2ee decrypt --store DIR --peer NAME [--in FILE] [--out FILE] [--allow-classical]
          e2ee receive --store DIR --peer NAME --dir MESSAGES [--commit-every N] [--sync normal|full] [--allow-classical]
          e2ee inbox   --store DIR [--ack yes]
          e2ee inspect [--in FILE]
          e2ee relay register|send|sync|remove-device …   (runs e2ee-relay; see 'e2ee-relay --help')
          e2ee group create     --store DIR --members NAME[,NAME...] [--admins NAME[,...]] --out-dir DIR
          e2ee group add        --store DIR --group ID --members NAME[,NAME...] [--admins NAME[,...]] --out-dir DIR
          e2ee group remove     --store DIR --group ID --members NAME[,NAME...] --out-dir DIR
          e2ee group leave      --store DIR --group ID --out-dir DIR
          e2ee group distribute --store DIR --group ID --out-dir DIR
          e2ee group info       --store DIR --group ID
          e2ee group encrypt    --store DIR --group ID [--in FILE] [--out FILE]
          e2ee group decrypt    --store DIR --group ID --peer SENDER [--in FILE] [--out FILE]
        Every --store command also takes --passphrase-file FILE: the store key is then
        derived from the passphrase (Argon2id) instead of kept in DIR/storage.key.
        Without --in/--out, input is read from stdin and output written to stdout.
        Sessions are set up with PQXDH (X25519 + ML-KEM-1024, PROTOCOL.md §2b): 'bundle'
        includes a KEM prekey ('--classical' leaves it out, for peers without PQXDH), and a
        bundle without one or a classical first message is refused (postQuantumRequired)
        unless --allow-classical is given.
        'decrypt' checks that --out can be written before it commits (a bad --out leaves
        the store unchanged); if writing fails after the commit, the message is in the
        inbox ('e2ee inbox').
        Peer names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'.
        Exit status: 0 success, 1 rejected input or failure, 2 usage error.
        A store's own name, which its peers use for it, is its directory's name.
        Groups (sender keys, PROTOCOL.md §5b): ID is 32 lowercase hex digits. 'group
        create' prints the new group's ID and makes this store its admin. create, add,
        remove and leave write the pairwise messages to send as DIR/NAME.N.msg (N = 1, 2,
        ... in delivery order; DIR is created if missing): the new roster to every member
        (old and new), and our sender-key chain to those who need it. Members need a
        pairwise session first. Only an admin adds or removes; anyone may leave. On a
        removal every remaining member replaces its chain; 'group distribute' then sends
        it (and, after an invitation, our chain) to the members that need it.
        Roster updates and distributions are ordinary pairwise messages: 'decrypt'
        applies them to the group state in the same commit and writes only the line
        'group update: ID revision R from NAME' or 'group distribution: ID from NAME'.
        Application messages that start with the bytes 01 04 or 01 06 are reserved.
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
                var command = arguments[0]
                if command == "group", arguments.count > 1 { command += " \(arguments[1])" }
                IO.printError("e2ee: \(command) failed: \(message)")
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
        if command == "--version" {
            IO.printOut("e2ee \(E2EEVersion.current)")
            return
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "relay":
            try RelayForward.run(rest)
        case "init":
            let o = try Options(rest, allowed: ["store", "passphrase-file"])
            try Commands.initialize(store: o.store())
        case "bundle":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "out"], switches: ["classical"])
            try Commands.bundle(store: o.store(), output: Output(path: o["out"]), classical: o.isSet("classical"))
        case "receive":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "sync", "peer", "dir", "commit-every"],
                                switches: ["allow-classical"])
            var commitEvery = 256
            if let n = o["commit-every"] {
                guard let value = Int(n), value > 0 else { throw .usage("--commit-every takes a positive number, not '\(n)'") }
                commitEvery = value
            }
            try Commands.receive(store: o.store(), peer: PeerName(o.required("peer")), directory: o.required("dir"),
                                 commitEvery: commitEvery)
        case "inbox":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "ack"])
            guard [nil, "yes", "no"].contains(o["ack"]) else { throw .usage("--ack takes yes or no") }
            try Commands.inbox(store: o.store(), acknowledge: o["ack"] == "yes")
        case "encrypt" where rest.contains("--in-dir"):
            let o = try Options(rest, allowed: ["store", "passphrase-file", "peer", "in-dir", "out-dir"])
            try Commands.encryptAll(store: o.store(), peer: PeerName(o.required("peer")),
                                    inputDirectory: o.required("in-dir"), outputDirectory: o.required("out-dir"))
        case "encrypt":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "peer", "bundle", "in", "out"],
                                switches: ["allow-classical"])
            let store = try o.store()
            let peer = try PeerName(try o.required("peer"))
            try Commands.encrypt(store: store, peer: peer, bundlePath: o["bundle"],
                                 input: Input(path: o["in"]), output: Output(path: o["out"]))
        case "decrypt":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "peer", "in", "out"],
                                switches: ["allow-classical"])
            let store = try o.store()
            let peer = try PeerName(try o.required("peer"))
            try Commands.decrypt(store: store, peer: peer, input: Input(path: o["in"]), output: Output(path: o["out"]))
        case "inspect":
            let o = try Options(rest, allowed: ["in"])
            try Inspect.run(input: Input(path: o["in"]))
        case "group":
            try dispatchGroup(rest)
        default:
            throw .usage("unknown command '\(command)'")
        }
    }
}

extension CLI {
    fileprivate static func dispatchGroup(_ arguments: [String]) throws(CLIError) {
        guard let sub = arguments.first else { throw .usage("missing group command") }
        let rest = Array(arguments.dropFirst())
        switch sub {
        case "create":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "members", "admins", "out-dir"])
            let store = try o.store()
            let members = try PeerName.list(o.required("members"))
            try GroupCommands.create(store: store, members: members, admins: o["admins"].map { (t) throws(CLIError) in try PeerName.list(t) } ?? [],
                                     outputDirectory: o.required("out-dir"))
        case "add":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "group", "members", "admins", "out-dir"])
            let store = try o.store()
            let id = try GroupID.parse(o.required("group"))
            let members = try PeerName.list(o.required("members"))
            try GroupCommands.add(store: store, group: id, members: members,
                                  admins: o["admins"].map { (t) throws(CLIError) in try PeerName.list(t) } ?? [], outputDirectory: o.required("out-dir"))
        case "remove":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "group", "members", "out-dir"])
            let store = try o.store()
            let id = try GroupID.parse(o.required("group"))
            let members = try PeerName.list(o.required("members"))
            try GroupCommands.remove(store: store, group: id, members: members, outputDirectory: o.required("out-dir"))
        case "leave", "distribute":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "group", "out-dir"])
            let store = try o.store()
            let id = try GroupID.parse(o.required("group"))
            if sub == "leave" {
                try GroupCommands.leave(store: store, group: id, outputDirectory: o.required("out-dir"))
            } else {
                try GroupCommands.distribute(store: store, group: id, outputDirectory: o.required("out-dir"))
            }
        case "info":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "group"])
            let store = try o.store()
            try GroupCommands.info(store: store, group: GroupID.parse(o.required("group")))
        case "encrypt":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "group", "in", "out"])
            let store = try o.store()
            let id = try GroupID.parse(o.required("group"))
            try GroupCommands.encrypt(store: store, group: id, input: Input(path: o["in"]), output: Output(path: o["out"]))
        case "decrypt":
            let o = try Options(rest, allowed: ["store", "passphrase-file", "group", "peer", "in", "out"])
            let store = try o.store()
            let id = try GroupID.parse(o.required("group"))
            let sender = try PeerName(o.required("peer"))
            try GroupCommands.decrypt(store: store, group: id, sender: sender,
                                      input: Input(path: o["in"]), output: Output(path: o["out"]))
        default:
            throw .usage("unknown group command '\(sub)'")
        }
    }
}

/// A group id on the command line: 32 lowercase hex digits.
enum GroupID {
    static func parse(_ text: String) throws(CLIError) -> DistributionID {
        let digits = Array(text.utf8)
        // Hex.decode also takes uppercase digits: the command line does not.
        let uppercase = UInt8(ascii: "A")...UInt8(ascii: "F")
        guard digits.count == 2 * DistributionID.byteCount, !digits.contains(where: uppercase.contains),
              let raw = Hex.decode(text) else {
            throw .usage("bad group id '\(text)' (32 lowercase hex digits)")
        }
        do { return try DistributionID(rawValue: raw) } catch { throw .usage("bad group id '\(text)'") }
    }

    /// The id as the command line spells it (``DistributionID/description``
    /// does not zero-pad its bytes).
    static func text(_ id: DistributionID) -> String { Hex.encode(id.rawValue) }
}

/// `--flag VALUE` or `--flag=VALUE` pairs and `--switch`es without a value,
/// each at most once, no positionals.
struct Options {
    private var values: [String: String] = [:]
    private var set: Set<String> = []

    init(_ arguments: [String], allowed: Set<String>, switches: Set<String> = []) throws(CLIError) {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            guard arg.hasPrefix("--"), arg.count > 2 else { throw .usage("unexpected argument '\(arg)'") }
            var name = String(arg.dropFirst(2))
            var value: String
            if switches.contains(name) {
                guard set.insert(name).inserted else { throw .usage("--\(name) given twice") }
                i += 1
                continue
            }
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

    func isSet(_ name: String) -> Bool { set.contains(name) }

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
        store.allowClassical = isSet("allow-classical")
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

    /// `NAME[,NAME...]`, each a valid name, without repeats.
    static func list(_ text: String) throws(CLIError) -> [PeerName] {
        var names = [PeerName](), seen = Set<String>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = try PeerName(String(part))
            guard seen.insert(name.value).inserted else { throw .usage("peer '\(name.value)' named twice") }
            names.append(name)
        }
        return names
    }
}

/// A library error as one line: its description, the case and its context
/// (`malformed(truncated(needed: 40, available: 8))`) then what to do;
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
        case .group(let g): inner = g
        // DistributionID's description drops leading zeros: spell ids as the command line does.
        case .unknownGroup(let id): return "unknownGroup(\(GroupID.text(id)))" + e.description.dropFirst(e.code.count)
        default: break
        }
    }
    if let e = inner as? GroupError, case .wrongGroup(let id) = e {
        return "wrongGroup(\(GroupID.text(id)))" + e.description.dropFirst(e.code.count)
    }
    var text = String(describing: inner)
    for prefix in ["E2EE.", "WireError.", "DecryptError.", "SessionSetupError.", "EncryptError.",
                   "RecordError.", "CryptoError.", "MessagingError.", "StorageError.", "GroupError.", "E2EEStore."] {
        text = text.replacing(prefix, with: "")
    }
    return text
}
