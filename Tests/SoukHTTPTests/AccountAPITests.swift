import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import Testing

@Suite("Accounts over the JSON API")
struct AccountAPITests {
    @Test("A buyer signs up, is signed in, and /me shows them")
    func signUpAndMe() async throws {
        try await TestStore().run { browser in
            let user = try await browser.register("Ann@Example.com", name: "Ann")
            #expect(user["email"] as? String == "ann@example.com")
            #expect(user["role"] as? String == "buyer")
            #expect((user["id"] as? String)?.hasPrefix("usr_") == true)
            #expect(browser.cookies["souk_session"] != nil)

            let me = try await browser.get("/api/v1/me")
            #expect(me.status == .ok)
            #expect(me.object["email"] as? String == "ann@example.com")
            #expect(me.object["name"] as? String == "Ann")
        }
    }

    @Test("Signed out, /me is 401 problem+json")
    func meSignedOut() async throws {
        try await TestStore().run { browser in
            let response = try await browser.get("/api/v1/me")
            #expect(response.status == .unauthorized)
            #expect(response.isProblem)
            #expect(response.object["code"] as? String == "unauthenticated")
        }
    }

    @Test("The same e-mail cannot sign up twice, whatever its case")
    func duplicateEmail() async throws {
        try await TestStore().run { browser in
            try await browser.register("bob@example.com")
            let again = try await browser.json(
                .post, "/api/v1/auth/register", #"{"email":"BOB@example.com","password":"12345678","name":"B"}"#)
            #expect(again.status == .conflict)
            #expect(again.object["field"] as? String == "email")
        }
    }

    @Test("Bad account details get 422 naming the field", arguments: [
        (#"{"email":"not-an-email","password":"12345678","name":"A"}"#, "email"),
        (#"{"email":"a@b.co","password":"short","name":"A"}"#, "password"),
        (#"{"email":"a@b.co","password":"12345678","name":"  "}"#, "name"),
        (#"{"email":"a@b.co","password":"12345678","name":"A","role":"admin"}"#, "role"),
    ])
    func validation(body: String, field: String) async throws {
        try await TestStore().run { browser in
            let response = try await browser.json(.post, "/api/v1/auth/register", body)
            #expect(response.status == .unprocessableContent)
            #expect(response.object["code"] as? String == "validation_failed")
            #expect(response.object["field"] as? String == field)
        }
    }

    @Test("Sign in, sign out: the session ends")
    func loginLogout() async throws {
        try await TestStore().run { browser in
            try await browser.register("cat@example.com", password: "meow meow")
            let other = Browser(client: browser.client)
            let login = try await other.json(
                .post, "/api/v1/auth/login", #"{"email":"CAT@example.com","password":"meow meow"}"#)
            #expect(login.status == .ok)
            #expect(try await other.get("/api/v1/me").status == .ok)
            let session = try #require(other.cookies["souk_session"])

            let logout = try await other.json(.post, "/api/v1/auth/logout", "{}")
            #expect(logout.status == .noContent)
            // The old cookie no longer works even if replayed.
            let replay = try await other.request(
                .get, "/api/v1/me", headers: [.cookie: "souk_session=\(session)"], useCookies: false)
            #expect(replay.status == .unauthorized)
        }
    }

    @Test("Wrong passwords lock the account with 429 and Retry-After, even for the right password")
    func loginRateLimit() async throws {
        try await TestStore().run { browser in
            try await browser.register("dan@example.com", password: "right password")
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<10 {
                let response = try await browser.json(
                    .post, "/api/v1/auth/login", #"{"email":"dan@example.com","password":"wrong password"}"#)
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
                    #expect(response.object["code"] as? String == "rate_limited")
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized })
            #expect(statuses.suffix(5).allSatisfy { $0 == .tooManyRequests })
            let right = try await browser.json(
                .post, "/api/v1/auth/login", #"{"email":"dan@example.com","password":"right password"}"#)
            #expect(right.status == .tooManyRequests)
        }
    }

    @Test("Sign-ups are limited per address")
    func signupRateLimit() async throws {
        try await TestStore { $0.limits.signupPerIPPerHour = 2 }.run { browser in
            try await browser.register("e1@example.com")
            try await browser.register("e2@example.com")
            let third = try await browser.json(
                .post, "/api/v1/auth/register", #"{"email":"e3@example.com","password":"12345678","name":"E"}"#)
            #expect(third.status == .tooManyRequests)
            #expect(third.headers[.retryAfter] != nil)
        }
    }

    @Test("Seller sign-up: closed in a single-creator store, pending in a marketplace")
    func sellerSignUp() async throws {
        try await TestStore().run { browser in
            let response = try await browser.json(
                .post, "/api/v1/auth/register",
                #"{"email":"s@example.com","password":"12345678","name":"S","role":"seller"}"#)
            #expect(response.status == .forbidden)
            #expect(response.object["code"] as? String == "seller_signup_closed")
        }
        let store = try TestStore { $0.store.marketplace = true }
        try await store.run { browser in
            let seller = try await browser.register("s@example.com", role: "seller")
            #expect(seller["seller_status"] as? String == "pending")
            _ = try await store.database.setSellerStatus(email: "s@example.com", .verified)
            // The same session sees the operator's change at once.
            #expect(try await browser.get("/api/v1/me").object["seller_status"] as? String == "verified")
        }
    }

    @Test("Disabling a user ends their sessions at once")
    func disabledUser() async throws {
        let store = try TestStore()
        try await store.run { browser in
            try await browser.register("f@example.com", password: "12345678")
            #expect(try await browser.get("/api/v1/me").status == .ok)
            _ = try await store.database.setDisabled(email: "f@example.com", true)
            #expect(try await browser.get("/api/v1/me").status == .unauthorized)
            let login = try await Browser(client: browser.client).json(
                .post, "/api/v1/auth/login", #"{"email":"f@example.com","password":"12345678"}"#)
            #expect(login.status == .forbidden)
            #expect(login.object["code"] as? String == "account_disabled")
        }
    }
}
