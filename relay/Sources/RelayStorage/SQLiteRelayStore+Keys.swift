import E2EE
import RelayProtocol

/// The key directory of ``SQLiteRelayStore``.
extension SQLiteRelayStore {
    /// Applies the upload in one job: the signed prekey first (it becomes
    /// current), then the pools, then the removals.
    ///
    /// A removal never deletes the device's current signed prekey (the one
    /// uploaded last, possibly by this very upload): without it the device
    /// could not be reached at all, so such a removal is ignored. The library
    /// removes only signed prekeys it has rotated away from, so it never asks
    /// for this.
    public func applyKeyUpload(_ upload: KeyUpload, for address: RelayAddress, nowMs: UInt64) async throws(RelayStoreError) {
        let user = address.userID, device = Int64(address.deviceID), now = Int64(clamping: nowMs)
        try await writer.perform { db throws(RelayStoreError) in
            guard try Self.deviceExists(user, device, db) else { throw RelayStoreError("key upload for unknown device \(address)") }
            if let spk = upload.signedPreKey {
                let insert = try db.prepared("""
                    INSERT OR REPLACE INTO signed_prekeys(user, device, id, public, signature, uploaded_ms, seq)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                            (SELECT coalesce(max(seq), 0) + 1 FROM signed_prekeys WHERE user = ?1 AND device = ?2))
                    """)
                try insert.bind(.text(user), .int(device), .int(Int64(spk.id.rawValue)), .blob(spk.publicKey.rawRepresentation),
                                .blob(spk.signature), .int(now))
                try insert.run()
            }
            for opk in upload.oneTimePreKeys {
                let insert = try db.prepared("INSERT OR REPLACE INTO one_time_prekeys(user, device, id, public) VALUES (?1, ?2, ?3, ?4)")
                try insert.bind(.text(user), .int(device), .int(Int64(opk.id.rawValue)), .blob(opk.publicKey.rawRepresentation))
                try insert.run()
            }
            // Last resort first, so that of the keys of one upload the one-time ones are newer; only the order among last-resort keys matters.
            let kems = [upload.lastResortKEMPreKey].compactMap { $0 }.map { ($0, true) } + upload.oneTimeKEMPreKeys.map { ($0, false) }
            for (kem, lastResort) in kems {
                let insert = try db.prepared("""
                    INSERT OR REPLACE INTO kem_prekeys(user, device, id, public, signature, last_resort, seq)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                            (SELECT coalesce(max(seq), 0) + 1 FROM kem_prekeys WHERE user = ?1 AND device = ?2))
                    """)
                try insert.bind(.text(user), .int(device), .int(Int64(kem.id.rawValue)), .blob(kem.publicKey.rawRepresentation),
                                .blob(kem.signature), .int(lastResort ? 1 : 0))
                try insert.run()
            }
            for id in upload.removedSignedPreKeyIDs {
                let delete = try db.prepared("""
                    DELETE FROM signed_prekeys WHERE user = ?1 AND device = ?2 AND id = ?3
                    AND seq < (SELECT max(seq) FROM signed_prekeys WHERE user = ?1 AND device = ?2)
                    """)
                try delete.bind(.text(user), .int(device), .int(Int64(id.rawValue)))
                try delete.run()
            }
            for id in upload.removedKEMPreKeyIDs {
                let delete = try db.prepared("DELETE FROM kem_prekeys WHERE user = ?1 AND device = ?2 AND id = ?3")
                try delete.bind(.text(user), .int(device), .int(Int64(id.rawValue)))
                try delete.run()
            }
        }
    }

    public func claimBundle(for address: RelayAddress) async throws(RelayStoreError) -> PreKeyBundle? {
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let identity = try db.prepared("SELECT identity FROM devices WHERE user = ?1 AND device = ?2")
            try identity.bind(.text(user), .int(device))
            guard try identity.step() else { return nil }
            var bytes = [PreKeyBundle.version, 0]
            bytes += identity.blob(0)

            let spk = try db.prepared("""
                SELECT id, public, signature FROM signed_prekeys WHERE user = ?1 AND device = ?2 ORDER BY seq DESC LIMIT 1
                """)
            try spk.bind(.text(user), .int(device))
            guard try spk.step() else { return nil }
            try bytes.appendU32(spk.int64(0))
            bytes += spk.blob(1)
            bytes += spk.blob(2)

            // Deleted as it is read, in the transaction that hands it out: no
            // two claims can see the same row.
            let opk = try db.prepared("""
                DELETE FROM one_time_prekeys WHERE user = ?1 AND device = ?2
                AND id = (SELECT min(id) FROM one_time_prekeys WHERE user = ?1 AND device = ?2)
                RETURNING id, public
                """)
            try opk.bind(.text(user), .int(device))
            if try opk.step() {
                bytes[1] |= 0x01
                try bytes.appendU32(opk.int64(0))
                bytes += opk.blob(1)
            }

            let oneTimeKEM = try db.prepared("""
                DELETE FROM kem_prekeys WHERE user = ?1 AND device = ?2
                AND id = (SELECT min(id) FROM kem_prekeys WHERE user = ?1 AND device = ?2 AND last_resort = 0)
                RETURNING id, public, signature
                """)
            try oneTimeKEM.bind(.text(user), .int(device))
            let kem: SQLiteStatement?
            if try oneTimeKEM.step() {
                kem = oneTimeKEM
            } else {
                // The last-resort key is served, not deleted: it is what keeps PQXDH possible with an empty pool.
                let lastResort = try db.prepared("""
                    SELECT id, public, signature FROM kem_prekeys WHERE user = ?1 AND device = ?2 AND last_resort = 1
                    ORDER BY seq DESC LIMIT 1
                    """)
                try lastResort.bind(.text(user), .int(device))
                kem = try lastResort.step() ? lastResort : nil
            }
            if let kem {
                bytes[1] |= 0x02
                try bytes.appendU32(kem.int64(0))
                bytes += kem.blob(1)
                bytes += kem.blob(2)
            }
            return try Self.bundle(bytes, of: address)
        }
    }

    public func preKeyCounts(for address: RelayAddress) async throws(RelayStoreError) -> PreKeyCounts {
        let user = address.userID, device = Int64(address.deviceID)
        return try await writer.perform { db throws(RelayStoreError) in
            let select = try db.prepared("""
                SELECT (SELECT count(*) FROM one_time_prekeys WHERE user = ?1 AND device = ?2),
                       (SELECT count(*) FROM kem_prekeys WHERE user = ?1 AND device = ?2 AND last_resort = 0)
                """)
            try select.bind(.text(user), .int(device))
            guard try select.step() else { return PreKeyCounts(oneTimePreKeys: 0, oneTimeKEMPreKeys: 0) }
            return PreKeyCounts(oneTimePreKeys: Int(select.int64(0)), oneTimeKEMPreKeys: Int(select.int64(1)))
        }
    }

    /// The bundle is assembled in its wire layout (PROTOCOL.md §1) and parsed,
    /// because the library offers no public initialiser for its one-time
    /// prekey; parsing also checks every stored key again, so a damaged row
    /// is an error here rather than a bundle no client accepts.
    static func bundle(_ bytes: [UInt8], of address: RelayAddress) throws(RelayStoreError) -> PreKeyBundle {
        do {
            return try PreKeyBundle(serialized: bytes)
        } catch {
            throw RelayStoreError("stored keys of \(address) do not form a bundle: \(error)")
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
