import Crypto
import Foundation
import Hummingbird
import SoukAuth
import SoukCore

/// CSRF protection for HTML forms: a random `souk_csrf` cookie, and in every form a hidden
/// `_csrf` field holding an HMAC of it under the server secret. A cross-site page can neither read
/// the cookie nor compute the HMAC. JSON API routes and provider webhooks are exempt (they
/// authenticate differently).
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    static let cookieName = "souk_csrf"
    static let fieldName = "_csrf"
    let key: SymmetricKey
    let secure: Bool
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        var request = request
        let existing = request.cookies[Self.cookieName].map(\.value).flatMap { Self.isWellFormed($0) ? $0 : nil }
        let cookieValue = existing ?? RandomText.base62(length: 32)
        context.csrfToken = token(for: cookieValue)

        let path = request.uri.path
        if !request.method.isSafe && !path.hasPrefix("/api/") && !path.hasPrefix("/webhooks/") {
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.hasPrefix("multipart/form-data") && Self.streamsFiles(path) {
                // A file upload form: too large to read here. `MultipartUpload` checks the token
                // from the form's first field before it stores a byte; without the cookie no
                // token can match.
                guard existing != nil else {
                    throw SoukError(
                        .csrfFailed, "This form has expired or came from another site. Reload the page and try again.")
                }
                return try await next(request, context)
            }
            guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
                throw SoukError(.unsupportedMediaType, "Forms must be sent as application/x-www-form-urlencoded.")
            }
            let body = try await request.body.collect(upTo: maxBodyBytes)
            let submitted = Self.field(Self.fieldName, in: String(buffer: body))
            guard existing != nil, let submitted, Secrets.constantTimeEqual(submitted, context.csrfToken) else {
                throw SoukError(
                    .csrfFailed, "This form has expired or came from another site. Reload the page and try again.")
            }
            request.body = .init(buffer: body)
        }

        var response = try await next(request, context)
        // Only pages carry forms; API answers need no CSRF cookie.
        if existing == nil, response.headers[.contentType]?.hasPrefix("text/html") ?? false {
            response.setCookie(
                Cookie(
                    name: Self.cookieName, value: cookieValue, path: "/", secure: secure, httpOnly: true,
                    sameSite: .lax))
        }
        return response
    }

    /// The forms that stream a file (`/dashboard/products/{id}/files`).
    static func streamsFiles(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0].isEmpty && parts[1] == "dashboard" && parts[2] == "products"
            && !parts[3].isEmpty && parts[4] == "files"
    }

    func token(for cookieValue: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("csrf:\(cookieValue)".utf8), using: key)
        return Base64URL.encode(Data(mac))
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
