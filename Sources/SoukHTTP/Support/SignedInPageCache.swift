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

    /// Renderings under way: a crowd reloading one page when its copy goes stale waits for
    /// one rendering instead of starting one each (they would all queue for the same CPU).
    let flights = RenderFlights<DatabaseMoment>()

    func key(_ request: Request, user: User, origin: SessionOrigin) -> String {
        let cart = request.cookies[cookies.cart]?.value ?? ""
        let zone = request.cookies[CookieNames.timeZone]?.value ?? ""
        return [user.id, origin.rawValue, cart, zone, PageCacheMiddleware.key(request)].joined(separator: "\u{1}")
    }
}
