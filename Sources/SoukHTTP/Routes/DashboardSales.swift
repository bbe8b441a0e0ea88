import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// `/dashboard/sales`: the seller's orders (their own lines only), their balance per currency,
/// and a refund form on each order they alone sold.
struct DashboardSales: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("dashboard/sales", use: index)
        router.get("dashboard/customers", use: customers)
        router.post("dashboard/sales/:id/refund", use: refund)
    }

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.redirect(to: "/signin?next=/dashboard/sales") }
        let seller = try context.require(.verifiedSeller)
        let period = request.uri.queryParameters.get("by").flatMap { SalesStats.Period(rawValue: String($0)) } ?? .day
        return try await page(
            seller, context: context, period: period, older: request.uri.queryParameters.get("older"),
            notice: request.uri.queryParameters.get("refunded").map { "Order \($0) was refunded." })
    }

    /// The seller's most recent customers (the export's customers.csv has everyone).
    @Sendable func customers(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        let seller = try context.require(.verifiedSeller)
        let customers = try await services.database.customers(sellerID: seller.id, limit: Self.customersShown)
        return services.pages.render(
            "dashboard_customers", title: "Customers", context: context,
            [
                "customers": customers.map { customer -> [String: Any] in
                    [
                        "email": customer.email, "name": customer.name, "orders": customer.orders,
                        "spent_label": MoneyFormat.amount(customer.spent, currency: customer.currency),
                        "first_label": customer.firstPaidAt.formatted(Self.day),
                        "last_label": customer.lastPaidAt.formatted(Self.day),
                    ]
                },
                "has_rows": !customers.isEmpty, "count": customers.count, "limit": Self.customersShown,
                "capped": customers.count == Self.customersShown,
            ])
    }

    /// "2.5%": one decimal under 10%, whole percents above.
    static func percent(_ rate: Double) -> String {
        let value = rate * 100
        return value < 10 ? String(format: "%.1f%%", value) : "\(Int(value.rounded()))%"
    }

    static let customersShown = 200
    /// "Dec 6, 2026".
    static let day = Date.FormatStyle(date: .abbreviated, time: .omitted, locale: Locale(identifier: "en_US"), timeZone: .gmt)

    /// The chart and top products for the period, per currency sold in (the store's when none).
    private func numbers(_ seller: User, period: SalesStats.Period) async throws -> [String: Any] {
        let now = services.database.clock.now()
        let since = period.starts(endingAt: now).first ?? now
        let days = try await services.database.salesDays(sellerID: seller.id, since: since)
        let products = try await services.database.salesProducts(sellerID: seller.id, period: period, since: since)
        await services.productViews.flush()
        let views = try await services.database.productViews(sellerID: seller.id, sinceDay: ProductViewCounter.day(since))
        let conversion = SalesStats.conversion(products, views: views)
        let currencies = Set(days.map(\.currency)).sorted()
        let charts = (currencies.isEmpty ? [services.settings.store.currency] : currencies).map { currency -> [String: Any] in
            let buckets = SalesStats.series(days, currency: currency, period: period, now: now)
            let top = SalesStats.topProducts(products, currency: currency)
            return [
                "currency": currency, "svg": SalesChart.svg(buckets, currency: currency, period: period),
                "total_label": MoneyFormat.amount(buckets.reduce(0) { $0 + $1.revenue }, currency: currency),
                "orders": buckets.reduce(0) { $0 + $1.orders },
                "rows": buckets.reversed().filter { $0.orders > 0 }.map { bucket -> [String: Any] in
                    [
                        "label": SalesChart.label(bucket.start, period), "orders": bucket.orders,
                        "revenue_label": MoneyFormat.amount(bucket.revenue, currency: currency),
                    ]
                },
                "has_top": !top.isEmpty,
                "top": top.map { product -> [String: Any] in
                    [
                        "title": product.title, "sold": product.sold,
                        "revenue_label": MoneyFormat.amount(product.revenue, currency: currency),
                    ]
                },
            ]
        }
        return [
            "charts": charts,
            "periods": SalesStats.Period.allCases.map { candidate -> [String: Any] in
                ["name": candidate.rawValue, "url": "/dashboard/sales?by=\(candidate.rawValue)", "current": candidate == period]
            },
            "period_name": period.rawValue,
            "has_conversion": !conversion.isEmpty,
            "conversion": conversion.map { row -> [String: Any] in
                [
                    "title": row.title, "views": row.views, "orders": row.orders,
                    "rate_label": row.rate.map { Self.percent($0) } ?? "—",
                ]
            },
        ]
    }

    /// What a refused refund form held, shown again on its order's row.
    struct RefusedRefund {
        var orderID: String
        var form: RefundForm
    }

    /// Orders a page of the sales list shows; `?older=<order id>` pages back from that order.
    static let ordersShown = 25

    private func page(_ seller: User, context: SoukRequestContext, period: SalesStats.Period = .day, older: String? = nil,
                      notice: String? = nil, error: String? = nil, refused: RefusedRefund? = nil,
                      status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        // Sales only: a checkout that was never paid (awaiting, failed, expired) is not one.
        let fetched = try await services.database.orders(
            .seller(seller.id), statuses: OrderStatus.sold, limit: Self.ordersShown + 1, after: older)
        let orders = Array(fetched.prefix(Self.ordersShown))
        let balances = try await services.database.sellerBalances(sellerID: seller.id)
        var values = try await numbers(seller, period: period)
        values.merge(
            [
                "orders": orders.map { order -> [String: Any] in
                    var values = OrderViews.summary(order, viewer: .seller(seller.id), pageURL: "/orders/\(order.id)")
                    let soleSeller = order.sellerIDs == [seller.id]
                    values["can_refund"] = soleSeller && order.refundableAmount > 0
                    values["refundable_label"] = MoneyFormat.major(order.refundableAmount, currency: order.currency)
                    if let refused, refused.orderID == order.id {
                        values["typed_amount"] = refused.form.amount ?? ""
                        values["typed_reason"] = refused.form.reason ?? ""
                        values["refund_refused"] = true
                    }
                    values["share_label"] = MoneyFormat.amount(
                        order.items.filter { $0.sellerID == seller.id }.reduce(0) { $0 + $1.sellerAmount },
                        currency: order.currency)
                    return values
                },
                "has_orders": !orders.isEmpty,
                "older_url": (fetched.count > Self.ordersShown ? orders.last : nil).map {
                    "/dashboard/sales?by=\(period.rawValue)&older=\($0.id)#sales"
                } as Any,
                "newest_url": (older == nil ? nil : "/dashboard/sales?by=\(period.rawValue)#sales") as Any,
                "balances": balances.map { balance -> [String: Any] in
                    [
                        "currency": balance.currency,
                        "gross_label": MoneyFormat.amount(balance.gross, currency: balance.currency),
                        "fees_label": MoneyFormat.amount(balance.fees, currency: balance.currency),
                        "refunds_label": MoneyFormat.amount(balance.refunds, currency: balance.currency),
                        "owed_label": MoneyFormat.amount(balance.owed, currency: balance.currency),
                        "on_hold_label": MoneyFormat.amount(balance.onHold, currency: balance.currency),
                    ]
                },
                "notice": notice as Any, "error": error as Any,
            ]
        ) { $1 }
        return services.pages.render("dashboard_sales", title: "Sales", status: status, context: context, values)
    }

    /// The refund form, here and on `/admin/orders`.
    struct RefundForm: Decodable {
        /// Major units as typed ("5", "5.50"); empty: everything left.
        var amount: String?
        var reason: String?

        /// The amount in the order's minor units; nil (refund all that is left) when left empty.
        /// Throws `validationFailed` (field `amount`) for text that is not an amount.
        func minorAmount(currency: String) throws -> Int? {
            guard let typed = amount?.trimmingCharacters(in: .whitespaces), !typed.isEmpty else { return nil }
            guard let minor = MoneyFormat.minorUnits(typed, currency: currency) else {
                throw SoukError.validation("amount", "Enter an amount like 5 or 5.50.")
            }
            return minor
        }
    }

    @Sendable func refund(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let seller = try context.require(.verifiedSeller)
        let id = try context.decodedParameter("id")
        let form = try await request.decodeForm(RefundForm.self, limit: services.maxBodyBytes)
        guard let order = try await services.database.order(id: id), OrderViewer.of(order, user: seller) != nil else {
            throw SoukError.notFound("The order \(id)")
        }
        do {
            let amount = try form.minorAmount(currency: order.currency)
            _ = try await services.refunds.refund(orderID: id, amount: amount, reason: form.reason, by: .user(seller))
            return Pages.redirect(to: "/dashboard/sales?refunded=\(id)")
        } catch let error as SoukError where error.code != .internalError && error.code != .notFound {
            return try await page(
                seller, context: context, error: "Order \(id): \(error.detail)", refused: RefusedRefund(orderID: id, form: form),
                status: ProblemMapping.status(for: error.code))
        }
    }
}
