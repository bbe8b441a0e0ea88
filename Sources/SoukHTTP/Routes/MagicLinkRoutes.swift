import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukDelivery

/// `/magic/{token}`: the sign-in links in receipts and notices. Opening the link shows a button;
/// pressing it (a POST, so that mail scanners which fetch links do not use it up) signs the
/// buyer in once, for at most a day (`SessionOrigin.link`), and goes to the library. Guests reach
/// their purchases this way. An admin account is never signed in by a link: the link is used up
/// all the same (a leaked admin link is dead) and the page says to sign in with the password.
struct MagicLinkRoutes: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("magic/:token", use: show)
        router.post("magic/:token", use: use)
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let token = try context.decodedParameter("token")
        guard Self.isWellFormed(token) else { throw Self.invalid }
        return services.pages.render("magic", title: "Sign in to your library", context: context, ["token": token])
    }

    @Sendable func use(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let token = try context.decodedParameter("token")
        guard Self.isWellFormed(token) else { throw Self.invalid }
        guard let (user, redirect) = try await services.database.consumeMagicLink(tokenHash: TokenDigest.hex(token)) else {
            throw try await services.database.isRevokedMagicLink(tokenHash: TokenDigest.hex(token)) ? Self.revoked : Self.invalid
        }
        let session: String
        do {
            session = try await services.accounts.startSession(
                for: user, via: .link, ip: services.clientAddress.ip(request, context), userAgent: request.headers[.userAgent])
        } catch let error as SoukError where error.code == .forbidden {
            context.logger.notice("sign-in link refused", metadata: ["user": "\(user.id)", "reason": "\(error.detail)"])
            return services.pages.render(
                "magic", title: "Sign in with your password", status: .forbidden, context: context,
                ["refused": error.detail])
        }
        context.logger.info("signed in with an e-mailed link", metadata: ["user": "\(user.id)"])
        var response = Pages.redirect(to: AccountPages.localPath(redirect) ?? "/library")
        response.setCookie(services.cookies.session(session, origin: .link))
        return response
    }

    static let invalid = SoukError(
        .notFound, "This sign-in link is unknown, already used or expired. Sign in with your password, or reset it.")

    static let revoked = SoukError(
        .forbidden,
        "This sign-in link was voided before it was used: the account's password was reset, the account was disabled, or it signed out everywhere. Sign in with your password.")

    static func isWellFormed(_ token: String) -> Bool {
        token.count == 43 && token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
