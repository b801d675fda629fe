import ArgumentParser
import E2EE

// `e2ee group …`: their arguments and help. The work is in GroupCommands.swift.

struct GroupTool: CLICommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Sender-key groups with an authenticated roster (PROTOCOL.md §5b).",
        discussion: """
            'group create' prints the new group's ID and makes this store its admin. create, add, \
            remove and leave write the pairwise messages to send as DIR/NAME.N.msg (N = 1, 2, ... \
            in delivery order; DIR is created if missing): the new roster to every member (old \
            and new), and our sender-key chain to those who need it. Members need a pairwise \
            session first. Only an admin adds or removes; anyone may leave. On a removal every \
            remaining member replaces its chain; 'group distribute' then sends it (and, after an \
            invitation, our chain) to the members that need it. The receiver applies these \
            messages with 'e2ee decrypt'.
            """,
        subcommands: [Create.self, Add.self, Remove.self, Leave.self, Distribute.self, Info.self,
                      Encrypt.self, Decrypt.self]
    )
    static let path = "group"

    func run() throws(CLIError) { throw .usage("missing group command") }

    struct Create: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a group with this store as its admin; prints the group's ID.",
            discussion: "Each member gets the roster (its invitation) and our chain."
        )
        static let path = "group create"

        @OptionGroup var store: StoreOptions
        @Option(help: ArgumentHelp("The members besides this store.", valueName: "name[,name...]"),
                transform: PeerList.argument)
        var members: PeerList
        @Option(help: ArgumentHelp("Members who are admins too.", valueName: "name[,name...]"),
                transform: PeerList.argument)
        var admins: PeerList?
        @OptionGroup var outDir: OutDirOption

        func run() throws(CLIError) {
            try GroupCommands.create(store: store.directory(), members: members.names, admins: admins?.names ?? [],
                                     outputDirectory: outDir.path)
        }
    }

    struct Add: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add members (as an admin).",
            discussion: "Every member gets the new roster, the new ones our chain too."
        )
        static let path = "group add"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption
        @Option(help: ArgumentHelp("The members to add.", valueName: "name[,name...]"), transform: PeerList.argument)
        var members: PeerList
        @Option(help: ArgumentHelp("Of them, the ones who are admins too.", valueName: "name[,name...]"),
                transform: PeerList.argument)
        var admins: PeerList?
        @OptionGroup var outDir: OutDirOption

        func run() throws(CLIError) {
            try GroupCommands.add(store: store.directory(), group: group.id, members: members.names,
                                  admins: admins?.names ?? [], outputDirectory: outDir.path)
        }
    }

    struct Remove: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove members (as an admin).",
            discussion: """
                Everyone (the removed too) gets the new roster; our chain is replaced and goes to \
                the remaining members, who replace theirs on receipt.
                """
        )
        static let path = "group remove"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption
        @Option(help: ArgumentHelp("The members to remove.", valueName: "name[,name...]"), transform: PeerList.argument)
        var members: PeerList
        @OptionGroup var outDir: OutDirOption

        func run() throws(CLIError) {
            try GroupCommands.remove(store: store.directory(), group: group.id, members: members.names,
                                     outputDirectory: outDir.path)
        }
    }

    struct Leave: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "leave",
            abstract: "Leave the group: the remaining members get the roster without this store."
        )
        static let path = "group leave"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption
        @OptionGroup var outDir: OutDirOption

        func run() throws(CLIError) {
            try GroupCommands.leave(store: store.directory(), group: group.id, outputDirectory: outDir.path)
        }
    }

    struct Distribute: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "distribute",
            abstract: "Send our current chain to the members that still need it.",
            discussion: """
                After an invitation, a join or a removal. Members without a pairwise session are \
                named on stderr and stay pending.
                """
        )
        static let path = "group distribute"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption
        @OptionGroup var outDir: OutDirOption

        func run() throws(CLIError) {
            try GroupCommands.distribute(store: store.directory(), group: group.id, outputDirectory: outDir.path)
        }
    }

    struct Info: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "info",
            abstract: "Print the group's roster, revision, admins and pending distributions as JSON."
        )
        static let path = "group info"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption

        func run() throws(CLIError) { try GroupCommands.info(store: store.directory(), group: group.id) }
    }

    struct Encrypt: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "encrypt",
            abstract: "Encrypt a message to the group (one message for every member)."
        )
        static let path = "group encrypt"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption
        @OptionGroup var input: InputOption
        @OptionGroup var output: OutputOption
        @OptionGroup var policy: PolicyOption

        func run() throws(CLIError) {
            try GroupCommands.encrypt(store: store.directory(policy: policy), group: group.id, input: input.input,
                                      output: output.output)
        }
    }

    struct Decrypt: CLICommand {
        static let configuration = CommandConfiguration(
            commandName: "decrypt",
            abstract: "Decrypt a group message from one member (--peer)."
        )
        static let path = "group decrypt"

        @OptionGroup var store: StoreOptions
        @OptionGroup var group: GroupOption
        @OptionGroup var sender: PeerOption
        @OptionGroup var input: InputOption
        @OptionGroup var output: OutputOption
        @OptionGroup var policy: PolicyOption

        func run() throws(CLIError) {
            try GroupCommands.decrypt(store: store.directory(policy: policy), group: group.id, sender: sender.name,
                                      input: input.input, output: output.output)
        }
    }
}
