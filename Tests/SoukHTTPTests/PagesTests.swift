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

    @Test("The session cookie is HttpOnly and SameSite=Lax, Secure over https")
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
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("souk_session=") })
            #expect(cookie.contains("Secure"))
        }
    }
}
