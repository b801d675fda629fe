import Synchronization

/// A token bucket: `burst` requests at once, refilled at `perSecond`.
public struct RateLimit: Sendable, Equatable {
    public var burst: Double
    public var perSecond: Double

    public init(burst: Double, perSecond: Double) {
        self.burst = burst
        self.perSecond = perSecond
    }
}

/// Token buckets by key, in memory: a limit is per relay process (a
/// restart refills every bucket, which costs an attacker nothing it could
/// not get by waiting).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    /// Above this many buckets, full ones are dropped (they hold no state a
    /// new bucket would not), so memory is bounded by the active keys.
    private static let pruneThreshold = 100_000
    private let buckets = Mutex<[String: Bucket]>([:])

    /// Takes one token from `key`'s bucket; false if it is empty.
    func allow(_ key: String, _ limit: RateLimit, nowMs: UInt64) -> Bool {
        buckets.withLock { buckets in
            if buckets.count > Self.pruneThreshold {
                buckets = buckets.filter { Self.refilled($0.value, limit, nowMs) < limit.burst }
            }
            var bucket = buckets[key].map { Bucket(tokens: Self.refilled($0, limit, nowMs), updated: nowMs) }
                ?? Bucket(tokens: limit.burst, updated: nowMs)
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return true
        }
    }

    private static func refilled(_ bucket: Bucket, _ limit: RateLimit, _ nowMs: UInt64) -> Double {
        let elapsed = Double(nowMs &- bucket.updated) / 1000
        return min(limit.burst, bucket.tokens + max(0, elapsed) * limit.perSecond)
    }
}
