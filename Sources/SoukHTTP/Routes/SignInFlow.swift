import Hummingbird
import SoukAuth
import SoukCore

/// Sign-up and sign-in with their rate limits, shared by the JSON API and the HTML forms.
struct SignInFlow: Sendable {
    let services: AppServices

    /// Creates an account and signs it in. Throws `sellerSignupClosed` when sellers may not sign
    /// up, `rateLimited` past `[limits] signup_per_ip_per_hour`, and the account rules' errors.
    func signUp(
        email: String, password: String, name: String, role: Role, request: Request, context: SoukRequestContext
    ) async throws -> (user: User, sessionToken: String) {
        switch role {
        case .buyer: break
        case .seller:
            guard services.settings.store.marketplace else {
                throw SoukError(
                    .sellerSignupClosed,
                    "This store is a single creator's store (marketplace = false): seller sign-up is closed.")
            }
        case .admin:
            throw SoukError.validation("role", "Admins are created by the operator with `souk user create --role admin`.")
        }
        // A malformed e-mail is refused before it costs a limiter entry or a bcrypt hash.
        let email = try AccountRules.email(email)
        let ip = services.clientAddress.ip(request, context)
        try services.limits.signupPerIP.hit(
            "signup:\(services.clientAddress.network(request, context))", what: "sign-ups from this address")
        let user = try await services.accounts.register(email: email, password: password, name: name, role: role)
        context.logger.info("account created", metadata: ["user": "\(user.id)", "role": "\(user.role.rawValue)"])
        let token = try await services.accounts.startSession(
            for: user, ip: ip, userAgent: request.headers[.userAgent])
        return (user, token)
    }

    /// Checks the credentials and starts a session. Failures count against the address and the
    /// account; past the limits the answer is `rateLimited` with the seconds to wait. A malformed
    /// e-mail is `validationFailed` before anything is counted or hashed.
    func signIn(email rawEmail: String, password: String, request: Request, context: SoukRequestContext) async throws
        -> (user: User, sessionToken: String)
    {
        // The account's counter is keyed on the same normalised address the lookup uses, so
        // `Victim@x.com ` or `victim@x.com\n` cannot start a fresh count for the same account.
        let email = try AccountRules.email(rawEmail)
        let ip = services.clientAddress.ip(request, context)
        let accountKey = "account:\(email)"
        try services.limits.loginPerIP.hit(
            "login:\(services.clientAddress.network(request, context))", what: "sign-in attempts from this address")
        // Counted as a failure before the (slow) password check, so parallel guesses cannot all
        // pass the limit; a success forgets the account's count.
        try services.limits.loginFailuresPerAccount.hit(accountKey, what: "failed sign-ins for this account")
        let user: User
        do {
            user = try await services.accounts.authenticate(email: email, password: password)
        } catch let error as SoukError where error.code == .invalidCredentials {
            context.logger.notice("sign-in failed", metadata: ["ip": "\(ip)"])
            throw error
        }
        services.limits.loginFailuresPerAccount.reset(accountKey)
        let token = try await services.accounts.startSession(for: user, ip: ip, userAgent: request.headers[.userAgent])
        return (user, token)
    }

    /// A form that mails a link or checks a password counts as a sign-in attempt of the client's
    /// address (and, given the account, of the account): it can be no faster a way to guess or
    /// to flood an inbox than the sign-in form.
    func countAttempt(_ request: Request, _ context: SoukRequestContext, account: User? = nil) throws {
        try services.limits.loginPerIP.hit(
            "login:\(services.clientAddress.network(request, context))", what: "sign-in attempts from this address")
        if let account {
            try services.limits.loginFailuresPerAccount.hit("account:\(account.email)", what: "failed sign-ins for this account")
        }
    }

    /// This browser signed in as `user` with a new session (after a password was set), sent on to `path`.
    func signedIn(_ user: User, request: Request, context: SoukRequestContext, redirectTo path: String) async throws
        -> Response
    {
        let session = try await services.accounts.startSession(
            for: user, ip: services.clientAddress.ip(request, context), userAgent: request.headers[.userAgent])
        var response = Pages.redirect(to: path)
        response.setCookie(services.cookies.session(session))
        return response
    }
}
