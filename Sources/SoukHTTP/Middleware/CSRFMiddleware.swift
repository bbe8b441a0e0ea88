import Crypto
import Foundation
import Hummingbird
import SoukAuth
import SoukCore

/// CSRF protection for HTML forms and cookie-authenticated API uploads.
///
/// Every browser gets a random pre-session cookie (`souk_csrf`, `__Host-souk_csrf` over https);
/// a form's hidden `_csrf` field holds an HMAC, under the server secret, of that cookie *and* of
/// the session the browser is signed in with (nothing, when signed out). So a token fits only the
/// browser and the session it was issued to: one taken from another session (an attacker's own,
/// planted with their cookie) is refused, and signing in changes the token. A response that starts
/// a session also issues a fresh cookie, so no token from before a sign-in works after it, even
/// once signed out again. A cross-site page can neither read the cookie nor compute the HMAC.
///
/// Runs after `AuthenticationMiddleware` (it binds to the session that middleware accepted).
/// JSON API routes and provider webhooks are exempt from the form check: a cross-site form cannot
/// send `application/json`, and webhooks authenticate by signature.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    static let fieldName = "_csrf"
    let secure: Bool
    let maxBodyBytes: Int
    var names: CookieNames { CookieNames(https: secure) }
    /// HMAC with the key already absorbed: each token copies it instead of hashing the key's
    /// pads again (a token is made on every page request).
    private let keyed: HMAC<SHA256>

    init(key: SymmetricKey, secure: Bool, maxBodyBytes: Int) {
        self.secure = secure
        self.maxBodyBytes = maxBodyBytes
        self.keyed = HMAC<SHA256>(key: key)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // A safe API call renders no form and changes nothing: no token to make or check.
        if request.method.isSafe && request.uri.path.hasPrefix("/api/") { return try await next(request, context) }
        var context = context
        var request = request
        let (cookieValue, isNew) = browserCookie(request)
        context.csrfToken = token(for: cookieValue, sessionHash: context.sessionHash)

        let path = request.uri.path
        if request.method == .post && path.hasPrefix("/api/") {
            try checkAPIUpload(request, context: context)
        } else if !request.method.isSafe && !path.hasPrefix("/api/") && !path.hasPrefix("/webhooks/")
            && path != "/unsubscribe"  // RFC 8058 one-click: a mail client's POST, authenticated by the link's signature
        {
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.hasPrefix("multipart/form-data") && Self.streamsFiles(path) {
                // A file upload form: too large to read here. `MultipartUpload` checks the token
                // from the form's first field before it stores a byte; without the cookie no
                // token can match.
                guard !isNew else { throw Self.refused }
                return try await respond(request, context, cookieValue: cookieValue, isNew: false, next: next)
            }
            guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
                throw SoukError(.unsupportedMediaType, "Forms must be sent as application/x-www-form-urlencoded.")
            }
            let body = try await request.body.collect(upTo: maxBodyBytes)
            let submitted = Self.field(Self.fieldName, in: String(buffer: body))
            guard !isNew, let submitted, ConstantTime.equal(submitted, context.csrfToken) else {
                throw Self.refused
            }
            request.body = .init(buffer: body)
        }
        return try await respond(request, context, cookieValue: cookieValue, isNew: isNew, next: next)
    }

    private func respond(
        _ request: Request, _ context: Context, cookieValue: String, isNew: Bool,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        if startsSession(response) {
            // Signed in: the pre-sign-in cookie (and every token made from it) is retired. Such a
            // response is a redirect or JSON, never a page with forms made from the old cookie.
            response.setCookie(cookie(RandomText.base62(length: 32)))
        } else if isNew, response.headers[.contentType]?.hasPrefix("text/html") ?? false {
            // Only pages carry forms; API answers need no CSRF cookie.
            response.setCookie(cookie(cookieValue))
        }
        return response
    }

    /// Cookie-authenticated API POSTs must be JSON (a cross-site HTML form cannot send
    /// `application/json`) or carry the page's CSRF token in `X-CSRF-Token` (file uploads from
    /// the dashboard). PUT, PATCH and DELETE cannot be sent cross-site without a CORS preflight,
    /// which Souk never grants. Bearer tokens and anonymous calls need no check.
    private func checkAPIUpload(_ request: Request, context: Context) throws {
        guard case .session = context.identity?.credential,
            !(request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false)
        else { return }
        let header = request.headers[.init("X-CSRF-Token")!] ?? ""
        guard !header.isEmpty, request.cookies[names.csrf] != nil,
            ConstantTime.equal(header, context.csrfToken)
        else {
            throw SoukError(
                .unsupportedMediaType,
                "Send API requests with `Content-Type: application/json` (or, from a signed-in page, with `X-CSRF-Token`).")
        }
    }

    /// Does this response set a (non-empty) session cookie, i.e. sign someone in?
    private func startsSession(_ response: Response) -> Bool {
        let prefix = names.session + "="
        return response.headers[values: .setCookie].contains { $0.hasPrefix(prefix) && !$0.hasPrefix(prefix + ";") }
    }

    /// The browser's pre-session cookie, or a new one (to be set on the response) if it has none.
    func browserCookie(_ request: Request) -> (value: String, isNew: Bool) {
        if let existing = request.cookies[names.csrf]?.value, Self.isWellFormed(existing) { return (existing, false) }
        return (RandomText.base62(length: 32), true)
    }

    func cookie(_ value: String) -> Cookie {
        Cookie(name: names.csrf, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    static let refused = SoukError(
        .csrfFailed, "This form has expired or came from another site. Reload the page and try again.")

    /// The forms that stream a file (`/dashboard/products/{id}/files` and `…/images`), which check
    /// the token themselves (`MultipartUpload`).
    static func streamsFiles(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0].isEmpty && parts[1] == "dashboard" && parts[2] == "products"
            && !parts[3].isEmpty && (parts[4] == "files" || parts[4] == "images")
    }

    /// The token for a browser's cookie and session. The session enters as its storage hash
    /// (`Secrets.storageHash`), the same value the database keeps, so the plaintext is never
    /// mixed into anything else.
    func token(for cookieValue: String, sessionHash: String?) -> String {
        let binding = sessionHash.map { "session:" + $0 } ?? "signed-out"
        var mac = keyed
        var message = "csrf:\(cookieValue):\(binding)"
        message.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return Base64URL.encode(Data(mac.finalize()))
    }

    static func isWellFormed(_ value: String) -> Bool {
        value.count == 32 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// The first value of `name` in a urlencoded form body.
    static func field(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
