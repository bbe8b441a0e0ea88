import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import Testing

@Suite("The cart in the browser")
struct CartPagesTests {
    @Test("Add to cart from the product page, see it in /cart with the total, remove it")
    func addFromProductPage() async throws {
        let store = try TestStore { $0.store.marketplace = true }
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com", name: "Ada")
            let product = try await seller.createProduct("Moth <Atlas>", price: 1900, publish: true)
            let slug = try #require(product["slug"] as? String)
            let id = try #require(product["id"] as? String)

            let buyer = Browser(client: browser.client)
            let page = try await buyer.get("/products/\(slug)", headers: [.accept: "text/html"])
            #expect(page.text.contains(#"id="add-to-cart""#))
            let added = try await buyer.submitForm("/cart/items", fields: ["product_id": id], csrfFrom: "/products/\(slug)")
            #expect(added.status == .seeOther)
            #expect(added.headers[.location] == "/cart")
            let cart = try await buyer.get("/cart", headers: [.accept: "text/html"])
            #expect(cart.text.contains("Moth &lt;Atlas&gt;"))
            #expect(cart.text.contains(#"<th id="cart-total">$19.00</th>"#))

            let removed = try await buyer.submitForm("/cart/items/\(id)/remove", fields: [:], csrfFrom: "/cart")
            #expect(removed.status == .seeOther)
            #expect(try await buyer.get("/cart", headers: [.accept: "text/html"]).text.contains(#"id="cart-empty""#))
        }
    }

    @Test("Pay what you want from the form, in major units; below the minimum is refused with the reason")
    func payWhatYouWantForm() async throws {
        let store = try TestStore { $0.store.marketplace = true }
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let product = try await seller.createProduct("Zine", price: 900, publish: true, extra: ["min_price": 500])
            let slug = try #require(product["slug"] as? String)
            let id = try #require(product["id"] as? String)
            let buyer = Browser(client: browser.client)
            let page = try await buyer.get("/products/\(slug)", headers: [.accept: "text/html"])
            #expect(page.text.contains("at least $5.00"))
            let low = try await buyer.submitForm(
                "/cart/items", fields: ["product_id": id, "amount": "4.99"], csrfFrom: "/products/\(slug)")
            // The product page again: the message beside the form, in money, and the amount kept.
            #expect(low.status == .unprocessableContent)
            #expect(low.text.contains(#"<p class="error" role="alert" id="cart-error">Pay at least $5.00 for Zine"#))
            #expect(low.text.contains(#"name="amount" value="4.99""#))
            #expect(low.text.contains(#"aria-invalid="true""#))
            #expect(low.text.contains("<h1>Zine</h1>") || low.text.contains(">Zine<"))
            let unreadable = try await buyer.submitForm(
                "/cart/items", fields: ["product_id": id, "amount": "five"], csrfFrom: "/products/\(slug)")
            #expect(unreadable.status == .unprocessableContent)
            #expect(unreadable.text.contains("Enter an amount like 5.00") && unreadable.text.contains(#"value="five""#))
            let fine = try await buyer.submitForm(
                "/cart/items", fields: ["product_id": id, "amount": "7.50"], csrfFrom: "/products/\(slug)")
            #expect(fine.status == .seeOther)
            #expect(try await buyer.get("/api/v1/cart").object["total"] as? Int == 750)
        }
    }

    @Test("A sold-out or draft product offers no Add to cart")
    func notBuyable() async throws {
        let store = try TestStore { $0.store.marketplace = true }
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let soldOut = try await seller.createProduct("Gone", price: 900, publish: true, extra: ["stock": 0])
            let page = try await Browser(client: browser.client).get(
                "/products/\(try #require(soldOut["slug"] as? String))", headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            #expect(!page.text.contains(#"id="add-to-cart""#))
            #expect(page.text.contains("Sold out"))
        }
    }
}
