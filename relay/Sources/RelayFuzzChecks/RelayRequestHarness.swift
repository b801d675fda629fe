import E2EE
import RelayProtocol

// The body of the `relay_request` libFuzzer harness (fuzz/README.md): the
// fuzz package's harness calls it, and the relay's tests replay the committed
// corpus through it (RelayProtocolTests/FuzzCorpusReplayTests). Public API of
// RelayProtocol only.

/// Which parser an input of `relay_request` goes to: its first byte modulo
/// the number of kinds; the rest of the input is the body.
public enum RelayRequestKind: UInt8, CaseIterable, Sendable {
    case frame, envelope, address, keyUpload, register, tokenRequest, tokenGrant,
         sendRequest, sendResult, deviceMismatch, bundleList, keyCounts

    public init(selector: UInt8) {
        self = Self.allCases[Int(selector) % Self.allCases.count]
    }

    public var name: String { "\(self)" }
}

/// A broken invariant of a RelayProtocol parser: the harness traps on it
/// (libFuzzer's crash signal); the replay reports it by file name.
public struct RelayInvariantViolation: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { "fuzz/relay_request: invariant violated: \(message)" }
}

/// The checks, for every parser of the relay's own bytes:
///
/// - no input traps (the fuzzer's sanitizers and `-malloc_limit_mb` watch
///   for allocations beyond the input: every length is checked first);
/// - an accepted input re-serialises to exactly itself (every layout has one
///   encoding per value, below), and parses back to an equal value;
/// - every layout is prefix-free: an accepted input with one byte appended is
///   refused with `trailingBytes(count: 1)`, without its last byte with
///   `truncated`;
/// - a refusal is consistent with the input: `truncated` needs more than is
///   available, `trailingBytes(k)` counts bytes the input has, and cutting them
///   off leaves a body that is neither truncated nor too long; a length or
///   count named too large really is above its bound.
///
/// Canonical forms, per type:
/// - exact (`serialized == input`): `Frame`, `Envelope`, `RelayAddress`,
///   `KeyUpload` (X25519 keys must be canonical, ML-KEM keys pass FIPS 203's
///   modulus check so their encoding is unique, id lists keep their order and
///   repeats), `RegisterRequest` (the identity key's bytes are kept as given),
///   `TokenRequest`, `TokenGrant`, `KeyCounts`, and the lists by device
///   (`SendRequest`, `SendResult`, `DeviceMismatch`, `BundleList`), whose
///   devices must be strictly ascending and not 0.
public enum RelayRequestHarness {
    /// Runs one fuzz input; the harness's `LLVMFuzzerTestOneInput`.
    public static func runFuzzerInput(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        do { try check(input) } catch { fatalError(error.description) }
    }

    /// All checks on `input`: `u8 selector || body`. The empty input is nothing to check.
    public static func check(_ input: [UInt8]) throws(RelayInvariantViolation) {
        guard let selector = input.first else { return }
        let kind = RelayRequestKind(selector: selector)
        let body = Array(input.dropFirst())
        switch kind {
        case .frame:
            try run(kind, body, exact: true, Frame.init(serialized:), \.serialized)
            // A frame's envelope is the envelope parser's, byte for byte.
            if case .envelope(let envelope)? = try? Frame(serialized: body) {
                try require(kind, (try? Envelope(serialized: Array(body.dropFirst()))) == envelope,
                            "the envelope of an envelope frame differs from Envelope(serialized:)")
            }
        case .envelope: try run(kind, body, exact: true, Envelope.init(serialized:), \.serialized)
        case .address: try run(kind, body, exact: true, RelayAddress.init(serialized:), \.serialized)
        case .keyUpload: try run(kind, body, exact: true, KeyUpload.init(serialized:), \.serialized)
        case .register: try run(kind, body, exact: true, RegisterRequest.init(serialized:), \.serialized)
        case .tokenRequest: try run(kind, body, exact: true, TokenRequest.init(serialized:), \.serialized)
        case .tokenGrant: try run(kind, body, exact: true, TokenGrant.init(serialized:), \.serialized)
        case .sendRequest: try run(kind, body, exact: true, SendRequest.init(serialized:), \.serialized)
        case .sendResult: try run(kind, body, exact: true, SendResult.init(serialized:), \.serialized)
        case .deviceMismatch: try run(kind, body, exact: true, DeviceMismatch.init(serialized:), \.serialized)
        case .bundleList: try run(kind, body, exact: true, BundleList.init(serialized:), \.serialized)
        case .keyCounts: try run(kind, body, exact: true, KeyCounts.init(serialized:), \.serialized)
        }
    }

    private static func run<T: Equatable>(
        _ kind: RelayRequestKind, _ body: [UInt8], exact: Bool,
        _ parse: ([UInt8]) throws(RelayWireError) -> T, _ serialize: (T) -> [UInt8]
    ) throws(RelayInvariantViolation) {
        let value: T
        switch attempt(parse, body) {
        case .failure(let error):
            try checkRefusal(kind, body, error, parse)
            return
        case .success(let parsed):
            value = parsed
        }
        let bytes = serialize(value)
        if exact {
            try require(kind, bytes == body, "accepted \(body.count) bytes but re-serialises to other bytes (\(bytes.count))")
        } else {
            try require(kind, bytes.count == body.count, "re-serialises to \(bytes.count) bytes, not \(body.count)")
            guard case .success(let again) = attempt(parse, bytes) else {
                throw violation(kind, "its re-serialisation is refused")
            }
            try require(kind, again == value, "its re-serialisation parses to another value")
            try require(kind, serialize(again) == bytes, "re-serialisation is not a fixed point")
        }
        switch attempt(parse, body + [0]) {
        case .success:
            throw violation(kind, "accepted with a byte appended")
        case .failure(let error):
            try require(kind, error == .trailingBytes(count: 1), "with a byte appended: \(error), not trailingBytes(1)")
        }
        guard !body.isEmpty else { return }
        switch attempt(parse, Array(body.dropLast())) {
        case .success:
            throw violation(kind, "accepted without its last byte")
        case .failure(.truncated):
            break
        case .failure(let error):
            throw violation(kind, "without its last byte: \(error), not truncated")
        }
    }

    private static func attempt<T>(_ parse: ([UInt8]) throws(RelayWireError) -> T,
                                   _ bytes: [UInt8]) -> Result<T, RelayWireError> {
        do { return .success(try parse(bytes)) } catch { return .failure(error) }
    }

    private static func checkRefusal<T>(
        _ kind: RelayRequestKind, _ body: [UInt8], _ error: RelayWireError,
        _ parse: ([UInt8]) throws(RelayWireError) -> T
    ) throws(RelayInvariantViolation) {
        switch error {
        case .truncated(let needed, let available):
            try require(kind, needed > available && available >= 0 && available <= body.count,
                        "\(error) for \(body.count) bytes")
        case .trailingBytes(let count):
            try require(kind, count > 0 && count < body.count, "\(error) for \(body.count) bytes")
            // The reads are those of the whole input, so the rest is well-framed.
            switch attempt(parse, Array(body.dropLast(count))) {
            case .failure(let cut) where cut.isFraming:
                throw violation(kind, "\(cut) once the \(count) trailing bytes are cut")
            default:
                break
            }
        case .tooLarge(_, let size, let max):
            try require(kind, size > max, "\(error) within the bound")
        case .tooMany(_, let count, let max):
            try require(kind, count > max, "\(error) within the bound")
        case .invalidUserIDLength(let n):
            try require(kind, n < 1 || n > RelayAddress.maxUserIDBytes, "\(error) for a valid length")
        case .invalidDeviceID(let id):
            try require(kind, id == 0, "\(error) for a nonzero device")
        default:
            break
        }
    }

    private static func require(_ kind: RelayRequestKind, _ condition: Bool,
                                _ message: @autoclosure () -> String) throws(RelayInvariantViolation) {
        if !condition { throw violation(kind, message()) }
    }

    private static func violation(_ kind: RelayRequestKind, _ message: String) -> RelayInvariantViolation {
        RelayInvariantViolation(message: "\(kind.name): \(message)")
    }
}

extension RelayWireError {
    /// Whether the error is about where the input ends.
    fileprivate var isFraming: Bool {
        switch self {
        case .truncated, .trailingBytes: return true
        default: return false
        }
    }
}
