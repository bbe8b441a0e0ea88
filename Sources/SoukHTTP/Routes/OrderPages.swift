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
    }

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
                        "created_at": Timestamp.rfc3339(message.createdAt), "mine": message.authorID == user.id,
                    ]
                },
            ]
        }
        return render(order, viewer: viewer, heading: "Order \(order.id)", context: context, extra: thread)
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
