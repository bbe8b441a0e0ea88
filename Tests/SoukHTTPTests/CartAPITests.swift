import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("The cart")
struct CartAPITests {
    func marketplace() throws -> TestStore { try TestStore { $0.store.marketplace = true } }

    @Test("A guest fills a cart with products from two sellers; the total adds up; removing updates it")
    func guestCart() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let ada = try await store.verifiedSeller(browser, "ada@example.com", name: "Ada")
            let bo = try await store.verifiedSeller(browser, "bo@example.com", name: "Bo")
            let book = try #require(try await ada.createProduct("Moth Atlas", price: 1900, publish: true)["id"] as? String)
            let font = try #require(try await bo.createProduct("Grotesk Font", price: 2500, publish: true)["id"] as? String)

            let guest = Browser(client: browser.client)
            #expect(try await guest.get("/api/v1/cart").object["total"] as? Int == 0)
            let first = try await guest.json(.post, "/api/v1/cart/items", #"{"product_id":"\#(book)"}"#)
            #expect(first.status == .ok)
            #expect(guest.cookies["souk_cart"] != nil, "a guest cart lives in a cookie")
            let cookie = try #require(first.headers[values: .setCookie].first { $0.hasPrefix("souk_cart=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
            let second = try await guest.json(.post, "/api/v1/cart/items", #"{"product_id":"\#(font)","quantity":2}"#)
            #expect(second.object["total"] as? Int == 1900 + 2 * 2500)
            #expect(second.object["item_count"] as? Int == 3)
            let items = try #require(second.object["items"] as? [[String: Any]])
            #expect(Set(items.compactMap { $0["seller_name"] as? String }) == ["Ada", "Bo"])

            let removed = try await guest.request(.delete, "/api/v1/cart/items/\(font)")
            #expect(removed.object["total"] as? Int == 1900)
            // Someone else's browser has its own (empty) cart.
            #expect(try await Browser(client: browser.client).get("/api/v1/cart").object["total"] as? Int == 0)
        }
    }

    @Test("Pay what you want: at or above the minimum; a fixed price cannot be changed", arguments: [
        (#"{"amount":400}"#, 422), (#"{"amount":500}"#, 200), (#"{"amount":1200}"#, 200), (#"{}"#, 200),
    ])
    func payWhatYouWant(extra: String, status: Int) async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let zine = try #require(
                try await seller.createProduct("Zine", price: 900, publish: true, extra: ["min_price": 500])["id"] as? String)
            let body = "{\"product_id\":\"\(zine)\"," + extra.dropFirst()
            let response = try await Browser(client: browser.client).json(.post, "/api/v1/cart/items", body)
            #expect(Int(response.status.code) == status, "\(body): \(response.text)")
            if status == 200 {
                let expected = (try JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: Int])?["amount"] ?? 900
                #expect(response.object["total"] as? Int == expected)
            } else {
                #expect(response.object["field"] as? String == "amount")
            }
        }
    }

    @Test("Refused: fixed price changed, drafts, sold out, bad quantities, a second currency")
    func refusals() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let fixed = try #require(try await seller.createProduct("Fixed", price: 1000, publish: true)["id"] as? String)
            let draft = try #require(try await seller.createProduct("Draft", price: 1000)["id"] as? String)
            let limited = try #require(
                try await seller.createProduct("Limited", price: 1000, publish: true, extra: ["stock": 2])["id"] as? String)
            let euro = try #require(
                try await seller.createProduct("Euro Thing", price: 1000, publish: true, extra: ["currency": "EUR"])["id"] as? String)
            let buyer = Browser(client: browser.client)
            func add(_ body: String) async throws -> TestResponse { try await buyer.json(.post, "/api/v1/cart/items", body) }

            #expect(try await add(#"{"product_id":"\#(fixed)","amount":1}"#).status == .unprocessableContent)
            #expect(try await add(#"{"product_id":"\#(draft)"}"#).status == .notFound)
            #expect(try await add(#"{"product_id":"prod_nope"}"#).status == .notFound)
            #expect(try await add(#"{"product_id":"\#(limited)","quantity":3}"#).status == .unprocessableContent)
            #expect(try await add(#"{"product_id":"\#(limited)","quantity":0}"#).status == .unprocessableContent)
            #expect(try await add(#"{"product_id":"\#(limited)","quantity":2}"#).status == .ok)
            let conflict = try await add(#"{"product_id":"\#(euro)"}"#)
            #expect(conflict.status == .conflict)
            #expect(conflict.isProblem)
            #expect(try await add(#"{"quantity":1}"#).status == .badRequest)
        }
    }

    @Test("Signing in folds the guest cart into the account's; the account sees it everywhere")
    func mergeOnSignIn() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let a = try #require(try await seller.createProduct("A", price: 100, publish: true)["id"] as? String)
            let b = try #require(try await seller.createProduct("B", price: 200, publish: true)["id"] as? String)

            // The account already holds B (from another device).
            let phone = Browser(client: browser.client)
            try await phone.register("buyer@example.com", password: "12345678")
            _ = try await phone.json(.post, "/api/v1/cart/items", #"{"product_id":"\#(b)"}"#)

            let laptop = Browser(client: browser.client)
            _ = try await laptop.json(.post, "/api/v1/cart/items", #"{"product_id":"\#(a)","quantity":2}"#)
            _ = try await laptop.json(.post, "/api/v1/auth/login", #"{"email":"buyer@example.com","password":"12345678"}"#)
            let merged = try await laptop.get("/api/v1/cart")
            #expect(merged.object["total"] as? Int == 2 * 100 + 200)
            #expect(laptop.cookies["souk_cart"] == nil, "the guest cookie is cleared once merged")
            #expect(try await phone.get("/api/v1/cart").object["total"] as? Int == 400)
        }
    }

    @Test("A product that leaves the store stays in the cart, marked unavailable and out of the total")
    func unavailable() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let product = try #require(try await seller.createProduct("Gone Soon", price: 700, publish: true)["id"] as? String)
            let buyer = Browser(client: browser.client)
            _ = try await buyer.json(.post, "/api/v1/cart/items", #"{"product_id":"\#(product)"}"#)
            _ = try await seller.json(.patch, "/api/v1/products/\(product)", #"{"status":"archived"}"#)
            let cart = try await buyer.get("/api/v1/cart")
            let item = try #require((cart.object["items"] as? [[String: Any]])?.first)
            #expect(item["available"] as? Bool == false)
            #expect(cart.object["total"] as? Int == 0)
        }
    }

    @Test("A cart expires 30 days after its last change")
    func expiry() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let product = try #require(try await seller.createProduct("Thing", price: 700, publish: true)["id"] as? String)
            let buyer = Browser(client: browser.client)
            let added = try await buyer.json(.post, "/api/v1/cart/items", #"{"product_id":"\#(product)"}"#)
            let expires = try #require(added.object["expires_at"] as? String)
            let date = try #require(ISO8601DateFormatter().date(from: expires))
            #expect(abs(date.timeIntervalSinceNow - 30 * 86_400) < 120)
            try await store.database.writer.write { db in
                try db.execute(sql: "UPDATE carts SET expires_at = '2000-01-01 00:00:00.000'")
            }
            #expect(try await buyer.get("/api/v1/cart").object["total"] as? Int == 0)
        }
    }
}
