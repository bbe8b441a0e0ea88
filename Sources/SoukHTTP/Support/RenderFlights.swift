import Foundation
import Synchronization

/// Renderings of pages under way, by key, each for the state it was rendered from (`Stamp`: a
/// database moment, or the catalog's generation): whoever asks for a page that is being
/// rendered from the same state waits for that rendering instead of starting another.
final class RenderFlights<Stamp: Equatable & Sendable>: Sendable {
    private let flights = Mutex<[String: (stamp: Stamp, flight: RenderFlight)]>([:])

    /// The rendering of `key` from `stamp` to wait for (`leads` false), or a new one the
    /// caller leads: it renders, then calls `land` whatever happens.
    func join(_ key: String, stamp: Stamp) -> (flight: RenderFlight, leads: Bool) {
        flights.withLock { flights in
            if let current = flights[key], current.stamp == stamp { return (current.flight, false) }
            let flight = RenderFlight()
            flights[key] = (stamp, flight)
            return (flight, true)
        }
    }

    /// Ends a rendering led by the caller: its waiters get `entry` (nil: render for yourselves).
    func land(_ flight: RenderFlight, key: String, entry: PageCache.Entry?) {
        flights.withLock { flights in
            if flights[key]?.flight === flight { flights[key] = nil }
        }
        flight.finish(entry)
    }
}

/// One rendering of a page, and the requests waiting for it.
final class RenderFlight: Sendable {
    private let state = Mutex<(done: Bool, entry: PageCache.Entry?, waiters: [CheckedContinuation<PageCache.Entry?, Never>])>(
        (false, nil, []))

    /// The page once rendered; nil if it was not one to keep (an error, a redirect).
    func wait() async -> PageCache.Entry? {
        await withCheckedContinuation { continuation in
            let landed: PageCache.Entry?? = state.withLock { state in
                if state.done { return .some(state.entry) }
                state.waiters.append(continuation)
                return .none
            }
            if let landed { continuation.resume(returning: landed) }
        }
    }

    func finish(_ entry: PageCache.Entry?) {
        let waiters = state.withLock { state in
            state.done = true
            state.entry = entry
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: entry) }
    }
}
