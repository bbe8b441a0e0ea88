import Foundation
import Hummingbird
import SoukCore

/// Renders HTML pages: the layout's shared values (store name, the signed-in user, the CSRF
/// token, test-mode banner) plus each page's own.
struct Pages: Sendable {
    let templates: Templates
    let settings: Settings

    func render(
        _ template: String, title: String, status: HTTPResponse.Status = .ok, context: SoukRequestContext,
        _ values: [String: Any] = [:]
    ) -> Response {
        var all = values
        all["page_title"] = title
        all["store_name"] = settings.store.name
        // "Moth Press" on the home page, "Sign in · Moth Press" elsewhere (never "Souk · Souk").
        all["full_title"] = title == settings.store.name ? title : "\(title) · \(settings.store.name)"
        all["csrf"] = context.csrfToken
        // Whenever a buyer could pick the test provider, every page says so.
        all["test_mode"] = settings.offersTestPayments
        all["marketplace"] = settings.store.marketplace
        if let user = context.identity?.user {
            let unread = context.unreadNotifications ?? 0
            all["current_user"] = [
                "name": user.name, "email": user.email, "is_seller": user.role != .buyer,
                "is_admin": user.role == .admin, "unread": unread,
                "has_unread": unread > 0, "bell_seq": context.bellSeq,
            ]
        }
        let html = templates.render(template, Self.withoutNils(all) as? [String: Any] ?? all)
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func error(_ error: SoukError, context: SoukRequestContext) -> Response {
        let status = ProblemMapping.status(for: error.code)
        var response = render(
            "error", title: ProblemMapping.title(for: error.code), status: status, context: context,
            [
                "status": Int(status.code), "title": ProblemMapping.title(for: error.code), "detail": error.detail,
                "request_id": context.id,
            ])
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// Template values with every `nil` optional removed, at any depth: an optional boxed in
    /// `Any` would otherwise render as the text "nil" instead of an absent section.
    static func withoutNils(_ value: Any) -> Any? {
        // The common cases first, by cast (which also unwraps an optional holding a value):
        // reflecting every value with `Mirror` was 13 % of rendering a dashboard.
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag
        case let number as Int: return number
        case let dictionary as [String: Any]: return dictionary.compactMapValues { withoutNils($0) }
        case let array as [Any]: return array.compactMap { withoutNils($0) }
        default: break
        }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutNils(wrapped)
        }
        return value
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// To the sign-in page, which comes back to `path` once signed in.
    static func signInFirst(returningTo path: String) -> Response {
        redirect(to: "/signin?next=" + StoreViews.pathComponent(path))
    }
}
