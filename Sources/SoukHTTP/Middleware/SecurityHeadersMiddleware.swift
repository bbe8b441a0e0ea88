import Hummingbird

/// Headers every response carries. Pages use no inline script or style, so the CSP can be strict.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let https: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        Self.apply(to: &response.headers, https: https)
        return response
    }

    /// Adds the headers to `headers`, keeping a policy or cache rule the response set itself.
    static func apply(to headers: inout HTTPFields, https: Bool) {
        // A route may set its own policy (the e-mail preview: inline styles, framed by the
        // dashboard, sandboxed); every other response gets the strict one.
        if headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
            headers[.init("X-Frame-Options")!] = "DENY"
        }
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "same-origin"
        headers[.init("Cross-Origin-Opener-Policy")!] = "same-origin"
        if https { headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}
