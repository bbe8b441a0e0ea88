import Crypto
import Foundation
import SoukCore
import Synchronization

/// Counts events per key in a sliding window, in memory (one node serves the store).
///
/// Used for sign-up per IP, sign-in per IP and per account, guest checkouts and requests per IP.
/// Memory is bounded whatever the callers send: a key is stored as 16 bytes of its SHA-256 (a
/// megabyte of key costs no more than a short one), a bucket holds at most `limit` times, and
/// buckets whose window has passed are swept out (amortised: a sweep runs when the table has
/// doubled since the last one, or a window has passed), so the table holds at most about twice
/// the keys active in one window.
public final class RateLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private let clock: any WallClock
    private let state = Mutex(Table())

    /// Below this many keys the table is not swept for growth (a sweep would free little).
    static let minimumSweepSize = 1024

    /// `limit` events per `window` seconds; a limit of 0 or less disables the limiter.
    public init(limit: Int, window: TimeInterval, clock: any WallClock) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    /// Seconds until `key` may act again, or nil if it may act now. Does not record anything.
    public func retryAfter(_ key: String) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock.now().timeIntervalSinceReferenceDate
        let digest = Key(key)
        return state.withLock { table in
            guard var bucket = table.buckets[digest] else { return nil }
            bucket.forget(before: now - window)
            table.buckets[digest] = bucket.times.isEmpty ? nil : bucket
            return bucket.wait(limit: limit, window: window, now: now)
        }
    }

    /// Records one event for `key`.
    public func record(_ key: String) {
        guard limit > 0 else { return }
        let now = clock.now().timeIntervalSinceReferenceDate
        let digest = Key(key)
        state.withLock { table in
            table.buckets[digest, default: Bucket()].add(now, forgettingBefore: now - window, limit: limit)
            table.sweepIfDue(now: now, window: window)
        }
    }

    /// Checks and records in one step, atomically (parallel requests cannot all slip under the
    /// limit): throws `rateLimited` if `key` is over its limit.
    public func hit(_ key: String, what: String) throws {
        guard limit > 0 else { return }
        let now = clock.now().timeIntervalSinceReferenceDate
        let digest = Key(key)
        let wait: Int? = state.withLock { table in
            defer { table.sweepIfDue(now: now, window: window) }
            var bucket = table.buckets.removeValue(forKey: digest) ?? Bucket()
            bucket.forget(before: now - window)
            if let wait = bucket.wait(limit: limit, window: window, now: now) {
                table.buckets[digest] = bucket
                return wait
            }
            bucket.add(now, forgettingBefore: now - window, limit: limit)
            table.buckets[digest] = bucket
            return nil
        }
        if let wait { throw Self.error(what: what, seconds: wait) }
    }

    public func reset(_ key: String) {
        _ = state.withLock { $0.buckets.removeValue(forKey: Key(key)) }
    }

    /// How many keys the limiter holds now (for tests and the memory bound).
    public var keyCount: Int { state.withLock { $0.buckets.count } }

    public static func error(what: String, seconds: Int) -> SoukError {
        SoukError(.rateLimited, "Too many \(what). Try again in \(seconds) seconds.", retryAfterSeconds: seconds)
    }

    /// A key as stored: the first 128 bits of its SHA-256. Collisions would need 2^64 keys.
    struct Key: Hashable {
        let high: UInt64
        let low: UInt64

        init(_ key: String) {
            let digest = Array(SHA256.hash(data: Data(key.utf8)))
            high = digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            low = digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    /// One key's recent events, oldest first (seconds since the reference date).
    struct Bucket {
        var times: [Double] = []

        mutating func forget(before cutoff: Double) {
            guard let first = times.firstIndex(where: { $0 > cutoff }) else {
                times.removeAll(keepingCapacity: false)
                return
            }
            if first > 0 { times.removeFirst(first) }
        }

        /// Only the newest `limit` events can matter; older ones are dropped so a bucket never
        /// grows past the limit (`record` keeps counting a key that is already over it).
        mutating func add(_ now: Double, forgettingBefore cutoff: Double, limit: Int) {
            forget(before: cutoff)
            times.append(now)
            if times.count > limit { times.removeFirst(times.count - limit) }
        }

        func wait(limit: Int, window: TimeInterval, now: Double) -> Int? {
            guard times.count >= limit, let oldest = times.first else { return nil }
            return max(1, Int((oldest + window - now).rounded(.up)))
        }

        var newest: Double { times.last ?? -.infinity }
    }

    struct Table {
        var buckets: [Key: Bucket] = [:]
        var lastSweep: Double = -.infinity
        var sweepAtCount = RateLimiter.minimumSweepSize

        /// Drops every bucket whose newest event left the window. Runs when the table has doubled
        /// since the last sweep (so its cost is spread over as many insertions as it visits) or
        /// when a whole window has passed (so a table that stopped growing still empties).
        mutating func sweepIfDue(now: Double, window: TimeInterval) {
            guard buckets.count >= sweepAtCount || now - lastSweep >= window else { return }
            let cutoff = now - window
            buckets = buckets.filter { $0.value.newest > cutoff }
            lastSweep = now
            sweepAtCount = max(RateLimiter.minimumSweepSize, buckets.count * 2)
        }
    }
}

/// The store's limiters, built from `[limits]`.
public struct RateLimits: Sendable {
    public let signupPerIP: RateLimiter
    public let loginPerIP: RateLimiter
    public let loginFailuresPerAccount: RateLimiter
    public let requestsPerIP: RateLimiter
    public let guestCheckoutsPerIP: RateLimiter
    public let guestCheckoutsPerEmail: RateLimiter

    public init(_ limits: Settings.Limits, clock: any WallClock) {
        signupPerIP = RateLimiter(limit: limits.signupPerIPPerHour, window: 3600, clock: clock)
        loginPerIP = RateLimiter(limit: limits.loginPerIPPerMinute, window: 60, clock: clock)
        loginFailuresPerAccount = RateLimiter(limit: limits.loginFailuresPerAccount, window: 15 * 60, clock: clock)
        requestsPerIP = RateLimiter(limit: limits.requestsPerIPPerMinute, window: 60, clock: clock)
        guestCheckoutsPerIP = RateLimiter(limit: limits.guestCheckoutsPerIPPerHour, window: 3600, clock: clock)
        guestCheckoutsPerEmail = RateLimiter(limit: limits.guestCheckoutsPerEmailPerHour, window: 3600, clock: clock)
    }
}
