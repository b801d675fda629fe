import E2EE

/// The type byte of a WebSocket frame.
public enum FrameType: UInt8, Sendable {
    case challenge = 1
    case auth = 2
    case envelope = 3
    case ack = 4
    case replaced = 5
    case error = 6
    case ready = 7
    case send = 8
    case sendResult = 9
}

/// A binary WebSocket frame of `/v1/ws`, `u8 type || body` (docs/RELAY.md):
///
/// | type | direction | body |
/// |---|---|---|
/// | 1 `challenge` | server → client | 32 random bytes |
/// | 2 `auth` | client → server | `address || signature (64)` over ``AuthContext/webSocket(challenge:address:)`` |
/// | 3 `envelope` | server → client | an ``Envelope``'s bytes |
/// | 4 `ack` | client → server | `u64 server_id` |
/// | 5 `replaced` | server → client | empty: another connection of the device took over |
/// | 6 `error` | server → client | `u16 code || u16 len || reason (UTF-8, ≤ 1 KiB)` |
/// | 7 `ready` | server → client | empty: `auth` was accepted, the queue follows |
/// | 8 `send` | client → server | `u32 request_id || u8 len || user || ` a ``SendRequest``'s bytes |
/// | 9 `sendResult` | server → client | `u32 request_id || u16 status || u16 len || body` (a ``SendResult`` for 200, a ``DeviceMismatch`` for 409, else a UTF-8 reason) |
///
/// `send` is `PUT /v1/messages/{user}` over the open connection (the same
/// rules and answers), so a device that is connected sends without a request
/// per message. A frame is at most ``maxByteCount`` bytes; a larger fan-out
/// goes over HTTP.
///
/// Every body must end where its frame ends.
public enum Frame: Sendable, Equatable {
    /// The longest `error` reason in UTF-8 bytes.
    public static let maxReasonBytes = 1024
    /// The longest frame either side accepts: an envelope with the largest
    /// message fits, and so does a `send` of 1 MiB.
    public static let maxByteCount = 1024 * 1024 + 1024
    /// The longest `sendResult` body.
    public static let maxResultBodyBytes = 4096

    case challenge(AuthNonce)
    /// `signature` must be ``IdentityKey/signatureByteCount`` bytes (what
    /// `IdentityKey.PrivateKey.signature(for:)` makes); parsed ones always are.
    case auth(address: RelayAddress, signature: [UInt8])
    case envelope(Envelope)
    case ack(serverID: UInt64)
    case replaced
    /// A reason longer than ``maxReasonBytes`` is cut at a character boundary
    /// when written: it is for people and logs, not for programs.
    case error(code: UInt16, reason: String)
    /// The device is authenticated and is now the device's one consumer.
    case ready
    /// Messages for `user`'s devices; answered by a `sendResult` with the same id.
    case send(requestID: UInt32, user: String, request: SendRequest)
    /// The answer to `send`: an HTTP status and its body.
    case sendResult(requestID: UInt32, status: UInt16, body: [UInt8])

    /// The frame's type byte.
    public var type: FrameType {
        switch self {
        case .challenge: return .challenge
        case .auth: return .auth
        case .envelope: return .envelope
        case .ack: return .ack
        case .replaced: return .replaced
        case .error: return .error
        case .ready: return .ready
        case .send: return .send
        case .sendResult: return .sendResult
        }
    }

    /// The frame's bytes. Traps on an `auth` signature that is not 64 bytes:
    /// no Ed25519 signing makes one, so that is a programming error.
    public var serialized: [UInt8] {
        var out = [type.rawValue]
        switch self {
        case .challenge(let nonce):
            out += nonce.bytes
        case .auth(let address, let signature):
            precondition(signature.count == IdentityKey.signatureByteCount, "an Ed25519 signature is 64 bytes")
            address.write(into: &out)
            out += signature
        case .envelope(let envelope):
            envelope.write(into: &out)
        case .ack(let serverID):
            out.appendU64(serverID)
        case .replaced, .ready:
            break
        case .send(let id, let user, let request):
            // A user id that breaks the rules is a programming error, like a short signature.
            precondition((try? RelayAddress.checkUserID(user)) != nil, "a relay user id")
            out.appendU32(id)
            out.append(UInt8(user.utf8.count))
            out += user.utf8
            out += request.serialized
        case .sendResult(let id, let status, let body):
            precondition(body.count <= Self.maxResultBodyBytes, "a result body is at most 4 KiB")
            out.appendU32(id)
            out.appendU16(status)
            out.appendU16(UInt16(body.count))   // ≤ 4 KiB
            out += body
        case .error(let code, let reason):
            let text = Self.cut(reason)
            out.appendU16(code)
            out.appendU16(UInt16(text.count))   // ≤ 1024
            out += text
        }
        return out
    }

    /// Parses untrusted bytes: an unknown type byte is
    /// ``RelayWireError/unknownFrameType(_:)``; nothing is allocated beyond the input.
    public init(serialized bytes: [UInt8]) throws(RelayWireError) {
        var r = RelayReader(bytes)
        let byte = try r.u8()
        guard let type = FrameType(rawValue: byte) else { throw .unknownFrameType(byte) }
        switch type {
        case .challenge:
            self = .challenge(try AuthNonce(bytes: r.bytes(AuthNonce.byteCount)))
        case .auth:
            let address = try RelayAddress(from: &r)
            self = .auth(address: address, signature: try r.bytes(IdentityKey.signatureByteCount))
        case .envelope:
            // Reads to the end itself.
            self = .envelope(try Envelope(from: &r))
        case .ack:
            self = .ack(serverID: try r.u64())
        case .replaced:
            self = .replaced
        case .ready:
            self = .ready
        case .send:
            let id = try r.u32()
            let count = Int(try r.u8())
            guard count >= 1, count <= RelayAddress.maxUserIDBytes else { throw .invalidUserIDLength(count) }
            let user = String(decoding: try r.bytes(count), as: UTF8.self)
            try RelayAddress.checkUserID(user)
            // The request reads to the end of the frame.
            self = .send(requestID: id, user: user, request: try SendRequest(serialized: r.rest()))
        case .sendResult:
            let id = try r.u32()
            let status = try r.u16()
            let count = Int(try r.u16())
            guard count <= Self.maxResultBodyBytes else {
                throw .tooLarge(field: "result", size: count, max: Self.maxResultBodyBytes)
            }
            self = .sendResult(requestID: id, status: status, body: try r.bytes(count))
        case .error:
            let code = try r.u16()
            let count = Int(try r.u16())
            guard count <= Self.maxReasonBytes else {
                throw .tooLarge(field: "reason", size: count, max: Self.maxReasonBytes)
            }
            let text = try r.bytes(count)
            // Decoding repairs invalid UTF-8 with U+FFFD, so it was valid iff it round-trips.
            let reason = String(decoding: text, as: UTF8.self)
            guard reason.utf8.elementsEqual(text) else { throw .invalidUTF8(field: "reason") }
            self = .error(code: code, reason: reason)
        }
        try r.expectEnd()
    }

    /// The UTF-8 of `reason`, cut to at most ``maxReasonBytes`` bytes between scalars.
    static func cut(_ reason: String) -> [UInt8] {
        var count = 0
        for scalar in reason.unicodeScalars {
            let width = UTF8.width(scalar)
            if count + width > maxReasonBytes { break }
            count += width
        }
        return Array(reason.utf8.prefix(count))
    }
}
