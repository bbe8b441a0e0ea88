import Foundation
import Hummingbird
import SoukAuth
import SoukCore

/// What a signed-in user changes on `/account`: name, password, e-mail address (confirmed by a
/// link to the new one), a copy of their data, and deleting the account. Every form that asks
/// for the current password counts a wrong one as a failed sign-in of the account.
extension AccountPages {
    func registerChanges(on router: Router<SoukRequestContext>) {
        router.post("account/name", use: changeName)
        router.post("account/password", use: changePassword)
        router.post("account/email-address", use: changeEmail)
        router.get("account/email/confirm/:token", use: confirmEmailForm)
        router.post("account/email/confirm/:token", use: confirmEmail)
        router.get("account/export", use: export)
        router.post("account/delete", use: deleteAccount)
    }

    struct ChangeForm: Decodable {
        var name: String?
        var email: String?
        var password: String?
        var newPassword: String?

        enum CodingKeys: String, CodingKey {
            case name, email, password
            case newPassword = "new_password"
        }
    }

    @Sendable func changeName(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let form = try await request.decodeForm(ChangeForm.self, limit: services.maxBodyBytes)
        do {
            _ = try await services.accounts.changeName(of: user, to: form.name ?? "")
        } catch let error as SoukError where error.code == .validationFailed {
            return try await accountPage(
                context: context, status: .unprocessableContent,
                extra: ["name_error": error.detail, "typed_name": form.name ?? ""])
        }
        return Pages.redirect(to: "/account?changed=name")
    }

    @Sendable func changePassword(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let form = try await request.decodeForm(ChangeForm.self, limit: services.maxBodyBytes)
        do {
            try flow.countAttempt(request, context, account: user)
            _ = try await services.accounts.changePassword(of: user, current: form.password ?? "", new: form.newPassword ?? "")
        } catch let error as SoukError where error.code != .internalError {
            return try await refused(error, field: "password_error", context: context)
        }
        context.logger.info("password changed; every other credential ended", metadata: ["user": "\(user.id)"])
        // Every session ended with the old password; this browser gets a new one.
        return try await flow.signedIn(user, request: request, context: context, redirectTo: "/account?changed=password")
    }

    @Sendable func changeEmail(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let form = try await request.decodeForm(ChangeForm.self, limit: services.maxBodyBytes)
        let address: String
        do {
            try flow.countAttempt(request, context, account: user)
            address = try await services.accounts.requestEmailChange(of: user, to: form.email ?? "", password: form.password ?? "")
        } catch let error as SoukError where error.code != .internalError {
            return try await refused(error, field: "email_error", context: context, extra: ["typed_email": form.email ?? ""])
        }
        return try await accountPage(context: context, extra: ["email_pending": address])
    }

    @Sendable func confirmEmailForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let token = try context.decodedParameter("token")
        guard MagicLinkRoutes.isWellFormed(token), let address = try await services.accounts.pendingEmailChange(token: token)
        else {
            return pages.render(
                "email_confirm", title: "This link no longer works", status: .notFound, context: context,
                ["dead": AccountService.deadEmailLink.detail])
        }
        return pages.render(
            "email_confirm", title: "Confirm your new address", context: context, ["token": token, "address": address])
    }

    /// A POST (a button on the page above), so that mail scanners opening links change nothing.
    @Sendable func confirmEmail(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let token = try context.decodedParameter("token")
        do {
            guard MagicLinkRoutes.isWellFormed(token) else { throw AccountService.deadEmailLink }
            let user = try await services.accounts.confirmEmailChange(token: token)
            context.logger.info("e-mail address changed", metadata: ["user": "\(user.id)"])
            return pages.render("email_confirm", title: "Your address is changed", context: context, ["done": user.email])
        } catch let error as SoukError where error.code == .notFound || error.code == .conflict {
            return pages.render(
                "email_confirm", title: "This link no longer works", status: ProblemMapping.status(for: error.code),
                context: context, ["dead": error.detail])
        }
    }

    /// Everything the store holds about the user as a buyer, as one JSON file.
    @Sendable func export(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        let user = try context.require(.signedIn)
        let orders = try await services.database.allOrders(.buyer(user.id))
        let entries = try await services.library.entries(for: user)
        let now = services.database.clock.now()
        let preferences = try await services.database.emailPreferences(userID: user.id)
        let body = AccountExport(
            exportedAt: Timestamp.rfc3339(now), account: UserBody(user),
            orders: orders.map { OrderBody($0, viewer: .full) },
            library: entries.map { LibraryEntryBody($0, links: LibraryLinks(services: services), now: now) },
            ratings: try await services.database.ratings(byUser: user.id),
            emailChoices: NotificationType.emailChoices(for: user.role).filter { preferences.wantsEmail($0) }.map(\.rawValue))
        var response = try JSONResponse(body: body).response(from: request, context: context)
        response.headers[.contentDisposition] = "attachment; filename=\"souk-account-\(user.id).json\""
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func deleteAccount(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let form = try await request.decodeForm(ChangeForm.self, limit: services.maxBodyBytes)
        do {
            try flow.countAttempt(request, context, account: user)
            try await services.accounts.deleteAccount(user, password: form.password ?? "")
        } catch let error as SoukError where error.code != .internalError {
            return try await refused(error, field: "delete_error", context: context)
        }
        context.logger.notice("account deleted by its owner; orders kept without personal data", metadata: ["user": "\(user.id)"])
        var response = pages.render("account_deleted", title: "Your account is deleted", context: context, [:])
        response.setCookie(services.cookies.expired())
        return response
    }

    private func refused(_ error: SoukError, field: String, context: SoukRequestContext, extra: [String: Any] = [:])
        async throws -> Response
    {
        // A wrong current password is a mistake in this form (422), not a failed sign-in (401):
        // the user is signed in.
        let wrongPassword = error.code == .invalidCredentials
        var values = extra
        values[field] = wrongPassword ? "Your current password is not right." : error.detail
        var response = try await accountPage(
            context: context, status: wrongPassword ? .unprocessableContent : ProblemMapping.status(for: error.code),
            extra: values)
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}

/// `/account/export`: the user's own data.
struct AccountExport: Encodable, Sendable {
    var exportedAt: String
    var account: UserBody
    var orders: [OrderBody]
    var library: [LibraryEntryBody]
    /// Product id → the stars the user gave.
    var ratings: [String: Int]
    /// The notification types the user gets by e-mail.
    var emailChoices: [String]
}
