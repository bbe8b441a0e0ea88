import Hummingbird
import SoukAuth
import SoukCore
import SoukDatabase

/// Getting back into an account without the password: "forgot password" (an e-mailed link that
/// sets a new one once, within an hour, and ends every other session) and "e-mail me a sign-in
/// link". Both forms answer the same whether or not the address has an account, and count
/// against the sign-in limit of the client's address.
struct PasswordResetPages: Sendable {
    let services: AppServices
    var pages: Pages { services.pages }

    func register(on router: Router<SoukRequestContext>) {
        router.get("password/forgot", use: forgotForm)
        router.post("password/forgot", use: forgot)
        router.get("password/reset/:token", use: resetForm)
        router.post("password/reset/:token", use: reset)
        router.post("signin/link", use: signInLink)
    }

    struct EmailForm: Decodable { var email: String? }
    struct PasswordForm: Decodable { var password: String? }

    @Sendable func forgotForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        return pages.render(
            "password_forgot", title: "Reset your password", context: context,
            ["email": request.uri.queryParameters.get("email").map { String($0) } ?? ""])
    }

    @Sendable func forgot(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let form = try await request.decodeForm(EmailForm.self, limit: services.maxBodyBytes)
        let email = form.email ?? ""
        do {
            try SignInFlow(services: services).countAttempt(request, context)
            try await services.accounts.requestAccountMail(.passwordReset, email: email)
        } catch let error as SoukError where error.code != .internalError {
            return refused(error, page: "password_forgot", title: "Reset your password", email: email, context: context)
        }
        context.logger.info("password reset asked for")
        return pages.render(
            "password_forgot", title: "Check your e-mail", context: context,
            ["sent": email.trimmingCharacters(in: .whitespacesAndNewlines)])
    }

    @Sendable func resetForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let token = try context.decodedParameter("token")
        guard MagicLinkRoutes.isWellFormed(token), try await services.accounts.isLivePasswordReset(token: token) else {
            return deadLink(context)
        }
        return pages.render("password_reset", title: "Choose a new password", context: context, ["token": token])
    }

    @Sendable func reset(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let token = try context.decodedParameter("token")
        guard MagicLinkRoutes.isWellFormed(token) else { return deadLink(context) }
        let form = try await request.decodeForm(PasswordForm.self, limit: services.maxBodyBytes)
        let user: User
        do {
            user = try await services.accounts.resetPassword(token: token, to: form.password ?? "")
        } catch let error as SoukError where error.code == .notFound {
            return deadLink(context)
        } catch let error as SoukError where error.code == .validationFailed {
            return pages.render(
                "password_reset", title: "Choose a new password", status: .unprocessableContent, context: context,
                ["token": token, "error": error.detail])
        }
        context.logger.info("password reset with an e-mailed link; every other credential ended", metadata: ["user": "\(user.id)"])
        // The link proved the inbox and the new password is set: this browser is signed in.
        return try await SignInFlow(services: services).signedIn(
            user, request: request, context: context, redirectTo: "/account?password=reset")
    }

    @Sendable func signInLink(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let form = try await request.decodeForm(EmailForm.self, limit: services.maxBodyBytes)
        let email = form.email ?? ""
        do {
            try SignInFlow(services: services).countAttempt(request, context)
            try await services.accounts.requestAccountMail(.signInLink, email: email)
        } catch let error as SoukError where error.code != .internalError {
            return refused(error, page: "signin", title: "Sign in", email: email, context: context, field: "link_error", open: true)
        }
        context.logger.info("sign-in link asked for")
        return pages.render(
            "signin", title: "Sign in", context: context,
            ["link_sent": email.trimmingCharacters(in: .whitespacesAndNewlines), "email": email, "link_open": true])
    }

    private func refused(
        _ error: SoukError, page: String, title: String, email: String, context: SoukRequestContext, field: String = "error",
        open: Bool = false
    ) -> Response {
        var response = pages.render(
            page, title: title, status: ProblemMapping.status(for: error.code), context: context,
            [field: error.detail, "email": email, "link_open": open])
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    private func deadLink(_ context: SoukRequestContext) -> Response {
        pages.render(
            "password_reset", title: "This link no longer works", status: .notFound, context: context,
            ["dead": AccountService.deadResetLink.detail])
    }
}
