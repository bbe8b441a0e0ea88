import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import Synchronization

/// The pages signed-in people open most (dashboard, sales and customers, library, orders, and
/// the store's pages as they see them), kept per person and address while the database is unchanged since they were
/// rendered, for a second at most (`UnchangedReadings`). A seller who reloads the dashboard,
/// or a crowd of signed-in buyers on one product page, costs a lookup, not a rendering.
///
/// Only pages whose GET changes nothing are listed (a product page's view is still counted by
/// `PageCacheMiddleware`; the sales page's conversion shows views counted since its copy at
/// most a second late). The key holds everything besides the database a page is drawn from:
/// the user, how their session was made, their guest cart and time zone cookies, the address.
/// Their CSRF token is put back on each answer, and nothing may keep it: the page goes out
/// `no-store`, as it was rendered.
final class SignedInPageCache: Sendable {
    static let pages: Set<String> = ["/dashboard", "/dashboard/sales", "/dashboard/customers", "/library", "/orders"]
    let readings: UnchangedReadings<PageCache.Entry>
    let cookies: CookieNames

    init(capacity: Int = 32 << 20, cookies: CookieNames) {
        readings = UnchangedReadings(capacity: capacity)
        self.cookies = cookies
    }

    static func isCacheable(_ path: String) -> Bool { pages.contains(path) || PageCacheMiddleware.isCacheable(path) }

    /// Renderings under way, by key: a crowd reloading one page when its copy goes stale waits
    /// for one rendering instead of starting one each (they would all queue for the same CPU).
    private let flights = Mutex<[String: RenderFlight]>([:])

    /// The rendering of `key` at `moment` to wait for, or nil with a new one that the caller
    /// leads: it renders, then calls `land` whatever happens.
    func join(_ key: String, moment: DatabaseMoment) -> (flight: RenderFlight, leads: Bool) {
        flights.withLock { flights in
            if let flight = flights[key], flight.moment == moment { return (flight, false) }
            let flight = RenderFlight(moment: moment)
            flights[key] = flight
            return (flight, true)
        }
    }

    /// Ends a rendering led by the caller: its waiters get `entry` (nil: render for yourselves).
    func land(_ flight: RenderFlight, key: String, entry: PageCache.Entry?) {
        flights.withLock { flights in
            if flights[key] === flight { flights[key] = nil }
        }
        flight.finish(entry)
    }

    func key(_ request: Request, user: User, origin: SessionOrigin) -> String {
        let cart = request.cookies[cookies.cart]?.value ?? ""
        let zone = request.cookies[CookieNames.timeZone]?.value ?? ""
        return [user.id, origin.rawValue, cart, zone, PageCacheMiddleware.key(request)].joined(separator: "\u{1}")
    }
}

/// One rendering of a signed-in page, and the requests waiting for it.
final class RenderFlight: Sendable {
    let moment: DatabaseMoment
    private let state = Mutex<(done: Bool, entry: PageCache.Entry?, waiters: [CheckedContinuation<PageCache.Entry?, Never>])>(
        (false, nil, []))

    init(moment: DatabaseMoment) { self.moment = moment }

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
