import Foundation
import SoukCore
import Synchronization

/// Counts events per key in a sliding window, in memory (one node serves the store).
///
/// Used for sign-up per IP, sign-in per IP and per account, and requests per IP. Keys that go
/// quiet are forgotten, so memory is bounded by the number of active keys.
public final class RateLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private let clock: any WallClock
    private let events = Mutex<[String: [Date]]>([:])

    /// `limit` events per `window` seconds; a limit of 0 or less disables the limiter.
    public init(limit: Int, window: TimeInterval, clock: any WallClock) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    /// Seconds until `key` may act again, or nil if it may act now. Does not record anything.
    public func retryAfter(_ key: String) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock.now()
        return events.withLock { table in
            let recent = Self.prune(table[key] ?? [], now: now, window: window)
            table[key] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return max(1, Int((oldest.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
        }
    }

    /// Records one event for `key`.
    public func record(_ key: String) {
        guard limit > 0 else { return }
        let now = clock.now()
        events.withLock { table in
            var recent = Self.prune(table[key] ?? [], now: now, window: window)
            recent.append(now)
            table[key] = recent
            // Bound memory: forget quiet keys once the table grows large.
            if table.count > 10_000 {
                table = table.filter { !Self.prune($0.value, now: now, window: window).isEmpty }
            }
        }
    }

    /// Checks and records in one step, atomically (parallel requests cannot all slip under the
    /// limit): throws `rateLimited` if `key` is over its limit.
    public func hit(_ key: String, what: String) throws {
        guard limit > 0 else { return }
        let now = clock.now()
        let wait: Int? = events.withLock { table in
            var recent = Self.prune(table[key] ?? [], now: now, window: window)
            if recent.count >= limit, let oldest = recent.first {
                table[key] = recent
                return max(1, Int((oldest.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
            }
            recent.append(now)
            table[key] = recent
            return nil
        }
        if let wait { throw Self.error(what: what, seconds: wait) }
    }

    public func reset(_ key: String) {
        _ = events.withLock { $0.removeValue(forKey: key) }
    }

    public static func error(what: String, seconds: Int) -> SoukError {
        SoukError(.rateLimited, "Too many \(what). Try again in \(seconds) seconds.", retryAfterSeconds: seconds)
    }

    private static func prune(_ dates: [Date], now: Date, window: TimeInterval) -> [Date] {
        let cutoff = now.addingTimeInterval(-window)
        guard let first = dates.firstIndex(where: { $0 > cutoff }) else { return [] }
        return Array(dates[first...])
    }
}

/// The store's limiters, built from `[limits]`.
public struct RateLimits: Sendable {
    public let signupPerIP: RateLimiter
    public let loginPerIP: RateLimiter
    public let loginFailuresPerAccount: RateLimiter
    public let requestsPerIP: RateLimiter

    public init(_ limits: Settings.Limits, clock: any WallClock) {
        signupPerIP = RateLimiter(limit: limits.signupPerIPPerHour, window: 3600, clock: clock)
        loginPerIP = RateLimiter(limit: limits.loginPerIPPerMinute, window: 60, clock: clock)
        loginFailuresPerAccount = RateLimiter(limit: limits.loginFailuresPerAccount, window: 15 * 60, clock: clock)
        requestsPerIP = RateLimiter(limit: limits.requestsPerIPPerMinute, window: 60, clock: clock)
    }
}
