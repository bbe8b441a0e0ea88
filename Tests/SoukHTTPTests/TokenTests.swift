import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Personal access tokens")
struct TokenTests {
    @Test("A token authenticates until it is revoked")
    func tokenLifecycle() async throws {
        try await TestStore().run { browser in
            try await browser.register("tok@example.com")
            let created = try await browser.json(.post, "/api/v1/tokens", #"{"name":"deploy"}"#)
            #expect(created.status == .created)
            let token = try #require(created.object["token"] as? String)
            let id = try #require(created.object["id"] as? String)
            #expect(token.hasPrefix("souk_pat_"))

            let anonymous = Browser(client: browser.client)
            let me = try await anonymous.get("/api/v1/me", headers: [.authorization: "Bearer \(token)"])
            #expect(me.object["email"] as? String == "tok@example.com")

            let list = try await browser.get("/api/v1/tokens")
            let data = try #require(list.object["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data[0]["token"] == nil, "the token is shown once, never listed")

            #expect(try await browser.request(.delete, "/api/v1/tokens/\(id)").status == .noContent)
            let after = try await anonymous.get("/api/v1/me", headers: [.authorization: "Bearer \(token)"])
            #expect(after.status == .unauthorized)
            #expect(after.isProblem)
        }
    }

    @Test("A read-only token cannot change anything")
    func readOnlyToken() async throws {
        try await TestStore().run { browser in
            try await browser.register("ro@example.com")
            let created = try await browser.json(.post, "/api/v1/tokens", #"{"name":"ro","scopes":["read"]}"#)
            let token = try #require(created.object["token"] as? String)
            let anonymous = Browser(client: browser.client)
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            #expect(try await anonymous.get("/api/v1/me", headers: auth).status == .ok)
            let write = try await anonymous.json(.post, "/api/v1/tokens", #"{"name":"x"}"#, headers: auth)
            #expect(write.status == .forbidden)
        }
    }

    @Test("Another user's token is not found, and stays valid")
    func otherUsersToken() async throws {
        try await TestStore().run { browser in
            try await browser.register("owner@example.com")
            let created = try await browser.json(.post, "/api/v1/tokens", #"{"name":"mine"}"#)
            let id = try #require(created.object["id"] as? String)
            let token = try #require(created.object["token"] as? String)

            let mallory = Browser(client: browser.client)
            try await mallory.register("mallory@example.com")
            let delete = try await mallory.request(.delete, "/api/v1/tokens/\(id)")
            #expect(delete.status == .notFound)
            let list = try await mallory.get("/api/v1/tokens")
            #expect((list.object["data"] as? [Any])?.isEmpty == true)
            let still = try await Browser(client: browser.client).get(
                "/api/v1/me", headers: [.authorization: "Bearer \(token)"])
            #expect(still.status == .ok)
        }
    }

    @Test("An unknown bearer token is refused, not treated as anonymous")
    func unknownToken() async throws {
        try await TestStore().run { browser in
            let response = try await browser.get("/", headers: [.authorization: "Bearer souk_pat_nope"])
            #expect(response.status == .unauthorized)
        }
    }
}
