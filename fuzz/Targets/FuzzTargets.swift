import E2EE
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Swift fuzz targets. Each has a directory `fuzz/<rawValue>/` holding its
/// seed corpus (`corpus/`) and any crash reproducers (`regressions/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case bundle
    case prekeyMessage = "prekey_message"
    case pqPreKeyMessage = "pq_prekey_message"
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
    case groupUpdate = "group_update"

    /// Runs the harness on one input; a broken invariant is thrown. With
    /// `avoidingKnownIssues` (the default, as the fuzzers run) the harness
    /// lets the exact symptoms of the open ``KnownIssue``s pass; replaying
    /// their reproducers needs `false`.
    public func check(_ data: [UInt8], avoidingKnownIssues: Bool = true) throws(InvariantViolation) {
        let c = Checker(target: rawValue, avoidKnownIssues: avoidingKnownIssues)
        switch self {
        case .bundle: try ParserChecks.bundle(data, c)
        case .prekeyMessage, .pqPreKeyMessage: try ParserChecks.preKeyMessage(data, c)
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
        case .groupUpdate: try GroupChecks.groupUpdate(data, c)
        }
    }

    /// Runs the harness on one input; a broken invariant traps, which is
    /// libFuzzer's signal that it found a bug.
    public func run(_ data: [UInt8], avoidingKnownIssues: Bool = true) {
        do { try check(data, avoidingKnownIssues: avoidingKnownIssues) } catch { fatalError(error.description) }
    }

    /// `E2EE_FUZZ_STRICT=1` in the environment turns off the allowance for open
    /// ``KnownIssue``s (to check a fix); read once.
    static let strict = getenv("E2EE_FUZZ_STRICT").map { String(cString: $0) == "1" } ?? false

    /// What a harness's `LLVMFuzzerTestOneInput` does with libFuzzer's buffer.
    public func runFuzzerInput(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [], avoidingKnownIssues: !Self.strict)
    }

    /// Builds the fixtures a target uses, so that one-off setup cost is not
    /// charged to the first input (call from `LLVMFuzzerInitialize` or before timing).
    public func warmUp() {
        switch self {
        case .bundle, .prekeyMessage, .pqPreKeyMessage:
            _ = Fixtures.bobBundles; _ = Fixtures.bobAccountRecord; _ = Fixtures.bobKEMPublicKeys
        case .decrypt: _ = DecryptFixture.built
        case .interaction: _ = Interaction.firstSessions; _ = PQCapture.specs.map { PQCapture.session($0.label) }
        case .senderKeyMessage, .senderKeyDistribution, .groupRecord, .groupUpdate: _ = GroupFixture.built
        case .groupInteraction: _ = GroupInteraction.initial; _ = GroupFixture.built
        case .ratchetMessage, .sessionRecord, .accountRecord, .sessionSetRecord: break
        }
    }
}
