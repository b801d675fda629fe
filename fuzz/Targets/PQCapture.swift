import E2EE

/// PQXDH sessions recorded once, so that the fixtures and corpora built on them
/// are the same in every run.
///
/// Everything in the fixtures is reproducible from labels except one thing:
/// `Session.initiate` encapsulates to the bundle's ML-KEM prekey with
/// swift-crypto's `encapsulate()`, which draws from the system RNG (FIPS 203's
/// deterministic `Encaps_internal` is not public, in swift-crypto or in E2EE).
/// So each PQXDH initiator session a fixture needs is made once, with the
/// randomness of its label for everything else, and its record (which holds
/// the KEM ciphertext while the session awaits a reply) is committed in
/// `PQCaptures.swift`, written by `fuzz/make_corpus.sh`. Loading that record
/// gives the same session in every run, so everything that follows is
/// reproducible again.
///
/// A committed capture is used only if it is still a session from that label
/// to that bundle (identities, prekey ids, the base key the label's
/// randomness makes, and a digest of the bundle, which covers the KEM key);
/// otherwise a fresh session is made and ``stale`` names it (the corpus test
/// fails until `make_corpus.sh` records it again).
public enum PQCapture {
    public struct Spec: Sendable {
        public let label: String
        /// The initiator.
        let identity: IdentityKey.PrivateKey
        /// A bundle with a KEM prekey.
        let bundle: PreKeyBundle
        /// The same bundle without one, for classical runs.
        let classicalBundle: PreKeyBundle
    }

    /// Alice to each of Bob's bundles with a one-time key (``Fixtures/bobBundles``
    /// 0...3, used at most once per run), four times to his last-resort bundle 4,
    /// and Bob to Alice's bundle three times: every session the fixtures and the
    /// interaction harness start.
    public static let specs: [Spec] = {
        let bob = Fixtures.bobBundles, classical = Fixtures.bobClassicalBundles
        let classicalOf = [classical[0], classical[1], classical[2], classical[3], classical[3]]
        var out = (0..<4).map { i in
            Spec(label: bobLabel(i), identity: Fixtures.alice, bundle: bob[i], classicalBundle: classicalOf[i])
        }
        out += (0..<4).map { n in
            Spec(label: bobLabel(4, n), identity: Fixtures.alice, bundle: bob[4], classicalBundle: classicalOf[4])
        }
        out += (0..<3).map { n in
            Spec(label: aliceLabel(n), identity: Fixtures.bobIdentity, bundle: Fixtures.aliceBundle,
                 classicalBundle: Fixtures.aliceClassicalBundle)
        }
        return out
    }()

    /// The label of Alice's `n`-th session to Bob's bundle `bundle` (n > 0 only for bundle 4).
    public static func bobLabel(_ bundle: Int, _ n: Int = 0) -> String {
        bundle == 4 ? "alice to bob bundle 4 #\(n)" : "alice to bob bundle \(bundle)"
    }

    /// The label of Bob's `n`-th session to Alice.
    public static func aliceLabel(_ n: Int) -> String { "bob to alice #\(n)" }

    static func spec(_ label: String) -> Spec {
        guard let s = specs.first(where: { $0.label == label }) else { fatalError("fuzz fixture: no PQCapture spec \(label)") }
        return s
    }

    /// The session of `label`, as committed (or made afresh if the capture is stale).
    public static func session(_ label: String) -> Session {
        guard let s = resolved[label] else { fatalError("fuzz fixture: no PQCapture spec \(label)") }
        return s.session
    }

    /// Labels whose committed capture is missing or no longer matches its spec.
    public static var stale: [String] {
        specs.map(\.label).filter { resolved[$0]!.fresh }
    }

    static let resolved: [String: (session: Session, fresh: Bool)] = {
        var out = [String: (session: Session, fresh: Bool)]()
        for spec in specs {
            if let s = committedSession(spec) {
                out[spec.label] = (s, false)
            } else {
                let s = try! Session.initiate(identity: spec.identity, bundle: spec.bundle, random: DeterministicRandom(seed: spec.label))
                out[spec.label] = (s, true)
            }
        }
        return out
    }()

    static func bundleDigest(_ b: PreKeyBundle) -> [UInt8] {
        try! BLAKE2b.hash(b.serialized, personal: "E2EEv1 fuzz cap", outputByteCount: 32)
    }

    static func committedSession(_ spec: Spec) -> Session? {
        guard let entry = committed[spec.label], let digest = fromHex(entry.bundle), let record = fromHex(entry.record),
              digest == bundleDigest(spec.bundle), let s = try? Session(serialized: record), s.serialized() == record
        else { return nil }
        let ephemeral = DeterministicRandom(seed: spec.label).makePrivateKey().publicKey
        let b = spec.bundle
        guard s.role == .initiator, s.awaitingReply, s.isPostQuantum, s.baseKey == ephemeral,
              s.localIdentity == spec.identity.publicKey, s.remoteIdentity == b.identityKey,
              s.signedPreKeyID == b.signedPreKeyID, s.oneTimePreKeyID == b.oneTimePreKey?.id,
              s.kemPreKeyID == b.kemPreKey?.id else { return nil }
        return s
    }

    /// The text of `PQCaptures.swift` for the sessions in use (written by make_corpus).
    public static func generatedSource() -> String {
        var out = """
        // Generated by fuzz/make_corpus.sh (Tools/make_corpus): do not edit.
        // The PQXDH initiator sessions of PQCapture.specs, recorded once because
        // ML-KEM encapsulation draws from the system RNG (see PQCapture.swift):
        // label: (BLAKE2b of the bundle, session record).

        extension PQCapture {
            static let committed: [String: (bundle: String, record: String)] = [

        """
        for spec in specs {
            let record = resolved[spec.label]!.session.serialized().hex
            var lines = [String]()
            var i = record.startIndex
            while i < record.endIndex {
                let j = record.index(i, offsetBy: 128, limitedBy: record.endIndex) ?? record.endIndex
                lines.append("            " + record[i..<j])
                i = j
            }
            out += "        \"\(spec.label)\": (\n"
            out += "            bundle: \"\(bundleDigest(spec.bundle).hex)\",\n"
            out += "            record: \"\"\"\n\(lines.joined(separator: "\n"))\n            \"\"\"),\n"
        }
        out += "    ]\n}\n"
        return out
    }

    /// Bytes of lowercase or uppercase hex, whitespace ignored; nil if malformed.
    static func fromHex(_ s: String) -> [UInt8]? {
        var out = [UInt8]()
        var high: UInt8?
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: "\n"): continue
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return high == nil ? out : nil
    }
}
