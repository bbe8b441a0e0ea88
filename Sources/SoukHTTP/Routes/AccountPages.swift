import Hummingbird
import SoukAuth
import SoukCore

/// The server-rendered account pages: sign up, sign in, sign out, account and tokens.
/// Forms post back to the same path; a failed form is shown again with the error and the values.
struct AccountPages: Sendable {
    let services: AppServices
    var pages: Pages { services.pages }
    var flow: SignInFlow { SignInFlow(services: services) }

    func register(on router: Router<SoukRequestContext>) {
        router.get("signup", use: signUpForm)
        router.post("signup", use: signUp)
        router.get("signin", use: signInForm)
        router.post("signin", use: signIn)
        router.post("signout", use: signOut)
        router.post("account/signout-everywhere", use: signOutEverywhere)
        router.get("account", use: account)
        router.post("account/tokens", use: createToken)
        router.post("account/tokens/:id/delete", use: deleteToken)
        registerChanges(on: router)
    }

    // MARK: Sign up

    struct SignUpForm: Decodable {
        var name: String?
        var email: String?
        var password: String?
        var role: String?
    }

    @Sendable func signUpForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        return pages.render("signup", title: "Create an account", context: context, ["role_buyer": true])
    }

    @Sendable func signUp(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let form = try await request.decodeForm(SignUpForm.self, limit: services.maxBodyBytes)
        let role = Role(rawValue: form.role ?? "buyer") ?? .buyer
        do {
            let (_, token) = try await flow.signUp(
                email: form.email ?? "", password: form.password ?? "", name: form.name ?? "", role: role,
                request: request, context: context)
            var response = Pages.redirect(to: "/account")
            response.setCookie(services.cookies.session(token))
            return response
        } catch let error as SoukError where error.code != .internalError {
            return pages.render(
                "signup", title: "Create an account", status: ProblemMapping.status(for: error.code), context: context,
                [
                    "error": error.detail, "name": form.name ?? "", "email": form.email ?? "",
                    "role_buyer": role == .buyer, "role_seller": role == .seller,
                ])
        }
    }

    // MARK: Sign in and out

    struct SignInForm: Decodable {
        var email: String?
        var password: String?
        /// Where to go after signing in (a path on this store).
        var next: String?
    }

    /// A local path to return to after signing in; anything else (another site, `//host`) is dropped.
    static func localPath(_ raw: String?) -> String? {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.contains("\\"), raw.count <= 512,
            raw.allSatisfy({ $0.isASCII && !$0.isWhitespace })
        else { return nil }
        return raw
    }

    @Sendable func signInForm(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        return pages.render(
            "signin", title: "Sign in", context: context,
            [
                "next": Self.localPath(request.uri.queryParameters.get("next")) as Any,
                "signed_out_everywhere": request.uri.queryParameters.get("signed_out") == "everywhere",
            ])
    }

    @Sendable func signIn(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let form = try await request.decodeForm(SignInForm.self, limit: services.maxBodyBytes)
        do {
            let (_, token) = try await flow.signIn(
                email: form.email ?? "", password: form.password ?? "", request: request, context: context)
            var response = Pages.redirect(to: Self.localPath(form.next) ?? "/account")
            response.setCookie(services.cookies.session(token))
            return response
        } catch let error as SoukError where error.code != .internalError {
            var response = pages.render(
                "signin", title: "Sign in", status: ProblemMapping.status(for: error.code), context: context,
                ["error": error.detail, "email": form.email ?? "", "next": Self.localPath(form.next) as Any])
            if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
            return response
        }
    }

    @Sendable func signOut(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        if case .session(let token, _) = context.identity?.credential {
            try await services.accounts.endSession(token)
        }
        var response = Pages.redirect(to: "/")
        response.setCookie(services.cookies.expired())
        return response
    }

    /// Ends every credential of the user, this browser's session included: all sessions, all
    /// personal access tokens and unused sign-in links (one transaction). The form carries the
    /// page's CSRF token like every other, so another site cannot sign anyone out.
    @Sendable func signOutEverywhere(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        try await services.accounts.endAllCredentials(of: user)
        context.logger.info("signed out everywhere", metadata: ["user": "\(user.id)"])
        var response = Pages.redirect(to: "/signin?signed_out=everywhere")
        response.setCookie(services.cookies.expired())
        return response
    }

    // MARK: Account and tokens

    @Sendable func account(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        return try await accountPage(
            context: context,
            extra: [
                "email_saved": request.uri.queryParameters.get("email") == "saved",
                "password_reset": request.uri.queryParameters.get("password") == "reset",
                "changed_name": request.uri.queryParameters.get("changed") == "name",
                "changed_password": request.uri.queryParameters.get("changed") == "password",
            ])
    }

    func accountPage(context: SoukRequestContext, status: HTTPResponse.Status = .ok, extra: [String: Any])
        async throws -> Response
    {
        let user = try context.require(.signedIn)
        let tokens = try await services.database.tokens(userID: user.id).map { record -> [String: Any] in
            [
                "id": record.id, "name": record.name, "scopes": record.scopes.map(\.rawValue).joined(separator: " "),
                "created_at": DateViews.moment(record.createdAt),
                "last_used_at": record.lastUsedAt.map(DateViews.moment) as Any,
            ]
        }
        var values: [String: Any] = [
            "user": [
                "id": user.id, "name": user.name, "email": user.email, "role": user.role.rawValue,
                "is_buyer": user.role == .buyer,
                "seller_status": user.sellerStatus?.rawValue ?? "",
                "standing_notice": (user.role == .seller ? SellerStanding(of: user).refusal : nil) as Any,
                "standing_reason": user.sellerRefusalReason as Any,
            ],
            "tokens": tokens,
            "email_choices": EmailPreferencePages.choices(
                for: user, preferences: try await services.database.emailPreferences(userID: user.id)),
        ]
        values.merge(extra) { $1 }
        return pages.render("account", title: "Your account", status: status, context: context, values)
    }

    struct TokenForm: Decodable {
        var name: String?
        var scope: String?
    }

    @Sendable func createToken(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let form = try await request.decodeForm(TokenForm.self, limit: services.maxBodyBytes)
        let scopes: [TokenScope] = form.scope == "read" ? [.read] : [.read, .write]
        do {
            let (record, token) = try await services.accounts.createToken(
                for: user, name: form.name ?? "", scopes: scopes, from: context.identity?.sessionOrigin)
            // The token is shown on this response only; it is never stored in the clear.
            return try await accountPage(
                context: context, status: .created, extra: ["new_token": token, "new_token_name": record.name])
        } catch let error as SoukError where error.code == .validationFailed {
            return try await accountPage(context: context, status: .unprocessableContent, extra: ["error": error.detail])
        } catch let error as SoukError where error.code == .forbidden {
            return try await accountPage(context: context, status: .forbidden, extra: ["error": error.detail])
        }
    }

    @Sendable func deleteToken(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let id = try context.parameters.require("id")
        guard try await services.database.deleteToken(id: id, userID: user.id) else {
            throw SoukError.notFound("The token \(id)")
        }
        return Pages.redirect(to: "/account")
    }
}
