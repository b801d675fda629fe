import ArgumentParser
import E2EE

// The one-to-one commands: their arguments and help. The work is in Commands.swift.

struct InitCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a store and its account (identity key, signed prekey, one-time and KEM prekeys).",
        discussion: """
            The directory (and any missing parent) is created with mode 0700; the store key goes \
            to DIR/storage.key (mode 0600), or with --passphrase-file only a salt is kept and the \
            key is derived from the passphrase each time. A directory that already has a store \
            is refused.
            """
    )
    static let path = "init"

    @OptionGroup var store: StoreOptions

    func run() throws(CLIError) { try Commands.initialize(store: store.directory()) }
}

struct BundleCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Publish a prekey bundle: what a peer needs to start a session with this store.",
        discussion: """
            Each bundle hands out the next one-time prekey and one-time KEM prekey (after the last \
            one, none and the last-resort KEM prekey).
            """
    )
    static let path = "bundle"

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOption
    @Flag(help: "Leave the KEM prekey out (for peers without PQXDH).")
    var classical = false

    func run() throws(CLIError) {
        try Commands.bundle(store: store.directory(), output: output.output, classical: classical)
    }
}

struct EncryptCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a message to a peer.",
        usage: """
            e2ee encrypt --store <dir> [--passphrase-file <file>] --peer <name> [--bundle <file>] [--in <file>] [--out <file>] [--allow-classical]
            e2ee encrypt --store <dir> [--passphrase-file <file>] --peer <name> --in-dir <dir> --out-dir <dir>
            """,
        discussion: """
            The first message to a peer needs its bundle (--bundle); once a session exists --bundle \
            is ignored. The session's advance is committed before the message is written.

            With --in-dir and --out-dir, every file of --in-dir (in name order) is encrypted into \
            a file of the same name in --out-dir (created if missing): a queue of messages in one \
            process, for an existing session.
            """
    )
    static let path = "encrypt"

    @OptionGroup var store: StoreOptions
    @OptionGroup var peer: PeerOption
    @Option(help: ArgumentHelp("The peer's bundle, for the first message.", valueName: "file"), completion: .file())
    var bundle: String?
    @OptionGroup var input: InputOption
    @OptionGroup var output: OutputOption
    @OptionGroup var classical: ClassicalOption
    @OptionGroup var policy: PolicyOption
    @Option(help: ArgumentHelp("Encrypt every file of this directory instead of one input.", valueName: "dir"),
            completion: .directory)
    var inDir: String?
    @Option(help: ArgumentHelp("With --in-dir: where the messages go, one file per input.", valueName: "dir"),
            completion: .directory)
    var outDir: String?

    func validate() throws {
        guard inDir != nil || outDir != nil else { return }
        guard inDir != nil else { throw ValidationError("--out-dir goes with --in-dir") }
        guard outDir != nil else { throw ValidationError("missing --out-dir") }
        let single = [("--bundle", bundle != nil), ("--in", input.path != nil), ("--out", output.path != nil),
                      ("--allow-classical", classical.allowClassical)]
        if let (flag, _) = single.first(where: { $0.1 }) { throw ValidationError("\(flag) does not go with --in-dir") }
    }

    func run() throws(CLIError) {
        let store = store.directory(allowClassical: classical.allowClassical, policy: policy)
        if let inDir, let outDir {
            try Commands.encryptAll(store: store, peer: peer.name, inputDirectory: inDir, outputDirectory: outDir)
        } else {
            try Commands.encrypt(store: store, peer: peer.name, bundlePath: bundle,
                                 input: input.input, output: output.output)
        }
    }
}

struct DecryptCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a message from a peer.",
        discussion: """
            The session's advance and the plaintext (in the inbox) are committed in one \
            transaction. --out is checked before the commit (a bad --out leaves the store \
            unchanged); if writing fails after the commit, the message is in the inbox \
            ('e2ee inbox').

            Group roster updates and sender-key distributions are ordinary pairwise messages: \
            'decrypt' applies them to the group state in the same commit and writes only the \
            line 'group update: ID revision R from NAME' or 'group distribution: ID from NAME'. \
            Application messages that start with the bytes 01 04 or 01 06 are reserved.
            """
    )
    static let path = "decrypt"

    @OptionGroup var store: StoreOptions
    @OptionGroup var peer: PeerOption
    @OptionGroup var input: InputOption
    @OptionGroup var output: OutputOption
    @OptionGroup var classical: ClassicalOption
    @OptionGroup var policy: PolicyOption

    func run() throws(CLIError) {
        try Commands.decrypt(store: store.directory(allowClassical: classical.allowClassical, policy: policy),
                             peer: peer.name,
                             input: input.input, output: output.output)
    }
}

struct ReceiveCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Receive every message file of a directory from one peer, in name order.",
        discussion: """
            As a server would redeliver a queue: messages already received are counted as \
            duplicates, not errors. Files are received --commit-every at a time, one transaction \
            each; a kill loses at most the chunk under way, which the next run receives again. \
            Prints one line: 'received R, duplicates D, rejected X'; each rejected file is named \
            on stderr.
            """
    )
    static let path = "receive"

    @OptionGroup var store: StoreOptions
    @OptionGroup var peer: PeerOption
    @Option(help: ArgumentHelp("The directory of message files.", valueName: "dir"), completion: .directory)
    var dir: String
    @Option(help: ArgumentHelp("Messages per transaction.", valueName: "n"))
    var commitEvery = 256
    @Option(help: ArgumentHelp("full: fsync every commit (durable across power loss, slower).", valueName: "normal|full"))
    var sync = SyncMode.normal
    @OptionGroup var classical: ClassicalOption
    @OptionGroup var policy: PolicyOption

    func validate() throws {
        guard commitEvery > 0 else { throw ValidationError("--commit-every takes a positive number, not '\(commitEvery)'") }
    }

    func run() throws(CLIError) {
        let store = store.directory(synchronous: sync.synchronous, allowClassical: classical.allowClassical, policy: policy)
        try Commands.receive(store: store, peer: peer.name, directory: dir, commitEvery: commitEvery)
    }
}

struct InboxCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "Print the received messages as JSON lines.",
        discussion: """
            One line per message: sequence, sender, received_at and plaintext_hex. With --ack yes \
            they are deleted afterwards.
            """
    )
    static let path = "inbox"

    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp("yes: delete the printed messages.", valueName: "yes|no"))
    var ack = YesNo.no

    func run() throws(CLIError) { try Commands.inbox(store: store.directory(), acknowledge: ack == .yes) }
}

struct InspectCommand: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print what a bundle or message says, as JSON.",
        discussion: """
            Bundles, pairwise messages, group messages, sender-key distributions and group \
            updates. Only public fields are printed; ciphertext is summarised by its length, and \
            a distribution's chain key is never shown. Needs no store.
            """
    )
    static let path = "inspect"

    @OptionGroup var input: InputOption

    func run() throws(CLIError) { try Inspect.run(input: input.input) }
}
