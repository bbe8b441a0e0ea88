import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukOrders

/// `/orders` (the buyer's purchase history) and `/orders/{id}` (one order: for its buyer, its
/// sellers, admins, or anyone holding the order's view key from the checkout links).
struct OrderPages: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("orders", use: list)
        router.get("orders/:id", use: show)
        router.post("orders/:id/retry", use: retry)
    }

    struct RetryForm: Decodable {
        /// The order's view key, for a guest who opened the order from the checkout links.
        var key: String?
    }

    /// "Try again" after a declined or expired payment: the order's products go back into the
    /// buyer's cart (a pay-what-you-want one at the amount chosen before) and the buyer checks out
    /// anew — a new order, since the old one's payment is closed for good. For the order's buyer
    /// or a holder of its view key; a seller or admin who can see the order may not.
    @Sendable func retry(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let id = try context.decodedParameter("id")
        let form = try await request.decodeForm(RetryForm.self, limit: services.maxBodyBytes)
        let order = try await services.database.order(id: id)
        let holdsKey = form.key.map { services.orderLinks.isValidViewKey($0, for: id) } ?? false
        guard let order, holdsKey || context.identity?.user.id == order.buyerID else {
            throw SoukError.notFound("The order \(id)")
        }
        guard Self.retryable.contains(order.status) else {
            throw SoukError(
                .conflict, "Order \(order.id) is \(OrderViews.statusLabel(order.status).lowercased()): there is no payment to try again.")
        }
        let resolution = try await CartCookie(services: services).resolve(request, context, creating: true)
        do {
            for item in order.items {
                let product = try await services.catalog.visibleProduct(id: item.productID, to: context.identity?.user)
                _ = try await services.carts.add(
                    productID: product.id, quantity: item.quantity,
                    amount: product.price.minimum == nil ? nil : item.unitAmount, owner: resolution.owner!)
            }
        } catch let error as SoukError where [.notFound, .validationFailed, .conflict].contains(error.code) {
            var response = render(
                order, viewer: .full, heading: "Order \(order.displayNumber)", context: context,
                extra: ["retry_error": "\(error.detail) The rest of the order is in your cart.", "key": form.key as Any])
            response.status = .conflict
            if let cookie = resolution.cookie { response.setCookie(cookie) }
            return response
        }
        context.logger.info("payment retried: the order's products are back in the cart", metadata: ["order": "\(order.id)"])
        var response = Pages.redirect(to: "/cart?retry=\(order.id)")
        if let cookie = resolution.cookie { response.setCookie(cookie) }
        return response
    }

    static let retryable: Set<OrderStatus> = [.paymentFailed, .expired, .canceled]

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let user = context.identity?.user else { return Pages.redirect(to: "/signin?next=/orders") }
        let orders = try await services.database.orders(.buyer(user.id), limit: 100)
        return services.pages.render(
            "orders", title: "Your orders", context: context,
            [
                "orders": orders.map { OrderViews.summary($0, viewer: .full, pageURL: "/orders/\($0.id)") },
                "has_orders": !orders.isEmpty,
            ])
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let id = try context.decodedParameter("id")
        let (order, viewer) = try await OrderPages.visibleOrder(id, key: request.uri.queryParameters.get("key"), services, context)
        // The thread, for the order's parties (an admin opens it on purpose, through the API).
        var thread: [String: Any] = [:]
        if let user = context.identity?.user, OrderMessageRules.role(of: user, in: order) != nil {
            let messages = try await services.orderMessages.thread(of: order, reader: user)
            thread = [
                "messages_open": true, "has_messages": !messages.isEmpty,
                "messages": messages.map { message -> [String: Any] in
                    [
                        "author": message.authorName, "role": message.authorRole.rawValue, "body": message.body,
                        "created_at": DateViews.moment(message.createdAt), "mine": message.authorID == user.id,
                    ]
                },
            ]
        }
        var extra = thread
        let key = request.uri.queryParameters.get("key").map { String($0) }
        let holdsKey = key.map { services.orderLinks.isValidViewKey($0, for: order.id) } ?? false
        if Self.retryable.contains(order.status), holdsKey || context.identity?.user.id == order.buyerID {
            extra["can_retry"] = true
            if holdsKey { extra["key"] = key as Any }
        }
        return render(order, viewer: viewer, heading: "Order \(order.displayNumber)", context: context, extra: extra)
    }

    /// The order if the caller may see it: signed in as its buyer, seller or an admin, or with
    /// the order's view key (guests, from the checkout links). Otherwise 404.
    static func visibleOrder(_ id: String, key: String?, _ services: AppServices, _ context: SoukRequestContext)
        async throws -> (Order, OrderViewer)
    {
        let order = try await services.database.order(id: id)
        if let order, let key, services.orderLinks.isValidViewKey(key, for: order.id) { return (order, .full) }
        return try OrderViewer.require(order, id: id, user: context.identity?.user)
    }

    func render(
        _ order: Order, viewer: OrderViewer, heading: String, context: SoukRequestContext, thanks: Bool = false,
        extra: [String: Any] = [:]
    ) -> Response {
        var values = OrderViews.summary(order, viewer: viewer, pageURL: "/orders/\(order.id)")
        values.merge(extra) { $1 }
        values["heading"] = heading
        values["thanks"] = thanks
        // The success page waits for the provider's webhook: reload until the order moves.
        if order.status == .created && thanks { values["refresh_seconds"] = 2 }
        return services.pages.render("order", title: heading, context: context, values)
    }
}
