import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// The admin pages under `/admin`: accounts (disable/enable), sellers (verify, reject, suspend
/// with a reason the seller sees), reviews (hide/show), orders (refunds) and the job queue (dead
/// jobs, retry). Admins only: a signed-out visitor is sent to sign in, anyone else gets 403.
///
/// Every action is the operator's CLI action through the same service function
/// (`AccountService.setSellerStatus` / `setDisabled`, `ReviewService.setHidden`,
/// `RefundService.refund`, `JobQueue.retry`): a POST form with the CSRF token, then a redirect
/// back to the list with a notice, or the list again with the error and nothing changed.
/// `/admin/webhooks` lists the sellers' endpoints that are failing or were turned off for
/// failing (`WebhookEndpointService.failing`), so the operator can tell a seller before they notice.
struct AdminPages: Sendable {
    let services: AppServices
    var pages: Pages { services.pages }

    /// Small pages: every list reads at most this many rows (plus one, to know there is more).
    static let pageSize = 25

    func register(on router: Router<SoukRequestContext>) {
        router.get("admin", use: overview)
        router.get("admin/users", use: users)
        router.post("admin/users/:id/disabled", use: setDisabled)
        router.get("admin/sellers", use: sellers)
        router.post("admin/sellers/:id/status", use: setSellerStatus)
        router.get("admin/reviews", use: reviews)
        router.post("admin/reviews/:id/hidden", use: setReviewHidden)
        router.get("admin/orders", use: orders)
        router.post("admin/orders/:id/refund", use: refund)
        router.get("admin/jobs", use: jobs)
        router.post("admin/jobs/:id/retry", use: retryJob)
        router.get("admin/webhooks", use: webhooks)
    }

    /// For a page (GET): a signed-out visitor is sent to sign in and brought back; a signed-in
    /// non-admin gets 403 from `require`.
    private func requireAdminPage(_ request: Request, _ context: SoukRequestContext) throws -> User? {
        guard context.identity != nil else { return nil }
        return try context.require(.admin)
    }

    private func signIn(_ request: Request) -> Response {
        // The path matched one of the routes above, so it is a plain local path.
        Pages.redirect(to: "/signin?next=\(request.uri.path)")
    }

    // MARK: Overview

    @Sendable func overview(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let _ = try requireAdminPage(request, context) else { return signIn(request) }
        let sellers = try await services.database.sellerCounts()
        let reviews = try await services.database.reviewCounts()
        let jobs = try await JobQueue(database: services.database).counts()
        return pages.render(
            "admin", title: "Admin", context: context,
            [
                "admin_section": ["overview": true],
                "pending_sellers": sellers[.pending] ?? 0,
                "verified_sellers": sellers[.verified] ?? 0,
                "reviews_total": reviews.total, "reviews_hidden": reviews.hidden,
                "jobs_dead": jobs[.dead] ?? 0, "jobs_queued": jobs[.queued] ?? 0, "jobs_running": jobs[.running] ?? 0,
            ])
    }

    // MARK: Users

    @Sendable func users(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let admin = try requireAdminPage(request, context) else { return signIn(request) }
        var notice: String?
        if let id = request.formQuery["changed"], let user = try await services.database.user(id: id) {
            notice = "\(user.email) is now \(user.disabled ? "disabled: every session and token of theirs has ended" : "enabled")."
        }
        return try await usersPage(request.formQuery, admin: admin, context: context, notice: notice)
    }

    private func usersPage(
        _ query: [String: String], admin: User, context: SoukRequestContext, notice: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let text = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
        let role = query["role"].flatMap(Role.init(rawValue:))
        let page = Self.page(query)
        let found = try await services.accounts.users(
            emailContains: text.isEmpty ? nil : String(text.prefix(254)), role: role, limit: Self.pageSize + 1,
            offset: (page - 1) * Self.pageSize)
        let filter = [("q", text), ("role", role?.rawValue ?? "")]
        return pages.render(
            "admin_users", title: "Users", status: status, context: context,
            [
                "admin_section": ["users": true],
                "q": text,
                "role_options": ([""] + Role.allCases.map(\.rawValue)).map { value -> [String: Any] in
                    ["value": value, "label": value.isEmpty ? "any role" : value, "selected": value == (role?.rawValue ?? "")]
                },
                "users": found.prefix(Self.pageSize).map { user -> [String: Any] in
                    [
                        "id": user.id, "email": user.email, "name": user.name, "role": user.role.rawValue,
                        "seller_status": user.sellerStatus?.rawValue ?? "", "disabled": user.disabled,
                        "created_at": DateViews.day(user.createdAt), "is_self": user.id == admin.id,
                    ]
                },
                "has_users": !found.isEmpty,
                "paging": Self.paging("/admin/users", filter, page: page, hasMore: found.count > Self.pageSize),
                "notice": notice as Any, "error": error as Any,
            ])
    }

    struct DisabledForm: Decodable {
        var disabled: String?
    }

    @Sendable func setDisabled(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let id = try context.decodedParameter("id")
        let form = try await request.decodeForm(DisabledForm.self, limit: services.maxBodyBytes)
        guard let disabled = form.disabled.flatMap(Self.bool) else {
            throw SoukError.validation("disabled", "Choose to disable or enable the account.")
        }
        do {
            let user = try await services.accounts.setDisabled(.id(id), disabled, by: admin)
            context.logger.info(
                "account \(disabled ? "disabled" : "enabled") by an admin", metadata: ["user": "\(user.id)", "admin": "\(admin.id)"])
            return Pages.redirect(
                to: "/admin/users?" + StoreViews.queryString([("q", user.email), ("changed", user.id)]))
        } catch let error as SoukError where error.code == .forbidden || error.code == .validationFailed {
            return try await usersPage(
                [:], admin: admin, context: context, error: error.detail, status: ProblemMapping.status(for: error.code))
        }
    }

    // MARK: Sellers

    @Sendable func sellers(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let _ = try requireAdminPage(request, context) else { return signIn(request) }
        let query = request.formQuery
        var notice: String?
        if let id = query["changed"], let user = try await services.database.user(id: id), let status = user.sellerStatus {
            notice = "\(user.email) is now \(status.rawValue)." + (user.sellerStatusReason.map { " They see the reason: \($0)" } ?? "")
        }
        return try await sellersPage(query, context: context, notice: notice)
    }

    private func sellersPage(
        _ query: [String: String], context: SoukRequestContext, notice: String? = nil, error: String? = nil,
        failedSellerID: String? = nil, typedReason: String? = nil, status httpStatus: HTTPResponse.Status = .ok
    ) async throws -> Response {
        // Pending sellers first: they are the ones waiting for a decision.
        let status = query["status"].flatMap(SellerStatus.init(rawValue:)) ?? .pending
        let page = Self.page(query)
        let counts = try await services.database.sellerCounts()
        let found = try await services.accounts.sellers(
            status: status, limit: Self.pageSize + 1, offset: (page - 1) * Self.pageSize)
        return pages.render(
            "admin_sellers", title: "Sellers", status: httpStatus, context: context,
            [
                "admin_section": ["sellers": true],
                "status": status.rawValue,
                "tabs": SellerStatus.allCases.map { tab -> [String: Any] in
                    [
                        "status": tab.rawValue, "count": counts[tab] ?? 0, "current": tab == status,
                        "url": "/admin/sellers?status=\(tab.rawValue)",
                    ]
                },
                "sellers": found.prefix(Self.pageSize).map { seller -> [String: Any] in
                    let failed = seller.id == failedSellerID
                    return [
                        "id": seller.id, "email": seller.email, "name": seller.name,
                        "created_at": DateViews.day(seller.createdAt), "reason": seller.sellerStatusReason as Any,
                        "disabled": seller.disabled,
                        "can_verify": status != .verified, "can_reject": status == .pending,
                        "can_suspend": status == .verified,
                        // Optionals, not "": an empty string still opens a Mustache section.
                        "typed_reason": (failed ? typedReason : nil) as Any,
                        "row_error": (failed ? error : nil) as Any,
                    ]
                },
                "has_sellers": !found.isEmpty,
                "paging": Self.paging(
                    "/admin/sellers", [("status", status.rawValue)], page: page, hasMore: found.count > Self.pageSize),
                "notice": notice as Any,
                // The error shows beside its seller; on top only if that seller is not on this page.
                "error": (found.prefix(Self.pageSize).contains { $0.id == failedSellerID } ? nil : error) as Any,
            ])
    }

    struct SellerStatusForm: Decodable {
        var status: String?
        var reason: String?
    }

    @Sendable func setSellerStatus(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let id = try context.decodedParameter("id")
        let form = try await request.decodeForm(SellerStatusForm.self, limit: services.maxBodyBytes)
        guard let status = form.status.flatMap(SellerStatus.init(rawValue:)), status != .pending else {
            throw SoukError.validation("status", "Choose verified, rejected or suspended.")
        }
        let before = try await services.database.user(id: id)
        do {
            let seller = try await services.accounts.setSellerStatus(.id(id), status, reason: form.reason, requireReason: true)
            context.logger.info(
                "seller status set by an admin",
                metadata: ["seller": "\(seller.id)", "status": "\(status.rawValue)", "admin": "\(admin.id)"])
            return Pages.redirect(
                to: "/admin/sellers?" + StoreViews.queryString([("status", status.rawValue), ("changed", seller.id)]))
        } catch let error as SoukError where error.code == .validationFailed {
            // Back to the list the form came from, the error beside the seller, what was typed kept.
            return try await sellersPage(
                ["status": before?.sellerStatus?.rawValue ?? SellerStatus.pending.rawValue], context: context,
                error: error.detail, failedSellerID: id, typedReason: form.reason,
                status: ProblemMapping.status(for: error.code))
        }
    }

    // MARK: Reviews

    @Sendable func reviews(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let admin = try requireAdminPage(request, context) else { return signIn(request) }
        let query = request.formQuery
        let position = Self.position(query)
        // One more than a page, to know whether there is another past it.
        let (found, applied) = try await services.reviews.moderationQueue(from: position, limit: Self.pageSize + 1, by: admin)
        let page = PositionedPage(found, from: applied, size: Self.pageSize)
        let (shown, older, newer) = (page.items, page.hasOlder, page.hasNewer)
        // Where the hide and show buttons bring the admin back: this page.
        let here = applied.map { Self.positionQuery($0) } ?? ""
        var notice: String?
        if let id = query["changed"], let review = try await services.database.review(id: id) {
            notice = "The review by \(review.authorName) is now \(review.hiddenAt == nil ? "shown" : "hidden"); the product's rating is recomputed."
        }
        // At most a page of distinct products, read together.
        let products = try await services.database.productsIncludingDeleted(ids: Set(shown.map(\.productID)))
        return pages.render(
            "admin_reviews", title: "Reviews", context: context,
            [
                "admin_section": ["reviews": true],
                "reviews": shown.map { review -> [String: Any] in
                    let product = products[review.productID]
                    return [
                        "id": review.id, "product_id": review.productID,
                        "product_title": product?.title ?? review.productID,
                        "product_url": product.map(StoreViews.productURL) as Any,
                        "author": review.authorName, "rating": review.rating, "title": review.title as Any,
                        "body": String(review.body.prefix(300)), "created_at": DateViews.moment(review.createdAt),
                        "state": review.withdrawnAt != nil ? "withdrawn" : (review.hiddenAt != nil ? "hidden" : "visible"),
                        "is_hidden": review.hiddenAt != nil, "position": here,
                    ]
                },
                "has_reviews": !shown.isEmpty,
                "paging": [
                    "shown": older || newer,
                    "previous_url": (newer ? shown.first : nil).map { "/admin/reviews?" + Self.positionQuery(.newerThan(id: $0.id)) } as Any,
                    "next_url": (older ? shown.last : nil).map { "/admin/reviews?" + Self.positionQuery(.olderThan(id: $0.id)) } as Any,
                ],
                "notice": notice as Any,
            ])
    }

    struct ReviewHiddenForm: Decodable {
        var hidden: String?
        var productID: String?
        /// The page the button was on (`older=…` or `newer=…`; empty: the newest).
        var position: String?

        enum CodingKeys: String, CodingKey {
            case hidden, position
            case productID = "product_id"
        }
    }

    /// The page of a list newest first that `query` asks for (`?older=<id>` or `?newer=<id>`).
    static func position(_ query: [String: String]) -> AppDatabase.ListPosition? {
        AppDatabase.ListPosition.asked(older: query["older"], newer: query["newer"])
    }

    static func positionQuery(_ position: AppDatabase.ListPosition) -> String {
        switch position {
        case .olderThan(let id): "older=\(StoreViews.pathComponent(id))"
        case .newerThan(let id): "newer=\(StoreViews.pathComponent(id))"
        }
    }

    @Sendable func setReviewHidden(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let id = try context.decodedParameter("id")
        let form = try await request.decodeForm(ReviewHiddenForm.self, limit: services.maxBodyBytes)
        guard let hidden = form.hidden.flatMap(Self.bool) else {
            throw SoukError.validation("hidden", "Choose to hide or show the review.")
        }
        let review = try await services.reviews.setHidden(
            productID: form.productID ?? "", reviewID: id, hidden, by: admin)
        context.logger.info(
            "review \(hidden ? "hidden" : "shown") by an admin", metadata: ["review": "\(review.id)", "admin": "\(admin.id)"])
        // The page it was on, as the form said (parsed, so only a position goes back into the address).
        let fields = Dictionary(
            (form.position ?? "").split(separator: "&").compactMap { pair -> (String, String)? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1]).removingPercentEncoding ?? "") : nil
            }, uniquingKeysWith: { first, _ in first })
        let back = Self.position(fields).map { Self.positionQuery($0) + "&" } ?? ""
        return Pages.redirect(to: "/admin/reviews?\(back)changed=\(StoreViews.pathComponent(review.id))#review-\(review.id)")
    }

    // MARK: Orders

    @Sendable func orders(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let _ = try requireAdminPage(request, context) else { return signIn(request) }
        let query = request.formQuery
        return try await ordersPage(
            query, context: context, notice: query["refunded"].map { "Order \($0) was refunded through its provider." })
    }

    private func ordersPage(
        _ query: [String: String], context: SoukRequestContext, notice: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let cursor = query["after"].flatMap { $0.isEmpty ? nil : $0 }
        let found = try await services.database.orders(.all, limit: Self.pageSize + 1, after: cursor)
        let shown = found.prefix(Self.pageSize)
        var values: [String: Any] = [
            "admin_section": ["orders": true],
            "orders": shown.map { order -> [String: Any] in
                var values = OrderViews.summary(order, viewer: .full, pageURL: "/orders/\(order.id)")
                values["can_refund"] = order.refundableAmount > 0
                values["refundable_label"] = MoneyFormat.major(order.refundableAmount, currency: order.currency)
                return values
            },
            "has_orders": !shown.isEmpty,
            "notice": notice as Any, "error": error as Any,
        ]
        if found.count > Self.pageSize, let last = shown.last {
            values["next_url"] = "/admin/orders?after=\(StoreViews.pathComponent(last.id))"
        }
        if cursor != nil { values["first_url"] = "/admin/orders" }
        return pages.render("admin_orders", title: "Orders", status: status, context: context, values)
    }

    @Sendable func refund(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let id = try context.decodedParameter("id")
        let form = try await request.decodeForm(DashboardSales.RefundForm.self, limit: services.maxBodyBytes)
        guard let order = try await services.database.order(id: id) else { throw SoukError.notFound("The order \(id)") }
        do {
            let amount = try form.minorAmount(currency: order.currency)
            _ = try await services.refunds.refund(orderID: id, amount: amount, reason: form.reason, by: .user(admin))
            return Pages.redirect(to: "/admin/orders?refunded=\(StoreViews.pathComponent(id))")
        } catch let error as SoukError where error.code != .internalError && error.code != .notFound {
            return try await ordersPage(
                [:], context: context, error: "Order \(id): \(error.detail)", status: ProblemMapping.status(for: error.code))
        }
    }

    // MARK: Jobs

    @Sendable func jobs(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let _ = try requireAdminPage(request, context) else { return signIn(request) }
        let query = request.formQuery
        return try await jobsPage(
            query, context: context, notice: query["retried"].map { "Job \($0) is queued to run now, its attempts reset." })
    }

    private func jobsPage(
        _ query: [String: String], context: SoukRequestContext, notice: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let queue = JobQueue(database: services.database)
        let page = Self.page(query)
        let counts = try await queue.counts()
        let dead = try await queue.jobs(state: .dead, limit: Self.pageSize + 1, offset: (page - 1) * Self.pageSize)
        return pages.render(
            "admin_jobs", title: "Jobs", status: status, context: context,
            [
                "admin_section": ["jobs": true],
                "counts": JobState.allCases.map { ["state": $0.rawValue, "count": counts[$0] ?? 0] },
                "jobs": dead.prefix(Self.pageSize).map { job -> [String: Any] in
                    [
                        "id": job.id, "kind": job.kind, "attempts": job.attempts, "max_attempts": job.maxAttempts,
                        "last_error": job.lastError as Any, "updated_at": DateViews.moment(job.updatedAt),
                    ]
                },
                "has_jobs": !dead.isEmpty,
                "paging": Self.paging("/admin/jobs", [], page: page, hasMore: dead.count > Self.pageSize),
                "notice": notice as Any, "error": error as Any,
            ])
    }

    // MARK: Webhooks

    @Sendable func webhooks(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let admin = try requireAdminPage(request, context) else { return signIn(request) }
        let page = Self.page(request.formQuery)
        let failing = try await services.webhooks.failing(
            for: admin, limit: Self.pageSize + 1, offset: (page - 1) * Self.pageSize)
        return pages.render(
            "admin_webhooks", title: "Failing webhooks", context: context,
            [
                "admin_section": ["webhooks": true],
                "endpoints": failing.prefix(Self.pageSize).map { item -> [String: Any] in
                    let endpoint = item.endpoint
                    return [
                        "id": endpoint.id, "url": endpoint.url, "seller_email": item.sellerEmail,
                        "state": endpoint.enabled ? "failing" : "turned off",
                        "failing_since": endpoint.failingSince.map(DateViews.moment) as Any,
                        "disabled_reason": endpoint.disabledReason ?? "",
                        "last_status": item.lastStatusCode.map { "HTTP \($0)" } ?? "no answer",
                        "last_error": item.lastError ?? "",
                        "last_attempt_at": item.lastAttemptAt.map(DateViews.moment) as Any,
                    ]
                },
                "has_endpoints": !failing.isEmpty,
                "paging": Self.paging("/admin/webhooks", [], page: page, hasMore: failing.count > Self.pageSize),
            ])
    }

    @Sendable func retryJob(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let id = try context.decodedParameter("id")
        do {
            let job = try await JobQueue(database: services.database).retry(id: id)
            context.logger.info("job retried by an admin", metadata: ["job": "\(job.id)", "admin": "\(admin.id)"])
            return Pages.redirect(to: "/admin/jobs?retried=\(StoreViews.pathComponent(job.id))")
        } catch let error as SoukError where error.code == .conflict {
            return try await jobsPage(
                [:], context: context, error: error.detail, status: ProblemMapping.status(for: error.code))
        }
    }

    // MARK: Helpers

    /// The 1-based page number from `?page=`; anything else is the first page.
    static func page(_ query: [String: String]) -> Int {
        guard let raw = query["page"], let page = Int(raw), page >= 1 else { return 1 }
        return min(page, 100_000)
    }

    /// Previous/next links that keep the list's filters.
    static func paging(_ path: String, _ filter: [(String, String)], page: Int, hasMore: Bool) -> [String: Any] {
        func url(_ page: Int) -> String {
            let query = StoreViews.queryString(filter + [("page", page == 1 ? "" : String(page))])
            return query.isEmpty ? path : "\(path)?\(query)"
        }
        var values: [String: Any] = ["page": page, "numbered": true]
        if page > 1 { values["previous_url"] = url(page - 1) }
        if hasMore { values["next_url"] = url(page + 1) }
        values["shown"] = page > 1 || hasMore
        return values
    }

    /// A form's yes/no value ("true"/"false", as the buttons send it).
    static func bool(_ raw: String) -> Bool? {
        switch raw {
        case "true": true
        case "false": false
        default: nil
        }
    }
}
