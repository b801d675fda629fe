import ArgumentParser
import E2EE
import E2EEStore
import ToolSupport

// The options that several commands share, one `@OptionGroup` each: a new
// option for a family of commands is one more group here and one line in each
// command (`PolicyOption`, say, is in every command that encrypts or decrypts
// application messages).

/// `--store DIR [--passphrase-file FILE]`: every command that opens a store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"),
            help: ArgumentHelp("The store directory; its name is this device's name to its peers.", valueName: "dir"),
            completion: .directory)
    var path: String

    @Option(help: ArgumentHelp("Derive the store key from the passphrase in this file (Argon2id) "
                               + "instead of keeping it in DIR/storage.key.", valueName: "file"),
            completion: .file())
    var passphraseFile: String?

    func directory(synchronous: SQLiteStore.Synchronous = .normal, allowClassical: Bool = false,
                   policy: PolicyOption? = nil) -> Store {
        var store = Store(path: path, passphraseFile: passphraseFile)
        store.synchronous = synchronous
        store.allowClassical = allowClassical
        store.policyCommand = policy?.command
        return store
    }
}

/// `--policy CMD`: the content policy (seed 002), run on this device for every
/// application plaintext: the commands that encrypt or decrypt one.
struct PolicyOption: ParsableArguments {
    @Option(name: .customLong("policy"),
            help: ArgumentHelp("Run this shell command for every plaintext, outgoing before encryption and incoming "
                               + "after decryption, with the plaintext on stdin and E2EE_POLICY_DIRECTION "
                               + "(outgoing|incoming), E2EE_POLICY_PEERS and E2EE_POLICY_GROUP set. Exit 0 allows; "
                               + "exit 1 rejects an outgoing message (nothing is sent) or holds an incoming one "
                               + "(received and kept in the inbox, marked held), with stdout's first line as the "
                               + "reason; any other outcome counts as exit 1.", valueName: "command"))
    var command: String?
}

/// `--allow-classical`: the commands that can set up a session.
struct ClassicalOption: ParsableArguments {
    @Flag(help: ArgumentHelp("Accept a bundle without a KEM prekey or a classical first message (X3DH "
                             + "without ML-KEM, PROTOCOL.md §2b); refused as postQuantumRequired otherwise."))
    var allowClassical = false
}

/// `--peer NAME`: whom a message goes to or comes from.
struct PeerOption: ParsableArguments {
    @Option(name: .customLong("peer"),
            help: ArgumentHelp("The peer: its store's directory name.", valueName: "name"),
            transform: PeerName.argument)
    var name: PeerName
}

/// `--in FILE`: where a command reads its input (stdin without it).
struct InputOption: ParsableArguments {
    @Option(name: .customLong("in"),
            help: ArgumentHelp("Read the input from this file instead of stdin ('-' is stdin).", valueName: "file"),
            completion: .file())
    var path: String?

    var input: Input { Input(path: path) }
}

/// `--out FILE`: where a command writes its result (stdout without it).
struct OutputOption: ParsableArguments {
    @Option(name: .customLong("out"),
            help: ArgumentHelp("Write the result to this file instead of stdout ('-' is stdout); "
                               + "missing directories are created.", valueName: "file"),
            completion: .file())
    var path: String?

    var output: Output { Output(path: path) }
}

/// `--group ID`: the group a group command acts on.
struct GroupOption: ParsableArguments {
    @Option(name: .customLong("group"),
            help: ArgumentHelp("The group's ID: 32 lowercase hex digits, as 'group create' prints it.", valueName: "id"),
            transform: GroupID.argument)
    var id: DistributionID
}

/// `--out-dir DIR`: where a group change writes the pairwise messages it sends.
struct OutDirOption: ParsableArguments {
    @Option(name: .customLong("out-dir"),
            help: ArgumentHelp("Write the messages to send as DIR/NAME.N.msg (N = 1, 2, ... in delivery "
                               + "order); created if missing.", valueName: "dir"),
            completion: .directory)
    var path: String
}

/// `--sync normal|full`.
enum SyncMode: String, ExpressibleByArgument, CaseIterable {
    case normal, full

    var synchronous: SQLiteStore.Synchronous { self == .full ? .full : .normal }
}

/// `--ack yes|no`.
enum YesNo: String, ExpressibleByArgument, CaseIterable {
    case yes, no
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

    /// For `@Option(transform:)`: argument-parser reports the thrown text after the value.
    @Sendable static func argument(_ text: String) throws -> PeerName {
        do { return try PeerName(text) } catch {
            throw ValidationError("a peer name is 1-64 of [A-Za-z0-9._-], not starting with '.'")
        }
    }
}

/// `--members`/`--admins NAME[,NAME...]`: one option, a list of names.
struct PeerList {
    let names: [PeerName]

    @Sendable static func argument(_ text: String) throws -> PeerList {
        do { return PeerList(names: try PeerName.list(text)) } catch { throw ValidationError(error.message) }
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

    @Sendable static func argument(_ text: String) throws -> DistributionID {
        do { return try parse(text) } catch { throw ValidationError("a group id is 32 lowercase hex digits") }
    }

    /// The id as the command line spells it (``DistributionID/description``
    /// does not zero-pad its bytes).
    static func text(_ id: DistributionID) -> String { Hex.encode(id.rawValue) }
}
