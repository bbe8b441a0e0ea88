import Hummingbird
import SoukDatabase

/// Answers a signed-out visitor's request for a store page from `PageCache` near the front of
/// the chain, after the request log and metrics: a launch crowd's page costs a lookup, not the
/// walk through limits, sessions, CSRF and the router (which took two thirds of its time).
///
/// Only requests that would come out of that walk unchanged are answered here: a GET of a
/// cacheable address, with no `Authorization` header and no session cookie (so no session to
/// look up), whose page is in the cache at the current generation. It does what the skipped
/// middleware would do to such an answer: counts the request against the per-IP limit (over it,
/// the request goes the long way and is refused there, with the usual page), gives the visitor
/// their CSRF token (and cookie) where the page has a form, and names the route for the log and metrics. Everything else, a
/// miss included, goes on to `PageCacheMiddleware`, which renders and keeps the page.
struct PageCacheFrontMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let database: AppDatabase
    let cache: PageCache
    let productViews: ProductViewCounter
    let csrf: CSRFMiddleware
    let requestsPerIP: RateLimiter
    let clientNetwork: @Sendable (Request, Context) -> String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .get, request.headers[.authorization] == nil,
            PageCacheMiddleware.isCacheable(request.uri.path), request.cookies[csrf.names.session] == nil
        else { return try await next(request, context) }
        // A database error is left to the long way, which answers it with the usual error page.
        guard let generation = try? await database.storePagesGeneration(),
            let entry = cache.entry(PageCacheMiddleware.key(request), generation: generation)
        else {
            return try await next(request, context)
        }
        if requestsPerIP.limit > 0 {
            do {
                try requestsPerIP.hit("ip:\(clientNetwork(request, context))", what: "requests from this address")
            } catch {
                return try await next(request, context)
            }
        }
        context.coreContext.endpointPath.value = entry.route
        // Only a page with a form needs the browser's CSRF cookie (a page without one gives no
        // token; the first page with a form sets the cookie).
        guard entry.hasForm else {
            return await PageCacheMiddleware.answer(from: entry, request, csrfToken: "", productViews: productViews, database: database)
        }
        let (cookieValue, isNew) = csrf.browserCookie(request)
        var response = await PageCacheMiddleware.answer(
            from: entry, request, csrfToken: csrf.token(for: cookieValue, sessionHash: nil), productViews: productViews,
            database: database)
        if isNew { response.setCookie(csrf.cookie(cookieValue)) }
        return response
    }
}
