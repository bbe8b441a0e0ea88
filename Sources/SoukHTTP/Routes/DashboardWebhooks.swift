import Foundation
import Hummingbird
import SoukCore
import SoukDelivery

/// The seller's webhooks in the dashboard, without JavaScript: `/dashboard/webhooks` (the list,
/// a create form with one checkbox per event, enable/disable, rotate, delete, send a test) and
/// `/dashboard/webhooks/{id}` (the delivery log with resend buttons). Every action is a
/// CSRF-checked POST form through `WebhookEndpointService`. A new secret is shown on the page
/// that answers the create or rotate form, never put in a URL or shown again.
struct DashboardWebhooks: Sendable {
    let services: AppServices
    var pages: Pages { services.pages }

    func register(on router: Router<SoukRequestContext>) {
        router.get("dashboard/webhooks", use: index)
        router.post("dashboard/webhooks", use: create)
        router.get("dashboard/webhooks/:id", use: show)
        router.post("dashboard/webhooks/:id/enable", use: enable)
        router.post("dashboard/webhooks/:id/disable", use: disable)
        router.post("dashboard/webhooks/:id/rotate", use: rotate)
        router.post("dashboard/webhooks/:id/delete", use: delete)
        router.post("dashboard/webhooks/:id/test", use: test)
        router.post("dashboard/webhooks/:id/messages/:msg_id/resend", use: resend)
    }

    static let eventLabels: [WebhookEventType: String] = [
        .orderPaid: "An order is paid", .orderRefunded: "An order is refunded (in part or whole)",
        .orderDisputed: "A payment is disputed", .licenseActivated: "A license key is activated",
        .licenseDeactivated: "A license key is deactivated", .reviewCreated: "A new review",
        .productUpdated: "A product is changed", .test: "Test event",
    ]

    // MARK: List and create

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.redirect(to: "/signin?next=/dashboard/webhooks") }
        let seller = try context.require(.verifiedSeller)
        var flash: String?
        switch request.formQuery["done"] {
        case "deleted": flash = "Endpoint deleted."
        case "enabled": flash = "Endpoint enabled."
        case "disabled": flash = "Endpoint disabled: nothing is sent to it until you enable it."
        case "test": flash = "Test event queued; its attempt shows in the endpoint's log."
        default: break
        }
        return try await listPage(seller, context: context, extra: ["flash": flash as Any])
    }

    private func listPage(
        _ seller: User, context: SoukRequestContext, status: HTTPResponse.Status = .ok, extra: [String: Any] = [:],
        checked: Set<String> = [WebhookEventType.orderPaid.rawValue], url: String = "", description: String = ""
    ) async throws -> Response {
        let endpoints = try await services.webhooks.list(for: seller)
        var values = extra
        values["endpoints"] = endpoints.map(Self.row)
        values["has_endpoints"] = !endpoints.isEmpty
        values["event_choices"] = WebhookEventType.subscribable.map { type -> [String: Any] in
            ["value": type.rawValue, "label": Self.eventLabels[type] ?? type.rawValue, "checked": checked.contains(type.rawValue)]
        }
        values["form_url"] = url
        values["form_description"] = description
        return pages.render("dashboard_webhooks", title: "Webhooks", status: status, context: context, values)
    }

    static func row(_ endpoint: WebhookEndpoint) -> [String: Any] {
        [
            "id": endpoint.id, "url": endpoint.url, "description": endpoint.description,
            "events": endpoint.events.map(\.rawValue).joined(separator: ", "), "enabled": endpoint.enabled,
            "disabled_reason": endpoint.disabledReason as Any, "log_url": "/dashboard/webhooks/\(endpoint.id)",
            "action_base": "/dashboard/webhooks/\(endpoint.id)",
        ]
    }

    /// The create form's fields; the event checkboxes repeat `events`, which the form decoder
    /// does not gather, so the body is read pair by pair.
    static func formFields(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count == 2 ? decode(parts[1]) : "")
        }
    }

    @Sendable func create(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let seller = try context.require(.verifiedSeller)
        let body = String(buffer: try await request.body.collect(upTo: services.maxBodyBytes))
        let fields = Self.formFields(body)
        let url = fields.first { $0.0 == "url" }?.1 ?? ""
        let description = fields.first { $0.0 == "description" }?.1 ?? ""
        let events = fields.filter { $0.0 == "events" || $0.0 == "events[]" }.map(\.1)
        do {
            let created = try await services.webhooks.create(url: url, events: events, description: description, by: seller)
            context.logger.info(
                "webhook endpoint created", metadata: ["endpoint": "\(created.endpoint.id)", "seller": "\(seller.id)"])
            return try await listPage(
                seller, context: context, status: .created,
                extra: ["new_secret": ["endpoint_url": created.endpoint.url, "secret": created.secret]])
        } catch let error as SoukError where error.code == .validationFailed || error.code == .conflict {
            return try await listPage(
                seller, context: context, status: ProblemMapping.status(for: error.code), extra: ["error": error.detail],
                checked: Set(events), url: url, description: description)
        }
    }

    // MARK: One endpoint

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        let user = try context.require(.sellerAction)
        let id = try context.decodedParameter("id")
        let endpoint = try await services.webhooks.endpoint(id, for: user)
        let attempts = try await services.webhooks.deliveries(id, for: user, after: nil, limit: 100)
        var flash: String?
        switch request.formQuery["done"] {
        case "resent": flash = "Queued again, with the same webhook-id."
        case "test": flash = "Test event queued."
        default: break
        }
        var values: [String: Any] = ["endpoint": Self.row(endpoint), "flash": flash as Any]
        values["attempts"] = attempts.map { attempt -> [String: Any] in
            [
                "message_id": attempt.messageID, "event_type": attempt.eventType, "attempt": attempt.attempt,
                "status_code": attempt.statusCode.map(String.init) ?? "—", "duration_ms": attempt.durationMilliseconds,
                "excerpt": attempt.responseExcerpt, "error": attempt.error as Any, "succeeded": attempt.succeeded,
                "created_at": DateViews.moment(attempt.createdAt),
                "resend_action": "/dashboard/webhooks/\(endpoint.id)/messages/\(attempt.messageID)/resend",
            ]
        }
        values["has_attempts"] = !attempts.isEmpty
        return pages.render("dashboard_webhook", title: "Webhook log", context: context, values)
    }

    @Sendable func enable(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try await setEnabled(true, request, context)
    }

    @Sendable func disable(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try await setEnabled(false, request, context)
    }

    private func setEnabled(_ enabled: Bool, _ request: Request, _ context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        _ = try await services.webhooks.update(try context.decodedParameter("id"), WebhookEndpointPatch(enabled: enabled), by: user)
        return Pages.redirect(to: "/dashboard/webhooks?done=\(enabled ? "enabled" : "disabled")")
    }

    @Sendable func rotate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let rotated = try await services.webhooks.rotateSecret(try context.decodedParameter("id"), by: user)
        context.logger.info("webhook secret rotated", metadata: ["endpoint": "\(rotated.endpoint.id)", "by": "\(user.id)"])
        return try await listPage(
            user, context: context,
            extra: [
                "new_secret": [
                    "endpoint_url": rotated.endpoint.url, "secret": rotated.secret, "rotated": true,
                    "old_until": rotated.endpoint.previousSecretExpiresAt.map(DateViews.moment) as Any,
                ]
            ])
    }

    @Sendable func delete(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        try await services.webhooks.delete(try context.decodedParameter("id"), by: user)
        return Pages.redirect(to: "/dashboard/webhooks?done=deleted")
    }

    @Sendable func test(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let id = try context.decodedParameter("id")
        _ = try await services.webhooks.sendTest(id, by: user)
        return Pages.redirect(to: "/dashboard/webhooks/\(id)?done=test")
    }

    @Sendable func resend(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let id = try context.decodedParameter("id")
        _ = try await services.webhooks.resend(try context.decodedParameter("msg_id"), endpoint: id, by: user)
        return Pages.redirect(to: "/dashboard/webhooks/\(id)?done=resent")
    }
}
