import Foundation
import Hummingbird
import ServiceLifecycle
import SoukCore
import SoukDatabase
import SoukDelivery

/// In-app notifications: `GET /api/v1/notifications[?unread=true]`,
/// `POST /api/v1/notifications/{id}/read`, and the `/notifications` page.
struct NotificationsAPI: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("api/v1/notifications", use: list)
        router.get("api/v1/notifications/stream", use: stream)
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

    /// Server-Sent Events: each new notification as `id: <seq>`, `event: notification`, `data: <JSON>`.
    /// With `Last-Event-ID` (sent by EventSource on reconnect) what was missed is replayed first;
    /// the hub subscription starts before the replay is read, and event ids already sent are
    /// skipped, so nothing is lost or repeated in between.
    @Sendable func stream(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        // Last-Event-ID (a reconnect) wins over `after` (where the page's bell count stopped);
        // both are checked whenever sent.
        var lastEventID: Int64?
        if let raw = request.headers[.init("Last-Event-ID")!] {
            guard let seq = Int64(raw.trimmingCharacters(in: .whitespaces)), seq >= 0 else {
                throw SoukError.validation("Last-Event-ID", "Last-Event-ID must be an event id this stream sent, not \(raw).")
            }
            lastEventID = seq
        }
        var after: Int64?
        if let raw = request.uri.queryParameters.get("after") {
            guard let seq = Int64(raw), seq >= 0 else {
                throw SoukError.validation("after", "after must be an event id (a whole number of 0 or more), not \(raw).")
            }
            after = seq
        }
        let resumeAfter = lastEventID ?? after
        let subscription: NotificationHub.Subscription
        do {
            subscription = try await services.notificationHub.subscribe(userID: user.id)
        } catch let error as NotificationHub.TooManyStreams {
            throw SoukError(
                .rateLimited,
                "You already have \(error.limit) live notification streams open; close a tab or device and try again.",
                retryAfterSeconds: 30)
        }
        let database = services.database
        let hub = services.notificationHub
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // Tells nginx not to buffer the stream.
        headers[.init("X-Accel-Buffering")!] = "no"
        let body = ResponseBody { writer in
            // However the stream ends (the client left: a write fails at the latest on the next
            // heartbeat), its place is given back.
            do {
                try await Self.pump(subscription, resumeAfter: resumeAfter, userID: user.id, database: database, to: &writer)
            } catch {
                await hub.end(subscription.id)
                throw error
            }
            await hub.end(subscription.id)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Writes the replay, then the live events, until the hub ends the subscription.
    static func pump(
        _ subscription: NotificationHub.Subscription, resumeAfter: Int64?, userID: String, database: AppDatabase,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var sent = resumeAfter ?? 0
        // The retry hint, and a first comment so proxies and clients see the stream is open.
        try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
        if let resumeAfter {
            var after = resumeAfter
            while true {
                let missed = try await database.notifications(userID: userID, after: after, limit: 500)
                for notification in missed { try await writer.write(ByteBuffer(string: Self.event(notification))) }
                guard let last = missed.last else { break }
                after = last.seq
                sent = max(sent, last.seq)
                if missed.count < 500 { break }
            }
        }
        // On SIGTERM the stream ends at once (the client reconnects to whichever server is up):
        // the server's graceful shutdown waits for open responses, so a stream must not wait for
        // the hub, which is told to stop only once the server is done.
        for await event in subscription.events.cancelOnGracefulShutdown() {
            switch event {
            case .heartbeat:
                try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
            case .notification(let notification):
                guard notification.seq > sent else { continue }
                sent = notification.seq
                try await writer.write(ByteBuffer(string: Self.event(notification)))
            }
        }
        try await writer.finish(nil)
    }

    /// One SSE event; the JSON is on one line, so no `data:` continuation is needed.
    static func event(_ notification: UserNotification) -> String {
        let json = (try? APIJSON.encode(Body(notification))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "id: \(notification.seq)\nevent: notification\ndata: \(json)\n\n"
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
                        "unread": item.readAt == nil, "created_at": DateViews.moment(item.createdAt),
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
