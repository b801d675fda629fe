import E2EE
import NIOCore
import PostgresNIO
import RelayProtocol

/// The key directory of ``PostgresRelayStore``: the same rules as SQLite's
/// (SQLiteRelayStore+Keys.swift), in one transaction per call.
extension PostgresRelayStore {
    public func applyKeyUpload(_ upload: KeyUpload, for address: RelayAddress, nowMs: UInt64) async throws(RelayStoreError) {
        let user = address.userID, device = Int64(address.deviceID), now = Int64(clamping: nowMs)
        try await transaction { db in
            guard try await Self.lockDevice(user, device, db, logger: logger) else {
                throw RelayStoreError("key upload for unknown device \(address)")
            }
            if let spk = upload.signedPreKey {
                let id = Int64(spk.id.rawValue), key = ByteBuffer(bytes: spk.publicKey.rawRepresentation)
                let signature = ByteBuffer(bytes: spk.signature)
                try await db.query("""
                    INSERT INTO signed_prekeys(user_id, device, id, public, signature, uploaded_ms, seq)
                    VALUES (\(user), \(device), \(id), \(key), \(signature), \(now), nextval('key_order'))
                    ON CONFLICT (user_id, device, id) DO UPDATE SET public = excluded.public, signature = excluded.signature,
                        uploaded_ms = excluded.uploaded_ms, seq = excluded.seq
                    """, logger: logger).consume()
            }
            for opk in upload.oneTimePreKeys {
                let id = Int64(opk.id.rawValue), key = ByteBuffer(bytes: opk.publicKey.rawRepresentation)
                try await db.query("""
                    INSERT INTO one_time_prekeys(user_id, device, id, public) VALUES (\(user), \(device), \(id), \(key))
                    ON CONFLICT (user_id, device, id) DO UPDATE SET public = excluded.public
                    """, logger: logger).consume()
            }
            // Last resort first, as in SQLite: of one upload's keys the one-time ones are newer.
            let kems = [upload.lastResortKEMPreKey].compactMap { $0 }.map { ($0, true) } + upload.oneTimeKEMPreKeys.map { ($0, false) }
            for (kem, lastResort) in kems {
                let id = Int64(kem.id.rawValue), key = ByteBuffer(bytes: kem.publicKey.rawRepresentation)
                let signature = ByteBuffer(bytes: kem.signature)
                try await db.query("""
                    INSERT INTO kem_prekeys(user_id, device, id, public, signature, last_resort, seq)
                    VALUES (\(user), \(device), \(id), \(key), \(signature), \(lastResort), nextval('key_order'))
                    ON CONFLICT (user_id, device, id) DO UPDATE SET public = excluded.public, signature = excluded.signature,
                        last_resort = excluded.last_resort, seq = excluded.seq
                    """, logger: logger).consume()
            }
            for removed in upload.removedSignedPreKeyIDs {
                let id = Int64(removed.rawValue)
                // Never the current signed prekey (the newest): see SQLiteRelayStore.applyKeyUpload.
                try await db.query("""
                    DELETE FROM signed_prekeys WHERE user_id = \(user) AND device = \(device) AND id = \(id)
                    AND seq < (SELECT max(seq) FROM signed_prekeys WHERE user_id = \(user) AND device = \(device))
                    """, logger: logger).consume()
            }
            for removed in upload.removedKEMPreKeyIDs {
                let id = Int64(removed.rawValue)
                try await db.query("DELETE FROM kem_prekeys WHERE user_id = \(user) AND device = \(device) AND id = \(id)",
                                   logger: logger).consume()
            }
        }
    }

    /// One transaction; each one-time key is claimed by a single statement that
    /// deletes the lowest row no other claim holds (SKIP LOCKED): two concurrent
    /// claims never return the same key, and neither waits for the other.
    public func claimBundle(for address: RelayAddress) async throws(RelayStoreError) -> PreKeyBundle? {
        let user = address.userID, device = Int64(address.deviceID)
        let bytes = try await transaction { db -> [UInt8]? in
            var identity: ByteBuffer?
            for try await key in try await db.query("SELECT identity FROM devices WHERE user_id = \(user) AND device = \(device)",
                                                    logger: logger).decode(ByteBuffer.self) {
                identity = key
            }
            guard let identity else { return nil }
            var bytes = [PreKeyBundle.version, 0]
            bytes += Array(buffer: identity)

            var spk: (Int64, ByteBuffer, ByteBuffer)?
            for try await row in try await db.query("""
                SELECT id, public, signature FROM signed_prekeys WHERE user_id = \(user) AND device = \(device)
                ORDER BY seq DESC LIMIT 1
                """, logger: logger).decode((Int64, ByteBuffer, ByteBuffer).self) {
                spk = row
            }
            guard let spk else { return nil }
            try bytes.appendU32(spk.0)
            bytes += Array(buffer: spk.1)
            bytes += Array(buffer: spk.2)

            for try await (id, key) in try await db.query("""
                DELETE FROM one_time_prekeys WHERE user_id = \(user) AND device = \(device) AND id = (
                    SELECT id FROM one_time_prekeys WHERE user_id = \(user) AND device = \(device)
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, public
                """, logger: logger).decode((Int64, ByteBuffer).self) {
                bytes[1] |= 0x01
                try bytes.appendU32(id)
                bytes += Array(buffer: key)
            }

            var kem: (Int64, ByteBuffer, ByteBuffer)?
            for try await row in try await db.query("""
                DELETE FROM kem_prekeys WHERE user_id = \(user) AND device = \(device) AND id = (
                    SELECT id FROM kem_prekeys WHERE user_id = \(user) AND device = \(device) AND NOT last_resort
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, public, signature
                """, logger: logger).decode((Int64, ByteBuffer, ByteBuffer).self) {
                kem = row
            }
            if kem == nil {
                // The last-resort key is served, not deleted.
                for try await row in try await db.query("""
                    SELECT id, public, signature FROM kem_prekeys WHERE user_id = \(user) AND device = \(device) AND last_resort
                    ORDER BY seq DESC LIMIT 1
                    """, logger: logger).decode((Int64, ByteBuffer, ByteBuffer).self) {
                    kem = row
                }
            }
            if let kem {
                bytes[1] |= 0x02
                try bytes.appendU32(kem.0)
                bytes += Array(buffer: kem.1)
                bytes += Array(buffer: kem.2)
            }
            return bytes
        }
        guard let bytes else { return nil }
        return try SQLiteRelayStore.bundle(bytes, of: address)
    }

    public func preKeyCounts(for address: RelayAddress) async throws(RelayStoreError) -> PreKeyCounts {
        let user = address.userID, device = Int64(address.deviceID)
        return try await perform { db in
            var counts = PreKeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0)
            for try await (opk, kem) in try await db.query("""
                SELECT (SELECT count(*) FROM one_time_prekeys WHERE user_id = \(user) AND device = \(device)),
                       (SELECT count(*) FROM kem_prekeys WHERE user_id = \(user) AND device = \(device) AND NOT last_resort)
                """, logger: logger).decode((Int64, Int64).self) {
                counts = PreKeyCounts(oneTimePreKeys: Int(opk), oneTimeKEMPreKeys: Int(kem))
            }
            return counts
        }
    }
}

private extension [UInt8] {
    /// Big-endian, as every length and id of the library's wire format.
    mutating func appendU32(_ stored: Int64) throws(RelayStoreError) {
        guard let value = UInt32(exactly: stored) else { throw RelayStoreError("stored key id out of range") }
        append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
                            UInt8(truncatingIfNeeded: value)])
    }
}
