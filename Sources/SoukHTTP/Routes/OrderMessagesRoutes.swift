import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukOrders

/// Messages about an order between its buyer and its sellers: `GET/POST /api/v1/orders/{id}/messages`
/// and the thread's form on `/orders/{id}` (`POST /orders/{id}/messages`). Anyone else is told the
/// order does not exist. An admin may read a thread (`OrderMessageService` audits it).
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

    /// The order, if the caller may see it (its parties and admins; anyone else is told it does not exist).
    private func order(_ id: String, _ context: SoukRequestContext) async throws -> (Order, User) {
        let user = try context.require(.signedIn)
        let (order, _) = try OrderViewer.require(try await services.database.order(id: id), id: id, user: user)
        return (order, user)
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (order, user) = try await order(try context.parameters.require("id"), context)
        let messages = try await services.orderMessages.thread(of: order, reader: user)
        return try JSONResponse(body: ListBody(data: messages.map(MessageBody.init), nextCursor: nil))
            .response(from: request, context: context)
    }

    private func write(_ raw: String?, orderID: String, _ context: SoukRequestContext) async throws -> OrderMessage {
        let (order, user) = try await order(orderID, context)
        return try await services.orderMessages.post(in: order, author: user, body: raw)
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
