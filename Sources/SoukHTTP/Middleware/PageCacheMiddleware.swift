import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SoukCore
import SoukDatabase
import Synchronization

/// The public store pages (home, search, categories, sellers, products) rendered once and served
/// from memory to every visitor who is not signed in, until the catalog changes
/// (`AppDatabase.storePagesGeneration`). Each answer carries an `ETag`; a browser or CDN that
/// sends it back gets `304 Not Modified` with no body.
///
/// A product page holds a form with the visitor's own CSRF token: the cached copy keeps a
/// placeholder where the token was, and each answer puts the visitor's token back.
///
/// A signed-in visitor's pages are kept too, per person, in `SignedInPageCache`.
struct PageCacheMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let database: AppDatabase
    let cache: PageCache
    let signedIn: SignedInPageCache
    let productViews: ProductViewCounter

    /// The response header a product page uses to name its product, so a cached answer still
    /// counts a view; removed before the response leaves.
    static let productHeader = HTTPField.Name("souk-product-id")!

    /// A kept page for one visitor; a product page's view still counts.
    static func answer(
        from entry: PageCache.Entry, _ request: Request, csrfToken: String, productViews: ProductViewCounter,
        database: AppDatabase, shared: Bool = true
    ) async -> Response {
        if let productID = entry.productID, ProductViewCounter.counts(userAgent: request.headers[.userAgent]) {
            productViews.record(productID: productID, at: database.clock.now())
        }
        return entry.response(csrfToken: csrfToken, ifNoneMatch: shared ? request.headers[.ifNoneMatch] : nil, shared: shared)
    }

    /// The cache's key for a request: path and query as sent.
    static func key(_ request: Request) -> String { request.uri.path + "?" + (request.uri.query ?? "") }

    static func isCacheable(_ path: String) -> Bool {
        path == "/" || path == "/search" || path == "/categories" || path.hasPrefix("/categories/") || path.hasPrefix("/sellers/")
            || (path.hasPrefix("/products/") && path.dropFirst("/products/".count).allSatisfy { $0 != "/" })
            || catalogAnswerPaths.contains(path)
    }

    /// The catalog search of the JSON API: its answer depends on the query and the catalog
    /// only (never on who asks), so a signed-out client's answer is kept like a page, and a
    /// launch crowd repeating the popular searches is answered without searching again.
    static let searchAPIPath = "/api/v1/products"
    /// The categories with their counts, the same for everyone (every category, so with
    /// thousands of categories the answer is worth keeping).
    static let categoriesAPIPath = "/api/v1/categories"
    /// The JSON answers kept like pages.
    static let catalogAnswerPaths: Set<String> = [searchAPIPath, categoriesAPIPath]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .get, request.headers[.authorization] == nil else {
            return try await Self.passedOn(request, context: context, next: next)
        }
        if let identity = context.identity {
            guard case .session(_, let origin) = identity.credential, SignedInPageCache.isCacheable(request.uri.path) else {
                return try await Self.passedOn(request, context: context, next: next)
            }
            return try await signedInAnswer(request, context: context, key: signedIn.key(request, user: identity.user, origin: origin), next: next)
        }
        guard Self.isCacheable(request.uri.path) else { return try await Self.passedOn(request, context: context, next: next) }
        let key = Self.key(request)
        let generation = try await database.storePagesGeneration()
        func kept(_ entry: PageCache.Entry) async -> Response {
            await Self.answer(from: entry, request, csrfToken: context.csrfToken, productViews: productViews, database: database)
        }
        if let entry = cache.entry(key, generation: generation) { return await kept(entry) }
        // One rendering per page and generation: a crowd arriving before the page is kept (at
        // start, or after each change to the catalog) waits for it rather than each rendering
        // it on the same cores.
        let (flight, leads) = cache.flights.join(key, stamp: generation)
        if !leads, let entry = await flight.wait() { return await kept(entry) }
        var landed: PageCache.Entry?
        defer { if leads { cache.flights.land(flight, key: key, entry: landed) } }
        let (response, entry) = try await render(request, context: context, generation: generation, next: next)
        guard let entry else { return response }
        cache.store(key, entry)
        landed = entry
        return entry.response(csrfToken: context.csrfToken, ifNoneMatch: request.headers[.ifNoneMatch])
    }

    /// The route's answer, not kept (without the header meant for the caches).
    private static func passedOn(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[productHeader] = nil
        return response
    }

    /// A signed-in visitor's page, kept for them while the database is unchanged.
    private func signedInAnswer(
        _ request: Request, context: Context, key: String, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // Taken before rendering (by `AuthenticationMiddleware`, before its own reads): a commit
        // meanwhile makes the kept page stale at once.
        let now = database.clock.now()
        let moment = context.databaseMoment ?? database.moment()
        func kept(_ entry: PageCache.Entry) async -> Response {
            context.coreContext.endpointPath.value = entry.route
            return await Self.answer(
                from: entry, request, csrfToken: context.csrfToken, productViews: productViews, database: database, shared: false)
        }
        if let entry = signedIn.readings.value(key, moment: moment, now: now) { return await kept(entry) }
        guard let moment else { return try await render(request, context: context, generation: "", next: next).0 }
        // One rendering per page and moment: the others wait for it.
        let (flight, leads) = signedIn.flights.join(key, stamp: moment)
        if !leads, let entry = await flight.wait() { return await kept(entry) }
        var landed: PageCache.Entry?
        defer { if leads { signedIn.flights.land(flight, key: key, entry: landed) } }
        let (response, entry) = try await render(request, context: context, generation: "", next: next)
        guard let entry else { return response }
        signedIn.readings.store(key, entry, moment: moment, now: now, cost: entry.size)
        landed = entry
        return entry.response(csrfToken: context.csrfToken, ifNoneMatch: nil, shared: false)
    }

    /// The route's answer, and the page to keep if it is one: only a plain page is kept, not an
    /// error, a redirect, or an answer that sets a cookie of its own (the CSRF cookie is added
    /// outside, per visitor).
    private func render(
        _ request: Request, context: Context, generation: String, next: (Request, Context) async throws -> Response
    ) async throws -> (Response, PageCache.Entry?) {
        var response = try await next(request, context)
        let route = context.endpointPath
        let productID = response.headers[Self.productHeader]
        response.headers[Self.productHeader] = nil
        let isPage = response.headers[.contentType]?.hasPrefix("text/html") == true
        let isCatalogAnswer =
            Self.catalogAnswerPaths.contains(request.uri.path)
            && response.headers[.contentType]?.hasPrefix("application/json") == true
        guard response.status == .ok, isPage || isCatalogAnswer, response.headers[.setCookie] == nil
        else { return (response, nil) }
        let collected = CollectedBody()
        try await response.body.write(CollectingWriter(into: collected))
        let body = collected.buffer.withLock { $0 }
        guard body.readableBytes <= PageCache.largestPage else {
            return (Response(status: response.status, headers: response.headers, body: .init(byteBuffer: body)), nil)
        }
        // Only a page has forms for the visitor's token to go in. An answer's tag names what
        // decides its bytes (the query and the catalog's generation) rather than hashing them:
        // most searches are asked once, and hashing 40 kB of JSON cost as much as writing it.
        let entry = PageCache.Entry(
            body: body, csrfToken: isPage ? context.csrfToken : "", generation: generation, productID: productID, route: route,
            headers: response.headers, https: cache.https,
            etag: isPage ? nil : PageCache.Entry.answerTag(key: Self.key(request), generation: generation))
        return (response, entry)
    }
}

/// Rendered store pages by address, each with the generation it was rendered at, and the
/// search API's answers beside them; each kind up to a budget of bytes, the oldest going first
/// (random addresses from a crawler cannot grow it without bound, and a crawl of searches cannot
/// push the pages out).
final class PageCache: Sendable {
    static let largestPage = 1 << 20
    /// Whether the store is served over https (the security headers kept with each page).
    let https: Bool
    private let pages: Mutex<BoundedCache<String, Entry>>
    private let answers: Mutex<BoundedCache<String, Entry>>
    /// Renderings under way, by key and catalog generation.
    let flights = RenderFlights<String>()

    init(pagesBudget: Int = 32 << 20, answersBudget: Int = 8 << 20, https: Bool) {
        pages = Mutex(BoundedCache(budget: pagesBudget))
        answers = Mutex(BoundedCache(budget: answersBudget))
        self.https = https
    }

    private func withEntries<Result: Sendable>(
        for key: String, _ body: (inout BoundedCache<String, Entry>) -> Result
    ) -> Result {
        // A key is the path, "?" and the query (`PageCacheMiddleware.key`).
        key.hasPrefix(PageCacheMiddleware.searchAPIPath + "?")
            ? answers.withLock { body(&$0) } : pages.withLock { body(&$0) }
    }

    struct Entry: Sendable {
        static let placeholder = "\u{1}souk-csrf\u{1}"
        /// The page, cut where the visitor's CSRF token goes (if the page has a form).
        let parts: [ByteBuffer]
        var size: Int { parts.reduce(0) { $0 + $1.readableBytes } }
        let etag: String
        let generation: String
        let productID: String?
        /// The route that rendered it, for the metrics and log of an answer from the cache.
        let route: String?
        /// The response's headers with the security headers every response gets: an answer
        /// from `PageCacheFrontMiddleware` does not pass `SecurityHeadersMiddleware`.
        let headers: HTTPFields
        /// Whether the page carries the visitor's CSRF token (it has a form).
        var hasForm: Bool { parts.count > 1 }

        /// `etag`: the entity tag, when something cheaper than the body's hash names the body.
        init(
            body: ByteBuffer, csrfToken: String, generation: String, productID: String?, route: String?, headers: HTTPFields,
            https: Bool, etag: String? = nil
        ) {
            if csrfToken.isEmpty {
                self.parts = [body]
                self.etag = etag ?? Hex.encode(SHA256.hash(data: body.readableBytesView).prefix(12))
            } else {
                let parts = Self.split(body, on: Array(csrfToken.utf8))
                self.parts = parts
                self.etag = etag ?? Self.tag(parts)
            }
            self.generation = generation
            self.productID = productID
            self.route = route
            var headers = headers
            headers[.contentLength] = nil
            SecurityHeadersMiddleware.apply(to: &headers, https: https)
            self.headers = headers
        }

        /// The hash of `parts` joined by the placeholder: the page as kept, whoever's token.
        static func tag(_ parts: [ByteBuffer]) -> String {
            var hash = SHA256()
            for (index, part) in parts.enumerated() {
                if index > 0 { hash.update(data: Array(placeholder.utf8)) }
                hash.update(data: part.readableBytesView)
            }
            return Hex.encode(hash.finalize().prefix(12))
        }

        /// `body` cut at each `token` (its first byte found by `memchr`, the rest compared): a
        /// sales page holds fifty forms, and Foundation's `components(separatedBy:)` took a
        /// tenth of its rendering to find them.
        static func split(_ body: ByteBuffer, on token: [UInt8]) -> [ByteBuffer] {
            body.readableBytesView.withUnsafeBytes { bytes -> [ByteBuffer] in
                guard let base = bytes.baseAddress, let first = token.first else { return [body] }
                var parts: [ByteBuffer] = []
                var start = 0
                var at = 0
                while at + token.count <= bytes.count, let hit = memchr(base + at, Int32(first), bytes.count - token.count + 1 - at) {
                    let offset = base.distance(to: UnsafeRawPointer(hit))
                    if token.withUnsafeBytes({ memcmp(base + offset, $0.baseAddress!, token.count) }) == 0 {
                        parts.append(body.getSlice(at: body.readerIndex + start, length: offset - start)!)
                        start = offset + token.count
                        at = start
                    } else {
                        at = offset + 1
                    }
                }
                parts.append(body.getSlice(at: body.readerIndex + start, length: bytes.count - start)!)
                return parts
            }
        }

        /// The tag of a kept answer: its address and the catalog's generation decide its bytes,
        /// and so does this binary (a salt drawn at start: an upgrade that writes answers
        /// differently must not be told "not modified").
        static func answerTag(key: String, generation: String) -> String {
            Hex.encode(SHA256.hash(data: Data("\(answerSalt)\n\(generation)\n\(key)".utf8)).prefix(12))
        }

        private static let answerSalt = UInt64.random(in: .min ... .max)

        /// The page for one visitor: their token in its forms. A `shared` page (the same for every
        /// signed-out visitor) gets an ETag that covers the token and may be kept by anyone; a
        /// signed-in visitor's page goes out as rendered (`no-store`).
        func response(csrfToken: String, ifNoneMatch: String?, shared: Bool = true) -> Response {
            var headers = self.headers
            if shared {
                let tag: String
                if parts.count > 1 {
                    let token = Hex.encode(SHA256.hash(data: Data(csrfToken.utf8)).prefix(4))
                    tag = "\"\(etag)-\(token)\""
                } else {
                    tag = "\"\(etag)\""
                }
                headers[.eTag] = tag
                // Anyone may keep it, but must ask again each time (a 304 costs no rendering).
                headers[.cacheControl] = "public, no-cache"
                if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: {
                    $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == tag
                }) {
                    return Response(status: .notModified, headers: headers)
                }
            }
            // A page without a form is sent as kept (a ByteBuffer is shared, not copied).
            guard parts.count > 1 else {
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: parts.first ?? ByteBuffer()))
            }
            var body = ByteBuffer()
            body.reserveCapacity(parts.reduce(0) { $0 + $1.readableBytes } + (parts.count - 1) * csrfToken.utf8.count)
            for (index, part) in parts.enumerated() {
                if index > 0 { body.writeString(csrfToken) }
                body.writeImmutableBuffer(part)
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
    }

    func entry(_ key: String, generation: String) -> Entry? {
        withEntries(for: key) { entries in
            guard let entry = entries[key] else { return nil }
            if entry.generation == generation { return entry }
            entries.removeValue(forKey: key)
            return nil
        }
    }

    func store(_ key: String, _ entry: Entry) {
        withEntries(for: key) { $0.insert(entry, for: key, cost: entry.size + key.utf8.count) }
    }
}

/// A response body read into memory (a rendered page is one buffer already).
final class CollectedBody: Sendable {
    let buffer = Mutex(ByteBuffer())
}

struct CollectingWriter: ResponseBodyWriter {
    let into: CollectedBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        into.buffer.withLock { $0.writeImmutableBuffer(buffer) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
