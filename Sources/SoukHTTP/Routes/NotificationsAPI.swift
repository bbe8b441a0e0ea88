import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// In-app notifications: `GET /api/v1/notifications[?unread=true]`,
/// `POST /api/v1/notifications/{id}/read`, and the `/notifications` page.
struct NotificationsAPI: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("api/v1/notifications", use: list)
        router.post("api/v1/notifications/:id/read", use: markRead)
        router.get("notifications", use: page)
        router.post("notifications/:id/read", use: markReadForm)
    }

    struct Body: Encodable, Sendable {
        var id: String
        var type: String
        var title: String
        var body: String
        @Nullable var url: String?
        var read: Bool
        var createdAt: String

        init(_ notification: UserNotification) {
            id = notification.id
            type = notification.type
            title = notification.title
            body = notification.body
            url = notification.url
            read = notification.readAt != nil
            createdAt = Timestamp.rfc3339(notification.createdAt)
        }
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let unread: Bool
        switch request.uri.queryParameters.get("unread") {
        case nil, "false": unread = false
        case "true": unread = true
        case let other?: throw SoukError.validation("unread", "unread must be true or false, not \(other).")
        }
        let items = try await services.database.notifications(userID: user.id, unreadOnly: unread, limit: 100)
        return try JSONResponse(body: ListBody(data: items.map(Body.init), nextCursor: nil)).response(from: request, context: context)
    }

    @Sendable func markRead(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let id = try context.parameters.require("id")
        guard let notification = try await services.database.markNotificationRead(id: id, userID: user.id) else {
            throw SoukError.notFound("The notification \(id)")
        }
        return try JSONResponse(body: Body(notification)).response(from: request, context: context)
    }

    @Sendable func page(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let user = context.identity?.user else { return Pages.redirect(to: "/signin?next=/notifications") }
        let items = try await services.database.notifications(userID: user.id, limit: 100)
        return services.pages.render(
            "notifications", title: "Notifications", context: context,
            [
                "notifications": items.map { item -> [String: Any] in
                    [
                        "id": item.id, "title": item.title, "body": item.body, "url": item.url as Any,
                        "unread": item.readAt == nil, "created_at": Timestamp.rfc3339(item.createdAt),
                    ]
                },
                "has_notifications": !items.isEmpty,
            ])
    }

    @Sendable func markReadForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let id = try context.decodedParameter("id")
        guard try await services.database.markNotificationRead(id: id, userID: user.id) != nil else {
            throw SoukError.notFound("The notification \(id)")
        }
        return Pages.redirect(to: "/notifications")
    }
}
