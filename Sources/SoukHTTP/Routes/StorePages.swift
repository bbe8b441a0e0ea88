import Foundation
import Hummingbird
import SoukCatalog
import SoukCore
import SoukDatabase

/// The public store, server-rendered: home, search, category and seller listings, product pages.
/// Only listed products appear (published, by a seller who may sell); a draft's page is shown to
/// its seller and admins only.
struct StorePages: Sendable {
    let services: AppServices
    var pages: Pages { services.pages }
    var database: AppDatabase { services.database }

    func register(on router: Router<SoukRequestContext>) {
        router.get("/", use: home)
        router.get("search", use: search)
        router.get("categories", use: allCategories)
        router.get("categories/:name", use: category)
        router.get("sellers/:id", use: seller)
        router.get("products/:slug", use: product)
        router.post("products/:slug/review", use: writeReview)
    }

    // MARK: Home

    @Sendable func home(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        var newest = ProductQuery()
        newest.sort = .newest
        newest.limit = 8
        var popular = ProductQuery()
        popular.sort = .popular
        popular.limit = 8
        let newestHits = try await database.search(newest).hits
        let bestSelling = try await database.search(popular).hits.filter { $0.product.salesCount > 0 }
        let categories = try await database.categories()
        var values: [String: Any] = [
            "categories": categories.prefix(Self.shownCategories).map(Self.categoryLink)
        ]
        if categories.count > Self.shownCategories { values["all_categories"] = ["count": categories.count] }
        let covers = try await database.covers(productIDs: (newestHits + bestSelling).map(\.product.id))
        if !newestHits.isEmpty {
            values["newest"] = ["products": newestHits.map { StoreViews.card($0.product, cover: covers[$0.product.id]) }]
        }
        if !bestSelling.isEmpty {
            values["best_selling"] = ["products": bestSelling.map { StoreViews.card($0.product, cover: covers[$0.product.id]) }]
        }
        return pages.render("home", title: services.settings.store.name, context: context, values)
    }

    // MARK: Search

    /// `GET /search`: the API's parameters (prices in minor units), plus `min` and `max` typed in
    /// major units by the form. Whatever is typed, the answer is a page: a parameter that does not
    /// parse is dropped with a note, never a 400.
    @Sendable func search(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        var parameters = request.formQuery
        var notices: [String] = []
        let currency = services.settings.store.currency
        for (field, apiName) in [("min", "min_price"), ("max", "max_price")] {
            guard let typed = parameters[field]?.trimmingCharacters(in: .whitespaces), !typed.isEmpty else { continue }
            if let minor = MoneyFormat.minorUnits(typed, currency: currency) {
                parameters[apiName] = String(minor)
            } else {
                notices.append("“\(typed)” is not an amount; the \(field == "min" ? "minimum" : "maximum") price was ignored.")
            }
        }
        let (results, query, more) = try await listing(parameters)
        notices += more
        // The largest categories only: sellers name categories freely, and a store with
        // thousands would otherwise send them all in every search page.
        let offered = try await database.categories().prefix(Self.offeredCategories)
        let facets = results.categoryFacets.sorted { ($0.value, $1.key) > ($1.value, $0.key) }

        let base = linkParameters(query)
        var values: [String: Any] = [
            "q": query.text ?? "",
            "min": query.minPrice.map { MoneyFormat.major($0, currency: currency) } ?? "",
            "max": query.maxPrice.map { MoneyFormat.major($0, currency: currency) } ?? "",
            "currency": currency,
            "free": query.freeOnly,
            "category_options": options(
                [("", "All categories")] + offered.map { ($0.name, "\($0.name) (\($0.count))") }
                    + (query.category.map { name in offered.contains { $0.name == name } ? [] : [(name, name)] } ?? []),
                selected: query.category ?? ""),
            "kind_options": options(
                [("", "Any kind")] + ProductKind.allCases.map { ($0.rawValue, $0.rawValue.capitalized) },
                selected: query.kind?.rawValue ?? ""),
            "rating_options": options(
                [("", "Any rating"), ("1", "1+ stars"), ("2", "2+ stars"), ("3", "3+ stars"), ("4", "4+ stars")],
                selected: query.minRating.map(ratingText) ?? ""),
            "sort_options": options(
                [
                    ("", "Best match"), ("newest", "Newest"), ("price_asc", "Price: low to high"),
                    ("price_desc", "Price: high to low"), ("rating", "Top rated"), ("popular", "Best-selling"),
                ], selected: query.sort?.rawValue ?? ""),
            "facets": facets.prefix(Self.shownCategories).map { name, count in
                [
                    "name": name, "count": count, "selected": name == query.category,
                    "url": "/search?" + StoreViews.queryString(base.filter { $0.0 != "category" } + [("category", name)]),
                ] as [String: Any]
            },
        ]
        if facets.count > Self.shownCategories { values["more_facets"] = ["count": facets.count - Self.shownCategories] }
        if query.category != nil {
            values["all_categories_url"] = "/search?" + StoreViews.queryString(base.filter { $0.0 != "category" })
        }
        try await addResults(results, base: base, path: "/search", to: &values)
        if !notices.isEmpty { values["notices"] = notices }
        let title = query.text.map { "Search: \($0)" } ?? "Search"
        return pages.render("search", title: title, context: context, values)
    }

    // MARK: Category and seller listings

    /// Categories the home page and a search's sidebar show (the largest first), and the
    /// search form's menu offers; every category is on `/categories`, a page at a time.
    static let shownCategories = 24
    static let offeredCategories = 50
    static let categoriesPerPage = 100

    static func categoryLink(_ category: (name: String, count: Int)) -> [String: Any] {
        ["name": category.name, "count": category.count, "url": StoreViews.categoryURL(category.name)]
    }

    /// Every category with listed products, the largest first, `categoriesPerPage` a page.
    @Sendable func allCategories(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let categories = try await database.categories()
        let pageCount = max(1, (categories.count + Self.categoriesPerPage - 1) / Self.categoriesPerPage)
        // A page past the end (or not a number) shows the nearest page rather than an error.
        let page = min(max(1, request.formQuery["page"].flatMap { Int($0) } ?? 1), pageCount)
        let shown = categories.dropFirst((page - 1) * Self.categoriesPerPage).prefix(Self.categoriesPerPage)
        var values: [String: Any] = ["categories": shown.map(Self.categoryLink), "count": categories.count]
        if page > 1 { values["previous_url"] = "/categories?page=\(page - 1)" }
        if page < pageCount { values["next_url"] = "/categories?page=\(page + 1)" }
        if pageCount > 1 { values["page_label"] = "Page \(page) of \(pageCount)" }
        return pages.render("categories", title: "Categories", context: context, values)
    }

    @Sendable func category(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let name = try context.decodedParameter("name")
        var parameters = request.formQuery.filter { ["sort", "cursor"].contains($0.key) }
        parameters["category"] = name
        let (results, query, _) = try await listing(parameters)
        guard !results.hits.isEmpty || query.cursor != nil else { throw SoukError.notFound("The category “\(name)”") }
        var values: [String: Any] = [
            "heading": name, "lead": "Products in this category.",
            "search_url": "/search?" + StoreViews.queryString([("category", name)]),
        ]
        try await addResults(results, base: linkParameters(query).filter { $0.0 == "sort" }, path: StoreViews.categoryURL(name), to: &values)
        return pages.render("listing", title: name, context: context, values)
    }

    @Sendable func seller(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let reference = try context.decodedParameter("id")
        guard let seller = try await database.seller(pageReference: reference), seller.canSell, !seller.disabled else {
            throw SoukError.notFound("The seller \(reference)")
        }
        // Cards link by id (it never changes); a seller who chose an address is shown at it.
        let path = SellerSlug.pagePath(for: seller)
        if reference != seller.slug && seller.slug != nil {
            let query = request.uri.query.map { "?" + $0 } ?? ""
            return Response(status: .movedPermanently, headers: [.location: path + query])
        }
        var parameters = request.formQuery.filter { ["sort", "cursor"].contains($0.key) }
        parameters["seller"] = seller.id
        let (results, query, _) = try await listing(parameters)
        var values: [String: Any] = [
            "heading": seller.name, "lead": "Products by \(seller.name).",
            "search_url": "/search?" + StoreViews.queryString([("seller", seller.id)]),
        ]
        try await addResults(
            results, base: linkParameters(query).filter { $0.0 == "sort" }, path: path,
            to: &values)
        return pages.render("listing", title: seller.name, context: context, values)
    }

    // MARK: Product page

    @Sendable func product(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = context.allowAnyone()
        let product = try await services.catalog.visibleProduct(slug: try context.decodedParameter("slug"), to: user)
        // A stale or hand-edited cursor shows the newest reviews rather than an error page.
        let cursor = request.uri.queryParameters.get("reviews_after")
        let reviews: ReviewService.Page
        do {
            reviews = try await services.reviews.list(productID: product.id, viewer: user, limit: 10, cursor: cursor)
        } catch let error as SoukError where error.code == .badRequest {
            reviews = try await services.reviews.list(productID: product.id, viewer: user, limit: 10)
        }
        // A view of a listed product by someone other than its seller or an admin, in a browser.
        let countsViews = product.status == .published && user?.id != product.sellerID && user?.role != .admin
        if countsViews, ProductViewCounter.counts(userAgent: request.headers[.userAgent]) {
            services.productViews.record(productID: product.id, at: database.clock.now())
        }
        var response = try await render(product, reviews: reviews, form: nil, context: context)
        // For the page caches: a kept copy of this page, for this viewer, still counts its views
        // (the header never leaves).
        if countsViews { response.headers[PageCacheMiddleware.productHeader] = product.id }
        return response
    }

    /// What a buyer typed into "Add to cart" and why it was refused: the product page shows it
    /// again with the message beside the form and the amount kept.
    struct RefusedCartForm {
        var amount: String?
        var quantity: String?
        var error: SoukError
    }

    /// The product page answering a refused "Add to cart" (422).
    func productPage(_ product: Product, refusedCart: RefusedCartForm, context: SoukRequestContext) async throws -> Response {
        let reviews = try await services.reviews.list(productID: product.id, viewer: context.identity?.user, limit: 10)
        var response = try await render(product, reviews: reviews, form: nil, refusedCart: refusedCart, context: context)
        response.status = .unprocessableContent
        return response
    }

    struct ReviewForm: Decodable {
        var rating: String?
        var title: String?
        var body: String?
    }

    /// The review form on the product page (a buyer holding the product): writes their review, or
    /// replaces it, and returns to it. A refused review shows the page again with the message
    /// beside the form and what was typed kept.
    @Sendable func writeReview(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let slug = try context.decodedParameter("slug")
        guard let user = context.identity?.user else {
            return Pages.redirect(to: "/signin?next=" + StoreViews.pathComponent("/products/\(slug)"))
        }
        let product = try await services.catalog.visibleProduct(slug: slug, to: user)
        let form = try await request.decodeForm(ReviewForm.self, limit: services.maxBodyBytes)
        do {
            guard let rating = form.rating.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw SoukError.validation("rating", "Choose a rating from 1 to 5 stars.")
            }
            let title = form.title?.trimmingCharacters(in: .whitespacesAndNewlines)
            let (review, created) = try await services.reviews.put(
                productID: product.id, ReviewInput(rating: rating, title: title?.isEmpty == false ? title : nil, body: form.body ?? ""),
                by: user)
            context.logger.info(
                "review \(created ? "created" : "replaced")", metadata: ["product": "\(product.id)", "review": "\(review.id)"])
            return Pages.redirect(to: "/products/\(StoreViews.pathComponent(product.slug))#review-\(review.id)")
        } catch let error as SoukError where error.code == .validationFailed {
            let reviews = try await services.reviews.list(productID: product.id, viewer: user, limit: 10)
            let typed = ReviewInput(rating: form.rating.flatMap { Int($0) } ?? 0, title: form.title, body: form.body ?? "")
            var response = try await render(
                product, reviews: reviews, form: (typed, error), context: context)
            response.status = .unprocessableContent
            return response
        }
    }

    private func render(
        _ product: Product, reviews: ReviewService.Page, form: (typed: ReviewInput, error: SoukError)?,
        refusedCart: RefusedCartForm? = nil, context: SoukRequestContext
    ) async throws -> Response {
        let user = context.identity?.user
        let files = try await database.currentFiles(productID: product.id)
        let privatePages = product.kind == .content ? try await database.pages(productID: product.id) : []
        let images = try await database.images(productID: product.id)
        var values: [String: Any] = [
            "cover": images.first.map { StoreViews.picture($0, sizes: "(max-width: 700px) 100vw, 640px") as Any } ?? false,
            "gallery": StoreViews.section(
                images.dropFirst().map { StoreViews.picture($0, sizes: "(max-width: 700px) 50vw, 200px", fallbackWidth: 320) }),
            "reviews": StoreViews.section(reviews.reviews.map(StoreViews.review)),
            "rating_distribution": StoreViews.section(StoreViews.distribution(reviews.summary)),
            "product": StoreViews.card(product),
            "description_html": product.descriptionHTML,
            "attributes": StoreViews.section(StoreViews.attributes(product.attributesJSON)),
            "tags": StoreViews.section(product.tags.map { ["name": $0, "url": "/search?" + StoreViews.queryString([("q", $0)])] }),
            "files": StoreViews.section(files.map(StoreViews.file)),
            "private_pages": StoreViews.section(privatePages.map { ["title": $0.title] }),
            "rating": product.ratingCount > 0 ? StoreViews.rating(product) : "No ratings yet",
            "is_owner": user?.id == product.sellerID,
        ]
        if let next = reviews.nextCursor {
            values["older_reviews_url"] =
                "/products/\(StoreViews.pathComponent(product.slug))?" + StoreViews.queryString([("reviews_after", next)])
                + "#product-reviews"
        }
        if let user, user.id != product.sellerID,
            try await database.hasActiveGrant(userID: user.id, productID: product.id)
        {
            let mine = try await database.review(productID: product.id, userID: user.id)
            values["review_form"] = StoreViews.reviewForm(
                action: "/products/\(StoreViews.pathComponent(product.slug))/review", existing: mine, typed: form?.typed,
                error: form?.error)
        }
        if let stock = product.stock { values["stock"] = stock == 0 ? "Sold out" : "\(stock) left" }
        if product.status != .published { values["unlisted_status"] = product.status.rawValue }
        if user?.id == product.sellerID { values["edit_url"] = "/dashboard/products/\(product.id)" }
        if product.status == .published && product.sellerListed && product.stock != 0 {
            let price = product.price
            var buy: [String: Any] = [
                "id": product.id, "currency": price.currency,
                // Several units only make sense where each unit delivers something (a license key).
                "quantity_allowed": product.kind == .license,
                "max_quantity": min(CartRules.maxQuantity, product.stock ?? CartRules.maxQuantity),
            ]
            if price.isPayWhatYouWant {
                buy["pay_what_you_want"] = true
                buy["minimum_label"] = MoneyFormat.amount(price.floor, currency: price.currency)
                buy["suggested"] = refusedCart?.amount ?? MoneyFormat.major(price.amount, currency: price.currency)
            }
            buy["quantity"] = refusedCart?.quantity ?? "1"
            if let refusedCart {
                buy["error"] = refusedCart.error.detail
                buy["amount_invalid"] = refusedCart.error.field == "amount"
                buy["quantity_invalid"] = refusedCart.error.field == "quantity"
            }
            values["buy"] = buy
        }
        return pages.render("product", title: product.title, context: context, values)
    }

    // MARK: Helpers

    /// Runs a listing query from page parameters. Invalid parameters are dropped (each with a note
    /// for the page) rather than failing: a shared or hand-edited link still shows products.
    private func listing(_ parameters: [String: String]) async throws -> (SearchResults, ProductQuery, [String]) {
        var parameters = parameters
        var notices: [String] = []
        var query = ProductQuery()
        for _ in 0..<12 {
            do {
                query = try ProductQuery(parameters: parameters)
                break
            } catch let error as SoukError where error.code == .badRequest {
                guard let field = error.field, parameters.removeValue(forKey: field) != nil else { break }
                notices.append(error.detail)
            }
        }
        do {
            return (try await database.search(query), query, notices)
        } catch let error as SoukError where error.code == .badRequest && query.cursor != nil {
            query.cursor = nil
            notices.append("That page link no longer fits this search; here is the first page.")
            return (try await database.search(query), query, notices)
        }
    }

    /// The query as link parameters (API names, minor units), for facet and next-page links.
    private func linkParameters(_ query: ProductQuery) -> [(String, String)] {
        [
            ("q", query.text ?? ""), ("category", query.category ?? ""), ("kind", query.kind?.rawValue ?? ""),
            ("min_price", query.minPrice.map(String.init) ?? ""), ("max_price", query.maxPrice.map(String.init) ?? ""),
            ("min_rating", query.minRating.map(ratingText) ?? ""), ("seller", query.sellerID ?? ""),
            ("free", query.freeOnly ? "true" : ""), ("sort", query.sort?.rawValue ?? ""),
        ]
    }

    private func addResults(
        _ results: SearchResults, base: [(String, String)], path: String, to values: inout [String: Any]
    ) async throws {
        let covers = try await database.covers(productIDs: results.hits.map(\.product.id))
        if !results.hits.isEmpty {
            values["products"] = results.hits.map {
                StoreViews.card($0.product, snippet: $0.snippet, cover: covers[$0.product.id])
            }
        }
        if let cursor = results.nextCursor {
            values["next_url"] = path + "?" + StoreViews.queryString(base + [("cursor", cursor)])
        }
    }

    private func ratingText(_ rating: Double) -> String {
        rating.rounded() == rating ? String(Int(rating)) : String(rating)
    }

    private func options(_ choices: [(String, String)], selected: String) -> [[String: Any]] {
        choices.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == selected] }
    }
}
