import E2EE
import ToolSupport

/// `e2ee inspect`: what a bundle, wire message, group (sender-key) message,
/// sender-key distribution or group update says, as JSON. Only public fields are printed;
/// ciphertext is summarised by its length, and a distribution's chain key is
/// never shown.
enum Inspect {
    static func run(input: Input) throws(CLIError) {
        let bytes = try input.read()
        IO.printOut(try parse(bytes).rendered())
    }

    /// A bundle if the bytes parse as one and its signatures verify (a bundle
    /// with a one-time prekey also parses as a RatchetMessage); otherwise the
    /// message of any kind that `WireMessage` parses.
    static func parse(_ bytes: [UInt8]) throws(CLIError) -> JSON {
        if let bundle = try? PreKeyBundle(serialized: bytes), bundle.verifySignatures() {
            return json(bundle)
        }
        do {
            return json(try WireMessage(serialized: bytes))
        } catch {
            throw .failed(describe(error))
        }
    }

    static func json(_ m: SenderKeyMessage) -> JSON {
        .object([
            "kind": .string("sender_key"),
            "version": .number(Int(WireMessage.version)),
            "group_id": .string(GroupID.text(m.distributionID)),
            "chain_id": .number(Int(m.chainID)),
            "iteration": .number(Int(m.iteration)),
            "ciphertext_length": .number(m.sealed.count),
        ])
    }

    /// Never the chain key: whoever holds it reads the sender's messages.
    static func json(_ d: SenderKeyDistribution) -> JSON {
        .object([
            "kind": .string("sender_key_distribution"),
            "version": .number(Int(WireMessage.version)),
            "group_id": .string(GroupID.text(d.distributionID)),
            "chain_id": .number(Int(d.chainID)),
            "iteration": .number(Int(d.iteration)),
            "signing_key": .hex(d.signingKey.rawRepresentation),
        ])
    }

    static func json(_ u: GroupUpdate) -> JSON {
        .object([
            "kind": .string("group_update"),
            "version": .number(Int(WireMessage.version)),
            "group_id": .string(GroupID.text(u.distributionID)),
            "revision": .number(Int(u.revision)),
            "members": .array(u.members.map { m in
                .object(["address": .string(m.address.description), "identity_key": .hex(m.identityKey.rawRepresentation),
                         "admin": .bool(m.isAdmin)])
            }),
        ])
    }

    static func json(_ b: PreKeyBundle) -> JSON {
        .object([
            "kind": .string("bundle"),
            "identity_key": .hex(b.identityKey.rawRepresentation),
            "signed_prekey_id": .number(Int(b.signedPreKeyID.rawValue)),
            "signed_prekey": .hex(b.signedPreKey.rawRepresentation),
            "signed_prekey_signature": .hex(b.signedPreKeySignature),
            "one_time_prekey_id": b.oneTimePreKey.map { .number(Int($0.id.rawValue)) } ?? .null,
            "one_time_prekey": b.oneTimePreKey.map { .hex($0.publicKey.rawRepresentation) } ?? .null,
            "post_quantum": .bool(b.kemPreKey != nil),
            "kem_prekey_id": b.kemPreKey.map { .number(Int($0.id.rawValue)) } ?? .null,
            "kem_public_key_length": b.kemPreKey.map { .number($0.publicKey.rawRepresentation.count) } ?? .null,
            "kem_signature": b.kemPreKey.map { .hex($0.signature) } ?? .null,
            "size": .number(b.serialized.count),
        ])
    }

    static func json(_ m: WireMessage) -> JSON {
        var fields: [String: JSON] = ["version": .number(Int(WireMessage.version))]
        let payload: RatchetPayload
        switch m {
        case .senderKey(let s): return json(s)
        case .senderKeyDistribution(let d): return json(d)
        case .groupUpdate(let u): return json(u)
        case .ratchet(let r):
            fields["kind"] = .string("ratchet")
            payload = r.payload
        case .preKey(let p):
            fields["kind"] = .string(p.isPostQuantum ? "pq_prekey" : "prekey")
            if let kem = p.kem {
                fields["kem_prekey_id"] = .number(Int(kem.id.rawValue))
                fields["kem_ciphertext_length"] = .number(kem.ciphertext.count)
            }
            fields["identity_key"] = .hex(p.identityKey.rawRepresentation)
            fields["base_key"] = .hex(p.baseKey.rawRepresentation)
            fields["signed_prekey_id"] = .number(Int(p.signedPreKeyID.rawValue))
            fields["one_time_prekey_id"] = p.oneTimePreKeyID.map { .number(Int($0.rawValue)) } ?? .null
            payload = p.payload
        }
        fields["header"] = .object([
            "ratchet_key": .hex(payload.header.ratchetKey.rawRepresentation),
            "previous_counter": .number(Int(payload.header.previousCounter)),
            "counter": .number(Int(payload.header.counter)),
        ])
        fields["ciphertext_length"] = .number(payload.sealed.count)
        fields["size"] = .number(m.serialized.count)
        return .object(fields)
    }
}
