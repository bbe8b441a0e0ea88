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
        all["csrf"] = context.csrfToken
        all["test_mode"] = settings.payments.defaultProvider == "test"
        all["marketplace"] = settings.store.marketplace
        if let user = context.identity?.user {
            all["current_user"] = ["name": user.name, "email": user.email, "is_seller": user.role != .buyer]
        }
        let html = templates.render(template, all)
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

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
