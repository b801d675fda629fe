import E2EE

/// `POST /v1/devices`: `address || identity (32) || signature (64)`, the
/// signature over ``AuthContext/register(address:identity:)``.
public struct RegisterRequest: Sendable, Equatable {
    public let address: RelayAddress
    public let identity: IdentityKey.PublicKey
    public let signature: [UInt8]

    /// Signs the statement with `identity`: what a device sends.
    public init(address: RelayAddress, signedBy identity: IdentityKey.PrivateKey) {
        self.address = address
        self.identity = identity.publicKey
        signature = identity.signature(for: AuthContext.register(address: address, identity: identity.publicKey))
    }

    public var serialized: [UInt8] {
        var out = address.serialized
        out += identity.rawRepresentation
        out += signature
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        address = try RelayAddress(from: &r)
        do {
            identity = try IdentityKey.PublicKey(rawRepresentation: r.bytes(IdentityKey.publicKeyByteCount))
        } catch let error as RelayWireError {
            throw error
        } catch {
            throw .invalidKey(field: "identity")
        }
        signature = try r.bytes(IdentityKey.signatureByteCount)
        try r.expectEnd()
    }

    /// Whether the signature proves possession of `identity`.
    public var isValid: Bool {
        AuthContext.isValid(signature: signature, of: AuthContext.register(address: address, identity: identity),
                            by: identity)
    }
}

/// `POST /v1/auth/token`: `address || nonce (32) || signature (64)`, the
/// signature over ``AuthContext/token(nonce:address:)``.
public struct TokenRequest: Sendable, Equatable {
    public let address: RelayAddress
    public let nonce: AuthNonce
    public let signature: [UInt8]

    public init(address: RelayAddress, nonce: AuthNonce, signedBy identity: IdentityKey.PrivateKey) {
        self.address = address
        self.nonce = nonce
        signature = identity.signature(for: AuthContext.token(nonce: nonce, address: address))
    }

    public var serialized: [UInt8] { address.serialized + nonce.bytes + signature }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        address = try RelayAddress(from: &r)
        nonce = try AuthNonce(bytes: r.bytes(AuthNonce.byteCount))
        signature = try r.bytes(IdentityKey.signatureByteCount)
        try r.expectEnd()
    }
}

/// The answer to a token request: `token (32) || u64 expires_ms`.
public struct TokenGrant: Sendable, Equatable {
    public static let tokenByteCount = 32
    public let token: [UInt8]
    public let expiresMilliseconds: UInt64

    public init(token: [UInt8], expiresMilliseconds: UInt64) throws(RelayWireError) {
        guard token.count == Self.tokenByteCount else { throw .invalidField("token: \(token.count) bytes") }
        self.token = token
        self.expiresMilliseconds = expiresMilliseconds
    }

    public var serialized: [UInt8] {
        var out = token
        out.appendU64(expiresMilliseconds)
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        let token = try r.bytes(Self.tokenByteCount)
        let expires = try r.u64()
        try r.expectEnd()
        try self.init(token: token, expiresMilliseconds: expires)
    }
}

/// `PUT /v1/messages/{user}`: one ciphertext per device,
/// `u16 n || n × (u32 device || u32 len || ciphertext)`, devices ascending
/// (so distinct, and every request has one encoding), none 0.
public struct SendRequest: Sendable, Equatable {
    /// Devices per user the relay accepts, and so messages per request.
    public static let maxDevices = 32
    /// The largest valid body: a server's request size limit.
    public static let maxByteCount = 2 + maxDevices * (8 + Envelope.maxMessageBytes)

    /// Ciphertexts by device id.
    public let messages: [UInt32: [UInt8]]

    public init(messages: [UInt32: [UInt8]]) throws(RelayWireError) {
        guard messages.count <= Self.maxDevices else {
            throw .tooMany(field: "devices", count: messages.count, max: Self.maxDevices)
        }
        for (device, body) in messages {
            guard device != 0 else { throw .invalidDeviceID(device) }
            guard body.count <= Envelope.maxMessageBytes else {
                throw .tooLarge(field: "len", size: body.count, max: Envelope.maxMessageBytes)
            }
        }
        self.messages = messages
    }

    /// Devices in ascending order, so equal requests are equal bytes.
    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.appendU16(UInt16(messages.count))
        for device in messages.keys.sorted() {
            let body = messages[device] ?? []
            out.appendU32(device)
            out.appendU32(UInt32(body.count))
            out += body
        }
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        let n = Int(try r.u16())
        guard n <= Self.maxDevices else { throw .tooMany(field: "devices", count: n, max: Self.maxDevices) }
        var messages = [UInt32: [UInt8]]()
        var previous: UInt32 = 0
        for _ in 0..<n {
            let device = try Self.nextDevice(&r, after: &previous)
            let count = try r.u32()
            guard count <= UInt32(Envelope.maxMessageBytes) else {
                throw .tooLarge(field: "len", size: Int(clamping: count), max: Envelope.maxMessageBytes)
            }
            messages[device] = try r.bytes(Int(count))
        }
        try r.expectEnd()
        self.messages = messages
    }
}

extension SendRequest {
    /// The next device id of an ascending list: above `previous` (so never 0).
    static func nextDevice(_ r: inout RelayReader, after previous: inout UInt32) throws(RelayWireError) -> UInt32 {
        let device = try r.u32()
        guard device != 0 else { throw .invalidDeviceID(device) }
        guard device > previous else { throw .invalidField("devices out of order: \(device) after \(previous)") }
        previous = device
        return device
    }

    /// Whether `devices` are ascending and none is 0.
    static func isAscending(_ devices: [UInt32]) -> Bool {
        var previous: UInt32 = 0
        for d in devices {
            if d <= previous { return false }
            previous = d
        }
        return true
    }
}

/// The `200` of a send: `u64 server_time_ms || u16 n || n × (u32 device || u64 server_id)`,
/// devices ascending and not 0.
public struct SendResult: Sendable, Equatable {
    public let serverTimeMilliseconds: UInt64
    public let serverIDs: [UInt32: UInt64]

    public init(serverTimeMilliseconds: UInt64, serverIDs: [UInt32: UInt64]) throws(RelayWireError) {
        guard serverIDs.count <= SendRequest.maxDevices else {
            throw .tooMany(field: "devices", count: serverIDs.count, max: SendRequest.maxDevices)
        }
        if serverIDs[0] != nil { throw .invalidDeviceID(0) }
        self.serverTimeMilliseconds = serverTimeMilliseconds
        self.serverIDs = serverIDs
    }

    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.appendU64(serverTimeMilliseconds)
        out.appendU16(UInt16(serverIDs.count))
        for device in serverIDs.keys.sorted() {
            out.appendU32(device)
            out.appendU64(serverIDs[device] ?? 0)
        }
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        let time = try r.u64()
        let n = Int(try r.u16())
        guard n <= SendRequest.maxDevices else { throw .tooMany(field: "devices", count: n, max: SendRequest.maxDevices) }
        var ids = [UInt32: UInt64]()
        var previous: UInt32 = 0
        for _ in 0..<n {
            let device = try SendRequest.nextDevice(&r, after: &previous)
            ids[device] = try r.u64()
        }
        try r.expectEnd()
        try self.init(serverTimeMilliseconds: time, serverIDs: ids)
    }
}

/// The `409` of a send whose device list is wrong (nothing was queued):
/// `u16 n || n × u32 missing || u16 m || m × u32 extra`, each strictly
/// ascending and without 0.
public struct DeviceMismatch: Sendable, Equatable {
    public let missing: [UInt32]
    public let extra: [UInt32]

    public init(missing: [UInt32], extra: [UInt32]) throws(RelayWireError) {
        guard missing.count <= SendRequest.maxDevices, extra.count <= SendRequest.maxDevices else {
            throw .tooMany(field: "devices", count: max(missing.count, extra.count), max: SendRequest.maxDevices)
        }
        self.missing = Array(Set(missing)).sorted()
        self.extra = Array(Set(extra)).sorted()
        if self.missing.first == 0 || self.extra.first == 0 { throw .invalidDeviceID(0) }
    }

    public var serialized: [UInt8] {
        var out = [UInt8]()
        for list in [missing, extra] {
            out.appendU16(UInt16(list.count))
            for id in list { out.appendU32(id) }
        }
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        var lists = [[UInt32]]()
        for _ in 0..<2 {
            let n = Int(try r.u16())
            guard n <= SendRequest.maxDevices else { throw .tooMany(field: "devices", count: n, max: SendRequest.maxDevices) }
            var list = [UInt32]()
            var previous: UInt32 = 0
            for _ in 0..<n { list.append(try SendRequest.nextDevice(&r, after: &previous)) }
            lists.append(list)
        }
        try r.expectEnd()
        try self.init(missing: lists[0], extra: lists[1])
    }
}

/// The `200` of `GET /v1/keys/{user}[/{device}]`: a bundle per device in the
/// bytes of PROTOCOL.md §1, `u16 n || n × (u32 device || u32 len || bundle)`,
/// devices ascending and not 0.
/// The client parses each with `PreKeyBundle(serialized:)`, which checks the
/// signatures: the relay is not trusted for them.
public struct BundleList: Sendable, Equatable {
    /// The longest bundle (a KEM prekey, a one-time prekey): 1,842 bytes; room is left.
    static let maxBundleBytes = 4096
    public let bundles: [(device: UInt32, bytes: [UInt8])]

    public init(bundles: [(device: UInt32, bytes: [UInt8])]) throws(RelayWireError) {
        guard bundles.count <= SendRequest.maxDevices else {
            throw .tooMany(field: "devices", count: bundles.count, max: SendRequest.maxDevices)
        }
        for b in bundles where b.bytes.count > Self.maxBundleBytes {
            throw .tooLarge(field: "bundle", size: b.bytes.count, max: Self.maxBundleBytes)
        }
        guard SendRequest.isAscending(bundles.map(\.device)) else { throw .invalidField("devices not ascending") }
        self.bundles = bundles
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.bundles.count == b.bundles.count && zip(a.bundles, b.bundles).allSatisfy { $0.device == $1.device && $0.bytes == $1.bytes }
    }

    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.appendU16(UInt16(bundles.count))
        for b in bundles {
            out.appendU32(b.device)
            out.appendU32(UInt32(b.bytes.count))
            out += b.bytes
        }
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        let n = Int(try r.u16())
        guard n <= SendRequest.maxDevices else { throw .tooMany(field: "devices", count: n, max: SendRequest.maxDevices) }
        var bundles = [(device: UInt32, bytes: [UInt8])]()
        var previous: UInt32 = 0
        for _ in 0..<n {
            let device = try SendRequest.nextDevice(&r, after: &previous)
            let count = try r.u32()
            guard count <= UInt32(Self.maxBundleBytes) else {
                throw .tooLarge(field: "bundle", size: Int(clamping: count), max: Self.maxBundleBytes)
            }
            bundles.append((device, try r.bytes(Int(count))))
        }
        try r.expectEnd()
        try self.init(bundles: bundles)
    }
}

/// The `200` of `GET /v1/keys`: `u32 one_time_prekeys || u32 one_time_kem_prekeys`.
public struct KeyCounts: Sendable, Equatable {
    public let oneTimePreKeys: UInt32
    public let oneTimeKEMPreKeys: UInt32

    public init(oneTimePreKeys: UInt32, oneTimeKEMPreKeys: UInt32) {
        self.oneTimePreKeys = oneTimePreKeys
        self.oneTimeKEMPreKeys = oneTimeKEMPreKeys
    }

    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.appendU32(oneTimePreKeys)
        out.appendU32(oneTimeKEMPreKeys)
        return out
    }

    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        oneTimePreKeys = try r.u32()
        oneTimeKEMPreKeys = try r.u32()
        try r.expectEnd()
    }
}
