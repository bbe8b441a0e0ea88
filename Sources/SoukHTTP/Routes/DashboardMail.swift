import Foundation
import Hummingbird
import SoukCore
import SoukDelivery

/// `/dashboard/mail`: every e-mail the store sends, previewed for made-up people and orders,
/// through the templates the store runs with (the theme's where it has them).
struct DashboardMail: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("dashboard/mail", use: index)
        router.get("dashboard/mail/:kind", use: preview)
    }

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        _ = try context.require(.verifiedSeller)
        return services.pages.render(
            "dashboard_mail_index", title: "E-mails", context: context,
            ["mails": MailComposer.samples.map { ["kind": $0.kind, "title": $0.title, "template": "theme/\($0.template).mustache"] }])
    }

    /// `/dashboard/mail/receipt`: the page (subject, sender, plain text, the HTML in a frame);
    /// `/dashboard/mail/receipt.html`: the HTML part alone, for the frame.
    @Sendable func preview(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let requested = try context.decodedParameter("kind")
        let wantsHTML = requested.hasSuffix(".html")
        let kind = wantsHTML ? String(requested.dropLast(".html".count)) : requested
        guard context.identity != nil || wantsHTML else { return Pages.signInFirst(returningTo: request.uri.path) }
        _ = try context.require(.verifiedSeller)
        guard let entry = MailComposer.samples.first(where: { $0.kind == kind }),
            let message = services.mail.sample(kind, now: services.database.clock.now())
        else { throw SoukError.notFound("The e-mail preview \(kind)") }
        if wantsHTML { return Self.framed(message.html ?? "") }
        return services.pages.render(
            "dashboard_mail", title: entry.title, context: context,
            [
                "heading": entry.title, "kind": kind, "subject": message.subject, "from": message.from, "text": message.text,
                "theme_file": "theme/\(entry.template).mustache",
            ])
    }

    /// The e-mail's HTML for the preview frame: its own policy lets the inline styles apply and
    /// nothing run (a sandbox with no scripts, no forms, no requests but images).
    static func framed(_ html: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'self'; sandbox",
                .init("X-Frame-Options")!: "SAMEORIGIN",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
