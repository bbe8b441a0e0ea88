import Foundation
import SoukCore
import Synchronization
import Testing

@testable import SoukHTTP

private final class LimiterClock: WallClock, Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

@Suite("Rate limiter")
struct RateLimiterTests {
    @Test("The limit-th event passes, the next is refused with the seconds to wait, and the window slides")
    func slidingWindow() throws {
        let clock = LimiterClock()
        let limiter = RateLimiter(limit: 3, window: 60, clock: clock)
        for _ in 0..<3 { try limiter.hit("k", what: "tries") }
        let error = #expect(throws: SoukError.self) { try limiter.hit("k", what: "tries") }
        #expect(error?.code == .rateLimited && error?.retryAfterSeconds == 60)
        clock.advance(61)
        try limiter.hit("k", what: "tries")
    }

    @Test("Keys that went quiet are swept out, whatever their number: memory follows the active keys")
    func expiredKeysArePruned() throws {
        let clock = LimiterClock()
        let limiter = RateLimiter(limit: 5, window: 60, clock: clock)
        for round in 0..<5 {
            for index in 0..<20_000 { try limiter.hit("round\(round)-key\(index)", what: "tries") }
            clock.advance(61)
        }
        // Only the last round's keys may still be live; the sweep leaves at most about twice that.
        #expect(limiter.keyCount <= 40_000 + RateLimiter.minimumSweepSize, "\(limiter.keyCount)")
        clock.advance(61)
        try limiter.hit("one more", what: "tries")
        #expect(limiter.keyCount == 1, "a window later, only the new key is left")
    }

    @Test("A huge key costs what a short one does: keys are stored as a fixed-size digest")
    func keysAreHashed() throws {
        let limiter = RateLimiter(limit: 1, window: 60, clock: LimiterClock())
        let huge = String(repeating: "a", count: 1_000_000)
        try limiter.hit(huge, what: "tries")
        #expect(throws: SoukError.self) { try limiter.hit(huge, what: "tries") }
        try limiter.hit(huge + "b", what: "tries")
        #expect(MemoryLayout<RateLimiter.Key>.size == 16)
    }

    @Test("record keeps a bucket at most `limit` long")
    func recordIsBounded() {
        let limiter = RateLimiter(limit: 2, window: 60, clock: LimiterClock())
        for _ in 0..<1000 { limiter.record("k") }
        #expect(limiter.retryAfter("k") != nil)
        limiter.reset("k")
        #expect(limiter.retryAfter("k") == nil)
    }
}

@Suite("Client network")
struct ClientNetworkTests {
    @Test(
        "IPv6 clients count per /64; IPv4 and IPv4-mapped addresses per address",
        arguments: [
            ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
            ("[2001:DB8:1:2::7]", "2001:db8:1:2::/64"),
            ("fe80::1%eth0", "fe80:0:0:0::/64"),
            ("::1", "0:0:0:0::/64"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("192.0.2.1", "192.0.2.1"),
            ("not an address", "unknown"),
            ("", "unknown"),
        ])
    func keys(address: String, expected: String) {
        #expect(ClientNetwork.limiterKey(for: address) == expected)
    }

    @Test("Another /64 is another network")
    func neighbours() {
        #expect(ClientNetwork.limiterKey(for: "2001:db8:1:2::1") != ClientNetwork.limiterKey(for: "2001:db8:1:3::1"))
    }
}
