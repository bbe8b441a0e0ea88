import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Bad input gets a clear problem+json answer")
struct ErrorHandlingTests {
    @Test("Malformed JSON → 400")
    func malformedJSON() async throws {
        try await TestStore().run { browser in
            let response = try await browser.json(.post, "/api/v1/auth/login", #"{"email": "#)
            #expect(response.status == .badRequest)
            #expect(response.isProblem)
            #expect(response.object["code"] as? String == "bad_request")
            #expect(response.object["request_id"] as? String != nil)
        }
    }

    @Test("A missing field → 400 naming it")
    func missingField() async throws {
        try await TestStore().run { browser in
            let response = try await browser.json(.post, "/api/v1/auth/login", #"{"email":"a@b.co"}"#)
            #expect(response.status == .badRequest)
            #expect(response.object["field"] as? String == "password")
        }
    }

    @Test("A mistyped field → 400 naming it")
    func mistypedField() async throws {
        try await TestStore().run { browser in
            let response = try await browser.json(.post, "/api/v1/auth/login", #"{"email":1,"password":"x"}"#)
            #expect(response.status == .badRequest)
            #expect(response.object["field"] as? String == "email")
        }
    }

    @Test("A 10 MB body to a JSON route → 413, and the server keeps serving")
    func oversizedBody() async throws {
        try await TestStore().run { browser in
            let big = "{\"email\":\"" + String(repeating: "a", count: 10 * 1024 * 1024) + "\"}"
            let response = try await browser.json(.post, "/api/v1/auth/login", big)
            #expect(response.status == .contentTooLarge)
            #expect(response.isProblem)
            #expect(try await browser.get("/healthz").status == .ok)
        }
    }

    @Test("A JSON route refuses another media type → 415")
    func wrongMediaType() async throws {
        try await TestStore().run { browser in
            let response = try await browser.request(
                .post, "/api/v1/auth/login", headers: [.contentType: "text/plain"], body: "hello")
            #expect(response.status == .unsupportedMediaType)
            #expect(response.isProblem)
        }
    }

    @Test("An unknown route → 404 problem+json for API clients, an HTML page for browsers")
    func unknownRoute() async throws {
        try await TestStore().run { browser in
            let api = try await browser.get("/api/v1/nothing-here")
            #expect(api.status == .notFound)
            #expect(api.isProblem)
            #expect(api.object["type"] as? String == "urn:souk:problem:not_found")
            let page = try await browser.get("/nothing-here", headers: [.accept: "text/html"])
            #expect(page.status == .notFound)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("404"))
        }
    }

    @Test(
        "A known address asked with a method it does not take → 405 with Allow, before CSRF or sign-in answer",
        arguments: [
            ("TRACE", "/api/v1/me", "GET, HEAD"), ("DELETE", "/healthz", "GET, HEAD"), ("PUT", "/api/v1/products", "GET, HEAD, POST"),
            ("PUT", "/api/v1/products/prod_x", "DELETE, GET, HEAD, PATCH"),
            ("TRACE", "/api/v1/products/prod_x/reviews", "GET, HEAD, POST"), ("DELETE", "/products/some-slug", "GET, HEAD"),
            ("GET", "/products/some-slug/review", "POST"),
        ])
    func methodNotAllowed(method: String, path: String, allow: String) async throws {
        try await TestStore().run { browser in
            let response = try await browser.request(HTTPRequest.Method(method)!, path)
            #expect(response.status == .methodNotAllowed, "\(method) \(path): \(response.text)")
            #expect(response.headers[.allow] == allow)
            #expect(response.isProblem)
            #expect(response.object["code"] as? String == "method_not_allowed")
            #expect((response.object["detail"] as? String)?.contains(allow) == true)
        }
    }

    @Test("HEAD on a page or the API answers as GET would, without the body")
    func headAnswersLikeGet() async throws {
        try await TestStore().run { browser in
            for path in ["/", "/search?q=moth", "/categories", "/api/v1/products", "/healthz", "/signin"] {
                let get = try await browser.request(.get, path, headers: [.accept: "text/html"])
                let head = try await browser.request(.head, path, headers: [.accept: "text/html"])
                #expect(head.status == get.status, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                #expect(head.body.readableBytes == 0, "\(path)")
            }
            #expect(try await browser.request(.head, "/products/some-slug/review").status == .methodNotAllowed)
        }
    }

    @Test("A browser's wrong method gets the 405 page; unknown addresses stay 404")
    func methodNotAllowedPage() async throws {
        try await TestStore().run { browser in
            let page = try await browser.request(.delete, "/search", headers: [.accept: "text/html"])
            #expect(page.status == .methodNotAllowed)
            #expect(page.headers[.allow] == "GET, HEAD")
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(try await browser.request(.delete, "/api/v1/nothing-here").status == .notFound)
            #expect(try await browser.request(.get, "/products/a/b/c").status == .notFound)
        }
    }

    @Test("Every response carries the security headers and a request id")
    func securityHeaders() async throws {
        try await TestStore().run { browser in
            for path in ["/", "/api/v1/me", "/nope"] {
                let response = try await browser.get(path)
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.init("Referrer-Policy")!] == "same-origin")
                #expect(response.headers[.init("X-Request-Id")!] != nil)
                #expect(response.headers[.strictTransportSecurity] == nil, "no HSTS over plain http")
            }
        }
        try await TestStore { $0.server.baseURL = "https://shop.example.com" }.run { browser in
            let response = try await browser.get("/")
            #expect(response.headers[.strictTransportSecurity] != nil)
        }
    }

    @Test("/healthz checks the database; /metrics counts requests")
    func healthAndMetrics() async throws {
        try await TestStore().run { browser in
            let health = try await browser.get("/healthz")
            #expect(health.status == .ok)
            #expect(health.object["database"] as? String == "ok")
            _ = try await browser.get("/api/v1/me")
            let metrics = try await browser.get("/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests"))
            #expect(metrics.text.contains(#"http_route="/api/v1/me""#))
        }
    }
}
