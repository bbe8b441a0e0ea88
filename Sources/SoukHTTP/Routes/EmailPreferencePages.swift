import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukDelivery

/// The e-mail choices: the form on `/account` (`POST /account/email`) and the one-click
/// unsubscribe link of every notification e-mail (`GET /unsubscribe` shows a confirm button;
/// `POST /unsubscribe`, also what mail clients send for RFC 8058 one-click, turns that type off).
/// The unsubscribe routes need no session: the link's signature says who and what.
struct EmailPreferencePages: Sendable {
    let services: AppServices
    var links: UnsubscribeLinks { services.unsubscribeLinks }

    func register(on router: Router<SoukRequestContext>) {
        router.post("account/email", use: save)
        router.get("unsubscribe", use: confirm)
        router.post("unsubscribe", use: unsubscribe)
    }

    /// What the account page shows: the user's role's choices, each on or off.
    static func choices(for user: User, preferences: EmailPreferences) -> [[String: Any]] {
        NotificationType.emailChoices(for: user.role).map { type in
            ["type": type.rawValue, "label": type.label, "checked": preferences.wantsEmail(type)]
        }
    }

    struct ChoicesForm: Decodable {
        var email: [String]?
    }

    @Sendable func save(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let form = try await request.decodeForm(ChoicesForm.self, limit: services.maxBodyBytes)
        var wanted = Set<NotificationType>()
        for raw in form.email ?? [] {
            guard let type = NotificationType(rawValue: raw) else {
                throw SoukError.validation("email", "\(raw) is not a kind of e-mail this store sends.")
            }
            wanted.insert(type)
        }
        try await services.database.setEmailPreferences(
            userID: user.id, choices: NotificationType.emailChoices(for: user.role), wanted: wanted)
        return Pages.redirect(to: "/account?email=saved#email")
    }

    private func verified(_ request: Request) throws -> (userID: String, type: NotificationType) {
        let query = request.uri.queryParameters
        guard let link = links.verify(user: query.get("user"), type: query.get("type"), sig: query.get("sig")) else {
            throw SoukError(
                .forbidden,
                "This unsubscribe link is incomplete or was altered. Use the link from the e-mail as it is, "
                    + "or change your e-mail choices on your account page.")
        }
        return link
    }

    @Sendable func confirm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (userID, type) = try verified(request)
        guard let user = try await services.database.user(id: userID) else { throw SoukError.notFound("The account") }
        let muted = try await services.database.emailPreferences(userID: user.id).muted.contains(type)
        return services.pages.render(
            "unsubscribe", title: "Unsubscribe", context: context,
            [
                "label": type.label, "email": user.email, "done": muted,
                "action": "/unsubscribe?" + (request.uri.query ?? ""),
            ])
    }

    @Sendable func unsubscribe(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (userID, type) = try verified(request)
        guard let user = try await services.database.user(id: userID) else { throw SoukError.notFound("The account") }
        try await services.database.setEmailMuted(userID: user.id, type: type, muted: true)
        context.logger.info("e-mail type muted by unsubscribe link", metadata: ["user": "\(user.id)", "type": "\(type.rawValue)"])
        return services.pages.render(
            "unsubscribe", title: "Unsubscribed", context: context,
            ["label": type.label, "email": user.email, "done": true, "action": ""])
    }
}
