import Testing
@testable import E2EE

// One example per case of every public error type, with the code it must
// render as. The codes are what `String(describing:)` printed before the types
// had descriptions (type prefixes stripped as the CLI's `describe` did); the
// CLI's shell suites and users' scripts match on them, so they must not move.
//
// Swift cannot enumerate the cases of an enum with payloads, so each type has
// a payload-free mirror of its cases (`…Case`, CaseIterable) and two switches
// without `default`: `key` (error → case) and `example` (case → error). A case
// added to an error type stops `key` compiling until it names a new mirror
// case, which stops `example` compiling until it has an example; the test
// then checks `key(example(k)) == k` for every mirror case.

private let erin = ProtocolAddress(userID: "erin", deviceID: 1)
private let bob = ProtocolAddress(userID: "bob", deviceID: 1)
/// Leading zero bytes on purpose: DistributionID's description drops them.
private let groupID = DistributionID(unchecked: [0x00, 0x01, 0x0a, 0xff] + Array(repeating: 0x42, count: 12))
private let groupIDText = "01aff" + String(repeating: "42", count: 12)

enum MessagingCase: CaseIterable {
    case noAccount, noSession, sessionExpired, untrustedIdentity, setup, decrypt, encrypt, storage
    case unknownGroup, notAMember, group, reservedPlaintext, rejectedByPolicy

    static func key(_ e: MessagingError) -> Self {
        switch e {
        case .noAccount: .noAccount
        case .noSession: .noSession
        case .sessionExpired: .sessionExpired
        case .untrustedIdentity: .untrustedIdentity
        case .setup: .setup
        case .decrypt: .decrypt
        case .encrypt: .encrypt
        case .storage: .storage
        case .unknownGroup: .unknownGroup
        case .notAMember: .notAMember
        case .group: .group
        case .reservedPlaintext: .reservedPlaintext
        case .rejectedByPolicy: .rejectedByPolicy
        }
    }

    var example: (MessagingError, String) {
        switch self {
        case .noAccount: (.noAccount, "noAccount")
        case .noSession: (.noSession(erin), "noSession(erin.1)")
        case .sessionExpired: (.sessionExpired(erin), "sessionExpired(erin.1)")
        case .untrustedIdentity: (.untrustedIdentity(erin), "untrustedIdentity(erin.1)")
        case .setup: (.setup(.firstMessageRejected(.authenticationFailure)), "setup(firstMessageRejected(authenticationFailure))")
        case .decrypt: (.decrypt(.duplicate(index: 0)), "decrypt(duplicate(index: 0))")
        case .encrypt: (.encrypt(.plaintextTooLarge(size: 300_000, max: 262_144)), "encrypt(plaintextTooLarge(size: 300000, max: 262144))")
        case .storage: (.storage(.sealedRecordRejected(kind: "keycheck")), "storage(sealedRecordRejected(kind: \"keycheck\"))")
        case .unknownGroup: (.unknownGroup(groupID), "unknownGroup(\(groupIDText))")
        case .notAMember: (.notAMember(erin), "notAMember(erin.1)")
        case .group: (.group(.notAnAdmin(bob)), "group(notAnAdmin(bob.1))")
        case .reservedPlaintext: (.reservedPlaintext, "reservedPlaintext")
        case .rejectedByPolicy: (.rejectedByPolicy(reason: "contains a link"), "rejectedByPolicy(reason: \"contains a link\")")
        }
    }
}

enum RecordCase: CaseIterable {
    case badMagic, unsupportedVersion, wrongKind, truncated, trailingBytes, malformed

    static func key(_ e: RecordError) -> Self {
        switch e {
        case .badMagic: .badMagic
        case .unsupportedVersion: .unsupportedVersion
        case .wrongKind: .wrongKind
        case .truncated: .truncated
        case .trailingBytes: .trailingBytes
        case .malformed: .malformed
        }
    }

    var example: (RecordError, String) {
        switch self {
        case .badMagic: (.badMagic, "badMagic")
        case .unsupportedVersion: (.unsupportedVersion(2), "unsupportedVersion(2)")
        case .wrongKind: (.wrongKind(expected: 1, got: 3), "wrongKind(expected: 1, got: 3)")
        case .truncated: (.truncated, "truncated")
        case .trailingBytes: (.trailingBytes(count: 4), "trailingBytes(count: 4)")
        case .malformed: (.malformed("sender user id"), "malformed(\"sender user id\")")
        }
    }
}

enum StorageCase: CaseIterable {
    case sealedRecordRejected, corruptRecord, backend

    static func key(_ e: StorageError) -> Self {
        switch e {
        case .sealedRecordRejected: .sealedRecordRejected
        case .corruptRecord: .corruptRecord
        case .backend: .backend
        }
    }

    var example: (StorageError, String) {
        switch self {
        case .sealedRecordRejected: (.sealedRecordRejected(kind: "keycheck"), "sealedRecordRejected(kind: \"keycheck\")")
        case .corruptRecord: (.corruptRecord(kind: "session", .malformed("chain key")), "corruptRecord(kind: \"session\", malformed(\"chain key\"))")
        case .backend: (.backend("disk I/O error"), "backend(\"disk I/O error\")")
        }
    }
}

enum ReceiveCase: CaseIterable {
    case setup, decrypt

    static func key(_ e: ReceiveError) -> Self {
        switch e {
        case .setup: .setup
        case .decrypt: .decrypt
        }
    }

    var example: (ReceiveError, String) {
        switch self {
        case .setup: (.setup(.unknownOneTimePreKey(PreKeyID(rawValue: 7))), "setup(unknownOneTimePreKey(opk#7))")
        case .decrypt: (.decrypt(.tooFarAhead(got: 3000, max: 1000)), "decrypt(tooFarAhead(got: 3000, max: 1000))")
        }
    }
}

enum GroupCase: CaseIterable {
    case malformed, wrongGroup, noSenderKey, invalidSignature, duplicate, tooFarAhead, authenticationFailure
    case chainExhausted, notAMember, notAnAdmin, staleRevision, chainClaimed, notInGroup, invalidRoster

    static func key(_ e: GroupError) -> Self {
        switch e {
        case .malformed: .malformed
        case .wrongGroup: .wrongGroup
        case .noSenderKey: .noSenderKey
        case .invalidSignature: .invalidSignature
        case .duplicate: .duplicate
        case .tooFarAhead: .tooFarAhead
        case .authenticationFailure: .authenticationFailure
        case .chainExhausted: .chainExhausted
        case .notAMember: .notAMember
        case .notAnAdmin: .notAnAdmin
        case .staleRevision: .staleRevision
        case .chainClaimed: .chainClaimed
        case .notInGroup: .notInGroup
        case .invalidRoster: .invalidRoster
        }
    }

    var example: (GroupError, String) {
        switch self {
        case .malformed: (.malformed(.truncated(needed: 40, available: 8)), "malformed(truncated(needed: 40, available: 8))")
        case .wrongGroup: (.wrongGroup(groupID), "wrongGroup(\(groupIDText))")
        case .noSenderKey: (.noSenderKey(erin, chainID: 3), "noSenderKey(erin.1, chainID: 3)")
        case .invalidSignature: (.invalidSignature, "invalidSignature")
        case .duplicate: (.duplicate(iteration: 5), "duplicate(iteration: 5)")
        case .tooFarAhead: (.tooFarAhead(got: 30_000, max: 25_000), "tooFarAhead(got: 30000, max: 25000)")
        case .authenticationFailure: (.authenticationFailure, "authenticationFailure")
        case .chainExhausted: (.chainExhausted, "chainExhausted")
        case .notAMember: (.notAMember(erin), "notAMember(erin.1)")
        case .notAnAdmin: (.notAnAdmin(bob), "notAnAdmin(bob.1)")
        case .staleRevision: (.staleRevision(got: 2, current: 3), "staleRevision(got: 2, current: 3)")
        case .chainClaimed: (.chainClaimed(chainID: 9), "chainClaimed(chainID: 9)")
        case .notInGroup: (.notInGroup, "notInGroup")
        case .invalidRoster: (.invalidRoster("the last admin cannot leave"), "invalidRoster(\"the last admin cannot leave\")")
        }
    }
}

enum SessionSetupCase: CaseIterable {
    case invalidBundle, invalidSignature, weakKey, unknownSignedPreKey, unknownOneTimePreKey, firstMessageRejected
    case notAPreKeyMessage, baseKeyAlreadyAccepted, postQuantumRequired, unknownKEMPreKey

    static func key(_ e: SessionSetupError) -> Self {
        switch e {
        case .invalidBundle: .invalidBundle
        case .invalidSignature: .invalidSignature
        case .weakKey: .weakKey
        case .unknownSignedPreKey: .unknownSignedPreKey
        case .unknownOneTimePreKey: .unknownOneTimePreKey
        case .firstMessageRejected: .firstMessageRejected
        case .notAPreKeyMessage: .notAPreKeyMessage
        case .baseKeyAlreadyAccepted: .baseKeyAlreadyAccepted
        case .postQuantumRequired: .postQuantumRequired
        case .unknownKEMPreKey: .unknownKEMPreKey
        }
    }

    var example: (SessionSetupError, String) {
        switch self {
        case .invalidBundle: (.invalidBundle(.unknownVersion(9)), "invalidBundle(unknownVersion(9))")
        case .invalidSignature: (.invalidSignature, "invalidSignature")
        case .weakKey: (.weakKey, "weakKey")
        case .unknownSignedPreKey: (.unknownSignedPreKey(SignedPreKeyID(rawValue: 2)), "unknownSignedPreKey(spk#2)")
        case .unknownOneTimePreKey: (.unknownOneTimePreKey(PreKeyID(rawValue: 7)), "unknownOneTimePreKey(opk#7)")
        case .firstMessageRejected: (.firstMessageRejected(.authenticationFailure), "firstMessageRejected(authenticationFailure)")
        case .notAPreKeyMessage: (.notAPreKeyMessage, "notAPreKeyMessage")
        case .baseKeyAlreadyAccepted: (.baseKeyAlreadyAccepted, "baseKeyAlreadyAccepted")
        case .postQuantumRequired: (.postQuantumRequired, "postQuantumRequired")
        case .unknownKEMPreKey: (.unknownKEMPreKey(KEMPreKeyID(rawValue: 4)), "unknownKEMPreKey(kem#4)")
        }
    }
}

enum CryptoCase: CaseIterable {
    case invalidLength, invalidPublicKey, weakSharedSecret, invalidSignature, authenticationFailure
    case invalidParameter, initializationFailure

    static func key(_ e: CryptoError) -> Self {
        switch e {
        case .invalidLength: .invalidLength
        case .invalidPublicKey: .invalidPublicKey
        case .weakSharedSecret: .weakSharedSecret
        case .invalidSignature: .invalidSignature
        case .authenticationFailure: .authenticationFailure
        case .invalidParameter: .invalidParameter
        case .initializationFailure: .initializationFailure
        }
    }

    var example: (CryptoError, String) {
        switch self {
        case .invalidLength: (.invalidLength(expected: 32, got: 31), "invalidLength(expected: 32, got: 31)")
        case .invalidPublicKey: (.invalidPublicKey, "invalidPublicKey")
        case .weakSharedSecret: (.weakSharedSecret, "weakSharedSecret")
        case .invalidSignature: (.invalidSignature, "invalidSignature")
        case .authenticationFailure: (.authenticationFailure, "authenticationFailure")
        case .invalidParameter: (.invalidParameter("HKDF length"), "invalidParameter(\"HKDF length\")")
        case .initializationFailure: (.initializationFailure, "initializationFailure")
        }
    }
}

enum WireCase: CaseIterable {
    case truncated, unknownVersion, unknownType, trailingBytes, invalidKey, invalidFlags, tooLarge
    case unexpectedType, invalidField

    static func key(_ e: WireError) -> Self {
        switch e {
        case .truncated: .truncated
        case .unknownVersion: .unknownVersion
        case .unknownType: .unknownType
        case .trailingBytes: .trailingBytes
        case .invalidKey: .invalidKey
        case .invalidFlags: .invalidFlags
        case .tooLarge: .tooLarge
        case .unexpectedType: .unexpectedType
        case .invalidField: .invalidField
        }
    }

    var example: (WireError, String) {
        switch self {
        case .truncated: (.truncated(needed: 40, available: 8), "truncated(needed: 40, available: 8)")
        case .unknownVersion: (.unknownVersion(9), "unknownVersion(9)")
        case .unknownType: (.unknownType(7), "unknownType(7)")
        case .trailingBytes: (.trailingBytes(count: 1), "trailingBytes(count: 1)")
        case .invalidKey: (.invalidKey(field: "ratchet key"), "invalidKey(field: \"ratchet key\")")
        case .invalidFlags: (.invalidFlags(0x80), "invalidFlags(128)")
        case .tooLarge: (.tooLarge(size: 300_000, max: 262_144), "tooLarge(size: 300000, max: 262144)")
        case .unexpectedType: (.unexpectedType(3), "unexpectedType(3)")
        case .invalidField: (.invalidField("sender user id"), "invalidField(\"sender user id\")")
        }
    }
}

enum DecryptCase: CaseIterable {
    case malformed, authenticationFailure, duplicate, tooFarAhead, setupMismatch, noSession, invalidState

    static func key(_ e: DecryptError) -> Self {
        switch e {
        case .malformed: .malformed
        case .authenticationFailure: .authenticationFailure
        case .duplicate: .duplicate
        case .tooFarAhead: .tooFarAhead
        case .setupMismatch: .setupMismatch
        case .noSession: .noSession
        case .invalidState: .invalidState
        }
    }

    var example: (DecryptError, String) {
        switch self {
        case .malformed: (.malformed(.unknownType(7)), "malformed(unknownType(7))")
        case .authenticationFailure: (.authenticationFailure, "authenticationFailure")
        case .duplicate: (.duplicate(index: 0), "duplicate(index: 0)")
        case .tooFarAhead: (.tooFarAhead(got: 3000, max: 1000), "tooFarAhead(got: 3000, max: 1000)")
        case .setupMismatch: (.setupMismatch, "setupMismatch")
        case .noSession: (.noSession, "noSession")
        case .invalidState: (.invalidState("no receiving chain"), "invalidState(\"no receiving chain\")")
        }
    }
}

enum EncryptCase: CaseIterable {
    case plaintextTooLarge, counterExhausted, noSendingChain, invalidReuseGuard, invalidRatchetKey

    static func key(_ e: EncryptError) -> Self {
        switch e {
        case .plaintextTooLarge: .plaintextTooLarge
        case .counterExhausted: .counterExhausted
        case .noSendingChain: .noSendingChain
        case .invalidReuseGuard: .invalidReuseGuard
        case .invalidRatchetKey: .invalidRatchetKey
        }
    }

    var example: (EncryptError, String) {
        switch self {
        case .plaintextTooLarge: (.plaintextTooLarge(size: 300_000, max: 262_144), "plaintextTooLarge(size: 300000, max: 262144)")
        case .counterExhausted: (.counterExhausted, "counterExhausted")
        case .noSendingChain: (.noSendingChain, "noSendingChain")
        case .invalidReuseGuard: (.invalidReuseGuard, "invalidReuseGuard")
        case .invalidRatchetKey: (.invalidRatchetKey, "invalidRatchetKey")
        }
    }
}

/// Errors nested two and three deep, each with the code it had before.
private let nested: [(any Error, String)] = [
    (MessagingError.decrypt(.malformed(.truncated(needed: 40, available: 8))), "decrypt(malformed(truncated(needed: 40, available: 8)))"),
    (MessagingError.setup(.firstMessageRejected(.malformed(.invalidKey(field: "base key")))),
     "setup(firstMessageRejected(malformed(invalidKey(field: \"base key\"))))"),
    (MessagingError.storage(.corruptRecord(kind: "account", .wrongKind(expected: 2, got: 1))),
     "storage(corruptRecord(kind: \"account\", wrongKind(expected: 2, got: 1)))"),
    (MessagingError.group(.malformed(.invalidField("member \"x\""))), "group(malformed(invalidField(\"member \\\"x\\\"\")))"),
    (ReceiveError.setup(.invalidBundle(.invalidFlags(3))), "setup(invalidBundle(invalidFlags(3)))"),
    (GroupError.noSenderKey(ProtocolAddress(userID: "a b", deviceID: 4_294_967_295), chainID: 0), "noSenderKey(a b.4294967295, chainID: 0)"),
]

/// One type's examples, checked together.
private struct Catalog {
    let type: String
    /// (code, description) of one example per case, and of the case each example is.
    let rows: [(code: String, description: String, expected: String)]
    /// Whether `key(example(k)) == k` for every mirror case.
    let roundTrips: Bool

    init<K: CaseIterable & Equatable, E: Error & CustomStringConvertible>(
        _ type: String, _: K.Type, key: (E) -> K, example: (K) -> (E, String), code: (E) -> String
    ) {
        self.type = type
        rows = K.allCases.map { k in
            let (e, expected) = example(k)
            return (code(e), e.description, expected)
        }
        roundTrips = K.allCases.allSatisfy { key(example($0).0) == $0 }
    }
}

private let catalogs: [Catalog] = [
    Catalog("MessagingError", MessagingCase.self, key: MessagingCase.key, example: \.example, code: \.code),
    Catalog("RecordError", RecordCase.self, key: RecordCase.key, example: \.example, code: \.code),
    Catalog("StorageError", StorageCase.self, key: StorageCase.key, example: \.example, code: \.code),
    Catalog("ReceiveError", ReceiveCase.self, key: ReceiveCase.key, example: \.example, code: \.code),
    Catalog("GroupError", GroupCase.self, key: GroupCase.key, example: \.example, code: \.code),
    Catalog("SessionSetupError", SessionSetupCase.self, key: SessionSetupCase.key, example: \.example, code: \.code),
    Catalog("CryptoError", CryptoCase.self, key: CryptoCase.key, example: \.example, code: \.code),
    Catalog("WireError", WireCase.self, key: WireCase.key, example: \.example, code: \.code),
    Catalog("DecryptError", DecryptCase.self, key: DecryptCase.key, example: \.example, code: \.code),
    Catalog("EncryptError", EncryptCase.self, key: EncryptCase.key, example: \.example, code: \.code),
]

/// The explanation part of a description (after the code and ": ").
private func explanation(_ description: String, code: String) -> Substring? {
    guard description.hasPrefix(code + ": ") else { return nil }
    return description.dropFirst(code.count + 2)
}

@Suite("Error descriptions")
struct ErrorDescriptionTests {
    @Test(arguments: catalogs.map(\.type))
    func everyCaseHasAnExample(type: String) throws {
        let catalog = try #require(catalogs.first { $0.type == type })
        let roundTrips = catalog.roundTrips
        #expect(roundTrips, "\(type): an example is not of the case it stands for")
    }

    @Test(arguments: catalogs.map(\.type))
    func codesAreTheOldDefaultRendering(type: String) throws {
        let catalog = try #require(catalogs.first { $0.type == type })
        for row in catalog.rows { #expect(row.code == row.expected, "\(type)") }
    }

    @Test func nestedCodesAreTheOldDefaultRendering() throws {
        for (error, expected) in nested {
            let code = try #require((error as? any ExplainedError)?.code)
            #expect(code == expected)
        }
    }

    @Test(arguments: catalogs.map(\.type))
    func descriptionsAreOneActionableLine(type: String) throws {
        let catalog = try #require(catalogs.first { $0.type == type })
        var seen: [Substring: String] = [:]
        for row in catalog.rows {
            let oneLine = !row.description.contains { $0.isNewline }
            #expect(oneLine, "\(row.code)")
            let text = try #require(explanation(row.description, code: row.code), "\(row.description)")
            #expect(text.count > 20, "\(row.code): \(text)")
            #expect(text.first?.isLowercase == true, "\(row.code): starts like a sentence continued after the code")
            if let other = seen.updateValue(row.code, forKey: text) {
                Issue.record("\(type): \(other) and \(row.code) share an explanation")
            }
        }
    }

    /// A wrapper reads as its own code, then the explanation of what it wraps.
    @Test func wrappersExplainWhatTheyWrap() {
        let inner = DecryptError.duplicate(index: 0)
        let outer = MessagingError.decrypt(inner)
        #expect(outer.description == "decrypt(duplicate(index: 0)): " + inner.explanation)
        #expect(ReceiveError.decrypt(inner).description == "decrypt(duplicate(index: 0)): " + inner.explanation)
        let wire = WireError.truncated(needed: 40, available: 8)
        #expect(GroupError.malformed(wire).description == "malformed(truncated(needed: 40, available: 8)): " + wire.explanation)
        #expect(MessagingError.group(.notAnAdmin(bob)).description.hasPrefix("group(notAnAdmin(bob.1)): the roster change"))
    }

    /// `String(describing:)` and interpolation give the description, which the CLI prints.
    @Test func interpolationGivesTheDescription() {
        let e = MessagingError.storage(.sealedRecordRejected(kind: "keycheck"))
        #expect("\(e)" == e.description)
        #expect(String(describing: e).hasPrefix("storage(sealedRecordRejected(kind: \"keycheck\")): "))
        #expect(String(describing: e).contains("storage key"))
    }
}
