/// Totals over the whole store, for the relay's gauges (`relay_queue_depth`,
/// `relay_prekey_pool`). Optional beside ``RelayStore``: a backend without it
/// simply has no such gauges.
public struct RelayStoreTotals: Sendable, Equatable {
    /// Messages queued for all devices, not yet acked or expired.
    public let queuedMessages: Int
    /// One-time prekeys in the directory, all devices together.
    public let oneTimePreKeys: Int
    /// One-time KEM prekeys (last-resort ones not counted).
    public let oneTimeKEMPreKeys: Int

    public init(queuedMessages: Int, oneTimePreKeys: Int, oneTimeKEMPreKeys: Int) {
        self.queuedMessages = queuedMessages
        self.oneTimePreKeys = oneTimePreKeys
        self.oneTimeKEMPreKeys = oneTimeKEMPreKeys
    }
}

/// A store that can count its queue and pools at once.
public protocol RelayStoreStatistics: Sendable {
    func totals() async throws(RelayStoreError) -> RelayStoreTotals
}

extension SQLiteRelayStore: RelayStoreStatistics {
    public func totals() async throws(RelayStoreError) -> RelayStoreTotals {
        try await writer.perform { db throws(RelayStoreError) in
            let select = try db.prepared("""
                SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM one_time_prekeys),
                       (SELECT count(*) FROM kem_prekeys WHERE last_resort = 0)
                """)
            guard try select.step() else { return RelayStoreTotals(queuedMessages: 0, oneTimePreKeys: 0, oneTimeKEMPreKeys: 0) }
            return RelayStoreTotals(queuedMessages: Int(select.int64(0)), oneTimePreKeys: Int(select.int64(1)),
                                    oneTimeKEMPreKeys: Int(select.int64(2)))
        }
    }
}

extension PostgresRelayStore: RelayStoreStatistics {
    /// Exact counts: fine at a scrape every few seconds for the sizes one
    /// database holds; a far larger deployment would read `pg_class.reltuples`.
    public func totals() async throws(RelayStoreError) -> RelayStoreTotals {
        try await perform { db in
            var totals = RelayStoreTotals(queuedMessages: 0, oneTimePreKeys: 0, oneTimeKEMPreKeys: 0)
            for try await (queued, opk, kem) in try await db.query("""
                SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM one_time_prekeys),
                       (SELECT count(*) FROM kem_prekeys WHERE NOT last_resort)
                """, logger: logger).decode((Int64, Int64, Int64).self) {
                totals = RelayStoreTotals(queuedMessages: Int(queued), oneTimePreKeys: Int(opk), oneTimeKEMPreKeys: Int(kem))
            }
            return totals
        }
    }
}
