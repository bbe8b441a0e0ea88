import Hummingbird
import SoukAuth
import SoukCore

/// Finds the caller: a `Bearer souk_pat_…` token, else the session cookie. Sets `context.identity`.
///
/// A presented token that is unknown or revoked is an error (401): the client meant to be someone.
/// A stale session cookie just means "signed out" and is cleared.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let accounts: AccountService
    let cookies: SessionCookies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw SoukError(.unauthenticated, "Use `Authorization: Bearer souk_pat_…` with a personal access token.")
            }
            let token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
            guard let (user, scopes) = try await accounts.user(forToken: token) else {
                throw SoukError(.unauthenticated, "The access token is invalid or has been revoked.")
            }
            if !request.method.isSafe && !scopes.contains(.write) {
                throw SoukError(.forbidden, "This access token is read-only; create one with the write scope.")
            }
            context.identity = Identity(user: user, credential: .accessToken(scopes: scopes))
            context.logger[metadataKey: "user"] = "\(user.id)"  // every log line of the request says who
            return try await next(request, context)
        }

        guard let token = request.cookies[cookies.name]?.value, !token.isEmpty else {
            return try await next(request, context)
        }
        let hash = Secrets.storageHash(token)
        let moment = accounts.database.moment()
        guard let (user, origin) = try await accounts.user(forSessionHash: hash, since: moment) else {
            var response = try await next(request, context)
            response.setCookie(cookies.expired())
            return response
        }
        // Cookie-authenticated API POSTs are checked for CSRF by `CSRFMiddleware`, which runs next.
        context.identity = Identity(user: user, credential: .session(token: token, origin: origin))
        context.sessionHash = hash
        context.databaseMoment = moment
        context.logger[metadataKey: "user"] = "\(user.id)"
        // The zone the browser reports (`local-time.js` sets the cookie): the user's e-mails
        // give dates in it. Written only when it changes.
        if let zone = request.cookies[CookieNames.timeZone]?.value, zone != user.timeZone, HumanDate.zone(named: zone) != nil {
            try await accounts.database.setTimeZone(userID: user.id, zone)
        }
        // The bell on every page shows the unread count, without JavaScript (one indexed count).
        if request.method == .get && !request.uri.path.hasPrefix("/api/") && !request.uri.path.hasPrefix("/assets/") {
            let bell = try await accounts.database.notificationBell(userID: user.id, since: moment)
            context.unreadNotifications = bell.unread
            context.bellSeq = bell.lastSeq
        }
        return try await next(request, context)
    }
}

extension HTTPRequest.Method {
    var isSafe: Bool { self == .get || self == .head || self == .options }
}

/// The session cookie's name and attributes in one place.
struct SessionCookies: Sendable {
    let secure: Bool
    let maxAge: Int
    /// `__Host-souk_session` over https, `souk_session` over http (see `CookieNames`).
    var name: String { CookieNames(https: secure).session }

    /// The cookie of a session made `origin`'s way: it lasts as long as the session does.
    func session(_ token: String, origin: SessionOrigin = .password) -> Cookie {
        let lifetime = Int(origin.lifetime(configured: Double(maxAge)))
        return Cookie(name: name, value: token, maxAge: lifetime, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func expired() -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}
