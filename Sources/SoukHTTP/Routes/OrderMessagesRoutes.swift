import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// Messages about an order between its buyer and its sellers: `GET/POST /api/v1/orders/{id}/messages`
/// and the thread's form on `/orders/{id}` (`POST /orders/{id}/messages`). Anyone else is told the
/// order does not exist. An admin may read a thread (a dispute may need it); each reading is
/// written to the admin audit trail and the log.
struct OrderMessagesRoutes: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("api/v1/orders/:id/messages", use: list)
        router.post("api/v1/orders/:id/messages", use: post)
        router.post("orders/:id/messages", use: postForm)
    }

    struct MessageBody: Encodable, Sendable {
        struct Author: Encodable, Sendable {
            var id: String
            var name: String
            var role: String
        }
        var id: String
        var orderID: String
        var author: Author
        var body: String
        var createdAt: String

        init(_ message: OrderMessage) {
            id = message.id
            orderID = message.orderID
            author = Author(id: message.authorID, name: message.authorName, role: message.authorRole.rawValue)
            body = message.body
            createdAt = Timestamp.rfc3339(message.createdAt)
        }
    }

    struct PostBody: Decodable {
        var body: String?
    }

    /// The order and the caller's part in it (nil for an admin who is not a party).
    private func party(_ id: String, _ context: SoukRequestContext) async throws -> (Order, User, OrderMessage.AuthorRole?) {
        let user = try context.require(.signedIn)
        let (order, _) = try OrderViewer.require(try await services.database.order(id: id), id: id, user: user)
        let role = OrderMessageRules.role(of: user, in: order)
        guard role != nil || user.role == .admin else { throw SoukError.notFound("The order \(id)") }
        return (order, user, role)
    }

    /// The thread as the caller may read it; an admin's reading is audited.
    static func thread(of order: Order, for user: User, role: OrderMessage.AuthorRole?, _ services: AppServices,
                       _ context: SoukRequestContext) async throws -> [OrderMessage]
    {
        if role == nil {
            try await services.database.recordAdminAudit(adminID: user.id, action: "order_messages.read", subjectID: order.id)
            context.logger.notice(
                "an admin read an order's messages", metadata: ["admin": "\(user.id)", "order": "\(order.id)"])
        }
        return try await services.database.orderMessages(orderID: order.id)
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (order, user, role) = try await party(try context.parameters.require("id"), context)
        let messages = try await Self.thread(of: order, for: user, role: role, services, context)
        return try JSONResponse(body: ListBody(data: messages.map(MessageBody.init), nextCursor: nil))
            .response(from: request, context: context)
    }

    private func write(_ raw: String?, orderID: String, _ context: SoukRequestContext) async throws -> OrderMessage {
        let (order, user, role) = try await party(orderID, context)
        guard let role else {
            throw SoukError(.forbidden, "Admins read an order's messages but do not write in them; contact the parties directly.")
        }
        let body = try OrderMessageRules.body(raw)
        let message = try await services.database.postOrderMessage(order, author: user, role: role, body: body)
        context.logger.info("order message posted", metadata: ["order": "\(order.id)", "message": "\(message.id)"])
        return message
    }

    @Sendable func post(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let input = try await request.decodeJSON(PostBody.self, limit: services.maxBodyBytes)
        let message = try await write(input.body, orderID: id, context)
        return try JSONResponse(status: .created, body: MessageBody(message)).response(from: request, context: context)
    }

    @Sendable func postForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let id = try context.decodedParameter("id")
        let input = try await request.decodeForm(PostBody.self, limit: services.maxBodyBytes)
        _ = try await write(input.body, orderID: id, context)
        return Pages.redirect(to: "/orders/\(id)#messages")
    }
}
