import E2EE

/// The Swift fuzz targets. Each has a directory `fuzz/<rawValue>/` holding its
/// seed corpus (`corpus/`) and any crash reproducers (`regressions/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case bundle
    case prekeyMessage = "prekey_message"
    case ratchetMessage = "ratchet_message"
    case sessionRecord = "session_record"
    case accountRecord = "account_record"
    case sessionSetRecord = "session_set_record"
    case decrypt
    case interaction
    case senderKeyMessage = "sender_key_message"
    case senderKeyDistribution = "sender_key_distribution"
    case groupRecord = "group_record"
    case groupInteraction = "group_interaction"

    /// Runs the harness on one input; a broken invariant is thrown. With
    /// `avoidingKnownIssues` (the default, as the fuzzers run) the harness
    /// lets the exact symptoms of the open ``KnownIssue``s pass; replaying
    /// their reproducers needs `false`.
    public func check(_ data: [UInt8], avoidingKnownIssues: Bool = true) throws(InvariantViolation) {
        let c = Checker(target: rawValue, avoidKnownIssues: avoidingKnownIssues)
        switch self {
        case .bundle: try ParserChecks.bundle(data, c)
        case .prekeyMessage: try ParserChecks.preKeyMessage(data, c)
        case .ratchetMessage: try ParserChecks.ratchetMessage(data, c)
        case .sessionRecord: try ParserChecks.sessionRecord(data, c)
        case .accountRecord: try ParserChecks.accountRecord(data, c)
        case .sessionSetRecord: try ParserChecks.sessionSetRecord(data, c)
        case .decrypt: try DecryptChecks.decrypt(data, c)
        case .interaction: try Interaction.check(data, c)
        case .senderKeyMessage: try GroupChecks.senderKeyMessage(data, c)
        case .senderKeyDistribution: try GroupChecks.senderKeyDistribution(data, c)
        case .groupRecord: try GroupChecks.groupRecord(data, c)
        case .groupInteraction: try GroupInteraction.check(data, c)
        }
    }

    /// Runs the harness on one input; a broken invariant traps, which is
    /// libFuzzer's signal that it found a bug.
    public func run(_ data: [UInt8], avoidingKnownIssues: Bool = true) {
        do { try check(data, avoidingKnownIssues: avoidingKnownIssues) } catch { fatalError(error.description) }
    }

    /// Builds the fixtures a target uses, so that one-off setup cost is not
    /// charged to the first input (call from `LLVMFuzzerInitialize` or before timing).
    public func warmUp() {
        switch self {
        case .bundle, .prekeyMessage: _ = Fixtures.bobBundles; _ = Fixtures.bobAccountRecord
        case .decrypt: _ = DecryptFixture.built
        case .interaction: _ = Interaction.firstSessions; _ = Fixtures.aliceBundle
        case .senderKeyMessage, .senderKeyDistribution, .groupRecord: _ = GroupFixture.built
        case .groupInteraction: _ = GroupInteraction.initial; _ = GroupFixture.built
        case .ratchetMessage, .sessionRecord, .accountRecord, .sessionSetRecord: break
        }
    }
}

/// One entry point per harness, as the libFuzzer mains call them.
public enum FuzzTargets {
    public static func bundle(_ data: [UInt8]) { FuzzTarget.bundle.run(data) }
    public static func preKeyMessage(_ data: [UInt8]) { FuzzTarget.prekeyMessage.run(data) }
    public static func ratchetMessage(_ data: [UInt8]) { FuzzTarget.ratchetMessage.run(data) }
    public static func sessionRecord(_ data: [UInt8]) { FuzzTarget.sessionRecord.run(data) }
    public static func accountRecord(_ data: [UInt8]) { FuzzTarget.accountRecord.run(data) }
    public static func sessionSetRecord(_ data: [UInt8]) { FuzzTarget.sessionSetRecord.run(data) }
    public static func decrypt(_ data: [UInt8]) { FuzzTarget.decrypt.run(data) }
    public static func interaction(_ data: [UInt8]) { FuzzTarget.interaction.run(data) }
    public static func senderKeyMessage(_ data: [UInt8]) { FuzzTarget.senderKeyMessage.run(data) }
    public static func senderKeyDistribution(_ data: [UInt8]) { FuzzTarget.senderKeyDistribution.run(data) }
    public static func groupRecord(_ data: [UInt8]) { FuzzTarget.groupRecord.run(data) }
    public static func groupInteraction(_ data: [UInt8]) { FuzzTarget.groupInteraction.run(data) }
}
