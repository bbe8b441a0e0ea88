import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukOrders

/// `/api/v1/orders`: buyers see their orders, sellers the orders with their lines (only those
/// lines), admins everything. Refunds by the seller of every line or an admin.
struct OrdersAPI: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.get("orders", use: list)
        api.get("orders/:id", use: show)
        api.post("orders/:id/refund", use: refund)
    }

    /// `?role=buyer|seller` picks the list for a user who is both (default: purchases for buyers,
    /// sales for sellers, everything for admins); `status` filters; `cursor` pages.
    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let query = request.uri.queryParameters
        let limit = try query.get("limit").map { raw -> Int in
            guard let value = Int(raw), (1...100).contains(value) else {
                throw SoukError.validation("limit", "limit must be an integer from 1 to 100.")
            }
            return value
        } ?? 50
        let status = try query.get("status").map { raw -> OrderStatus in
            guard let status = OrderStatus(rawValue: raw) else {
                throw SoukError.validation(
                    "status", "Unknown status '\(raw)'; use one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return status
        }
        let scope: AppDatabase.OrderScope
        switch query.get("role") {
        case "buyer": scope = .buyer(user.id)
        case "seller": scope = .seller(user.id)
        case nil: scope = user.role == .admin ? .all : user.role == .seller ? .seller(user.id) : .buyer(user.id)
        case let other?:
            throw SoukError.validation("role", "Unknown role '\(other)'; use buyer or seller.")
        }
        // Sales are a seller's to see only in good standing; purchases (`role=buyer`) stay open.
        if case .seller = scope { try context.require(.sellerAction) }
        let orders = try await services.database.orders(scope, status: status, limit: limit + 1, after: query.get("cursor"))
        let page = Array(orders.prefix(limit))
        let bodies = page.compactMap { order in OrderViewer.of(order, user: user).map { OrderBody(order, viewer: $0) } }
        return try JSONResponse(body: ListBody(data: bodies, nextCursor: orders.count > limit ? page.last?.id : nil))
            .response(from: request, context: context)
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let id = try context.parameters.require("id")
        let (order, viewer) = try OrderViewer.require(try await services.database.order(id: id), id: id, user: user)
        return try JSONResponse(body: OrderBody(order, viewer: viewer)).response(from: request, context: context)
    }

    struct RefundBody: Decodable {
        var amount: Int?
        var reason: String?
    }

    @Sendable func refund(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSON(RefundBody.self, limit: services.maxBodyBytes)
        // Someone who may not see the order is told it does not exist; a buyer or a seller who
        // may see it but not refund it gets 403 from the refund rules.
        _ = try OrderViewer.require(try await services.database.order(id: id), id: id, user: user)
        let order = try await services.refunds.refund(orderID: id, amount: body.amount, reason: body.reason, by: .user(user))
        return try JSONResponse(body: OrderBody(order, viewer: OrderViewer.of(order, user: user) ?? .full))
            .response(from: request, context: context)
    }
}
