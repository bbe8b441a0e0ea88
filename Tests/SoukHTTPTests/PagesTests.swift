import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Account pages in the browser")
struct PagesTests {
    @Test("Sign up with the form, land on the account page")
    func signUpForm() async throws {
        try await TestStore().run { browser in
            let response = try await browser.submitForm(
                "/signup", fields: ["name": "Grace", "email": "grace@example.com", "password": "hopper1906"],
                csrfFrom: "/signup")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/account")
            let account = try await browser.get("/account", headers: [.accept: "text/html"])
            #expect(account.text.contains("grace@example.com"))
            #expect(account.text.contains("TEST MODE"))
        }
    }

    @Test("A failed sign-in shows the form again with the error")
    func signInError() async throws {
        try await TestStore().run { browser in
            try await browser.register("h@example.com", password: "12345678")
            let other = Browser(client: browser.client)
            let response = try await other.submitForm(
                "/signin", fields: ["email": "h@example.com", "password": "wrong-one"], csrfFrom: "/signin")
            #expect(response.status == .unauthorized)
            #expect(response.text.contains("The e-mail address or password is wrong."))
            #expect(response.text.contains(#"value="h@example.com""#))
            let ok = try await other.submitForm(
                "/signin", fields: ["email": "h@example.com", "password": "12345678"], csrfFrom: "/signin")
            #expect(ok.status == .seeOther)
        }
    }

    @Test("A form without the CSRF token, or with another's, is refused")
    func csrf() async throws {
        try await TestStore().run { browser in
            _ = try await browser.get("/signin", headers: [.accept: "text/html"])
            let missing = try await browser.request(
                .post, "/signin", headers: [.contentType: "application/x-www-form-urlencoded"],
                body: "email=a%40b.co&password=12345678")
            #expect(missing.status == .forbidden)
            #expect(missing.object["code"] as? String == "csrf_failed")

            let forged = try await browser.request(
                .post, "/signin", headers: [.contentType: "application/x-www-form-urlencoded"],
                body: "email=a%40b.co&password=12345678&_csrf=forged")
            #expect(forged.status == .forbidden)
        }
    }

    @Test("Cookie-authenticated API posts must be JSON (the API's CSRF defence)")
    func apiNeedsJSON() async throws {
        try await TestStore().run { browser in
            try await browser.register("i@example.com")
            let response = try await browser.request(
                .post, "/api/v1/tokens", headers: [.contentType: "application/x-www-form-urlencoded"], body: "name=x")
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test("Tokens are created and revoked from the account page; the token is shown once")
    func tokensPage() async throws {
        try await TestStore().run { browser in
            try await browser.register("j@example.com")
            let created = try await browser.submitForm(
                "/account/tokens", fields: ["name": "laptop", "scope": "read"], csrfFrom: "/account")
            #expect(created.status == .created)
            let token = try #require(created.text.firstMatch(of: /id="new-token">(souk_pat_[A-Za-z0-9]+)</)?.1)
            let account = try await browser.get("/account", headers: [.accept: "text/html"])
            #expect(account.text.contains("laptop"))
            #expect(!account.text.contains(String(token)), "the token is never shown again")

            let id = try #require(account.text.firstMatch(of: /action="\/account\/tokens\/(tok_[a-z0-9]+)\/delete"/)?.1)
            let revoked = try await browser.submitForm(
                "/account/tokens/\(id)/delete", fields: [:], csrfFrom: "/account")
            #expect(revoked.status == .seeOther)
            let me = try await Browser(client: browser.client).get(
                "/api/v1/me", headers: [.authorization: "Bearer \(token)"])
            #expect(me.status == .unauthorized)
        }
    }

    @Test("The session cookie is HttpOnly and SameSite=Lax, Secure and __Host- prefixed over https")
    func cookieAttributes() async throws {
        try await TestStore().run { browser in
            let response = try await browser.json(
                .post, "/api/v1/auth/register", #"{"email":"k@example.com","password":"12345678","name":"K"}"#)
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("souk_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"))
        }
        try await TestStore { $0.server.baseURL = "https://shop.example.com" }.run { browser in
            let response = try await browser.json(
                .post, "/api/v1/auth/register", #"{"email":"k@example.com","password":"12345678","name":"K"}"#)
            // Over https the `__Host-` prefix: Secure, Path=/ and no Domain, so no subdomain can plant it.
            let cookie = try #require(
                response.headers[values: .setCookie].first { $0.hasPrefix("__Host-souk_session=") })
            #expect(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.lowercased().contains("domain"))
            #expect(!response.headers[values: .setCookie].contains { $0.hasPrefix("souk_session=") })
        }
    }
}

@Suite("Themes")
struct ThemeTests {
    @Test("A template in <data_dir>/theme overrides the built-in one; the others stay built in")
    func themeOverride() async throws {
        let store = try TestStore()
        let theme = store.directory.appendingPathComponent("theme")
        try FileManager.default.createDirectory(at: theme, withIntermediateDirectories: true)
        try "{{<layout}}{{$content}}<p id=\"custom\">Welcome to my shop</p>{{/content}}{{/layout}}"
            .write(to: theme.appendingPathComponent("signin.mustache"), atomically: true, encoding: .utf8)
        try "body { color: rebeccapurple; }".write(
            to: theme.appendingPathComponent("souk.css"), atomically: true, encoding: .utf8)
        try await store.run { browser in
            let signin = try await browser.get("/signin", headers: [.accept: "text/html"])
            #expect(signin.text.contains(#"<p id="custom">Welcome to my shop</p>"#))
            #expect(signin.text.contains("/assets/souk.css"), "the built-in layout still wraps it")
            let signup = try await browser.get("/signup", headers: [.accept: "text/html"])
            #expect(signup.text.contains("Create an account"))
            #expect(try await browser.get("/assets/souk.css").text.contains("rebeccapurple"))
        }
    }

    @Test("A theme template that does not parse stops the start with a message naming it")
    func brokenTheme() async throws {
        let store = try TestStore()
        let theme = store.directory.appendingPathComponent("theme")
        try FileManager.default.createDirectory(at: theme, withIntermediateDirectories: true)
        try "{{#unclosed}}".write(to: theme.appendingPathComponent("home.mustache"), atomically: true, encoding: .utf8)
        await #expect {
            try await store.run { _ in }
        } throws: { error in
            "\(error)".contains("home.mustache") && "\(error)".contains(theme.path)
        }
    }
}
