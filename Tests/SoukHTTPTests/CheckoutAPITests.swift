import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
@testable import SoukDatabase
import Testing


private func checkoutStore() throws -> TestStore { try TestStore { $0.store.marketplace = true } }

extension Browser {
    func addToCart(_ productID: String, quantity: Int = 1) async throws {
        let added = try await json(.post, "/api/v1/cart/items", #"{"product_id":"\#(productID)","quantity":\#(quantity)}"#)
        #expect(added.status == .ok, "add to cart: \(added.text)")
    }

    func checkout(_ body: String = "{}", key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key { headers[.init("Idempotency-Key")!] = key }
        return try await json(.post, "/api/v1/checkout", body, headers: headers)
    }
}

extension TestResponse {
    var order: [String: Any] { object["order"] as? [String: Any] ?? [:] }
    var location: String { headers[.location] ?? "" }
}

private func signed(_ signature: String) -> HTTPFields {
    var headers: HTTPFields = [.contentType: "application/json"]
    headers[.init("Stripe-Signature")!] = signature
    return headers
}

/// The path and query of an absolute URL (the test client speaks to the router directly).
private func pathAndQuery(_ url: String) throws -> String {
    let components = try #require(URLComponents(string: url))
    return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
}

private func queryItem(_ name: String, in url: String) -> String? {
    URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value
}

@Suite("Checkout API, orders API, webhooks and checkout pages")
struct CheckoutAPITests {
    @Test("Without a cart: 422 problem naming the cart; a guest must give an e-mail first")
    func noCart() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            let empty = try await buyer.checkout(#"{"provider":"test"}"#)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.isProblem)
            #expect(empty.object["field"] as? String == "cart")

            let guest = Browser(client: browser.client)
            let noEmail = try await guest.checkout()
            #expect(noEmail.status == .unprocessableContent)
            #expect(noEmail.isProblem)
            #expect(noEmail.object["field"] as? String == "email")
            let guestEmpty = try await guest.checkout(#"{"email":"nobody@example.com"}"#)
            #expect(guestEmpty.status == .unprocessableContent)
            #expect(guestEmpty.object["field"] as? String == "cart")
            #expect(try await store.database.userRecord(email: "nobody@example.com") == nil, "no account for an empty cart")
            #expect(try await store.database.orders(.all).isEmpty)
        }
    }

    @Test("A guest checks out with an e-mail: 201, and the order belongs to a new buyer account with that e-mail")
    func guestCheckout() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try #require(try await seller.createProduct("Moth Atlas", price: 1900, publish: true)["id"] as? String)
            let guest = Browser(client: browser.client)
            try await guest.addToCart(product, quantity: 2)

            let noEmail = try await guest.checkout(#"{"provider":"test"}"#)
            #expect(noEmail.status == .unprocessableContent)
            #expect(noEmail.object["field"] as? String == "email")
            let badEmail = try await guest.checkout(#"{"email":"not-an-email"}"#)
            #expect(badEmail.status == .unprocessableContent)
            #expect(badEmail.object["field"] as? String == "email")
            #expect(try await store.database.orders(.all).isEmpty)

            let created = try await guest.checkout(#"{"email":"  Guest@Example.COM ","provider":"test"}"#, key: "guest-1")
            #expect(created.status == .created, "\(created.text)")
            let order = created.order
            let orderID = try #require(order["id"] as? String)
            #expect(order["status"] as? String == "created")
            #expect(order["total"] as? Int == 3800)
            #expect(order["currency"] as? String == "USD")
            #expect(order["provider"] as? String == "test")
            #expect(order["buyer_email"] as? String == "guest@example.com")
            #expect((order["items"] as? [[String: Any]])?.first?["quantity"] as? Int == 2)
            let redirect = try #require(created.object["redirect_url"] as? String)
            #expect(redirect.contains("/test-checkout/cs_test_"))
            #expect(order["payment_url"] as? String == redirect)

            let account = try #require(try await store.database.userRecord(email: "guest@example.com"))
            #expect(account.role == Role.buyer.rawValue)
            #expect(try await store.database.order(id: orderID)?.buyerID == account.id)

            // Repeating with the same key: the same order, no second account or order.
            let again = try await guest.checkout(#"{"email":"guest@example.com"}"#, key: "guest-1")
            #expect(again.order["id"] as? String == orderID)
            #expect(try await store.database.orders(.all).count == 1)
            #expect(try await store.database.users(role: .buyer).count == 1)
        }
    }

    @Test("Provider: unknown → 422 field provider; stripe when not configured → 422")
    func providers() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try #require(try await seller.createProduct("Thing", price: 500, publish: true)["id"] as? String)
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            try await buyer.addToCart(product)

            let unknown = try await buyer.checkout(#"{"provider":"bitcoin"}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.isProblem)
            #expect(unknown.object["field"] as? String == "provider")
            let stripe = try await buyer.checkout(#"{"provider":"stripe"}"#)
            #expect(stripe.status == .unprocessableContent)
            #expect(stripe.object["field"] as? String == "provider")
            let paypal = try await buyer.checkout(#"{"provider":"paypal"}"#)
            #expect(paypal.status == .unprocessableContent)
            #expect(try await store.database.orders(.all).isEmpty)
            // The default provider (test) works.
            #expect(try await buyer.checkout().status == .created)
        }
    }

    @Test("The same Idempotency-Key returns the same order; a malformed key is a bad request")
    func idempotency() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try #require(
                try await seller.createProduct("Limited", price: 500, publish: true, extra: ["stock": 5])["id"] as? String)
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            try await buyer.addToCart(product, quantity: 2)

            let first = try await buyer.checkout(key: "order-key-1")
            #expect(first.status == .created)
            let id = try #require(first.order["id"] as? String)
            let second = try await buyer.checkout(key: "order-key-1")
            #expect(second.order["id"] as? String == id)
            #expect(second.object["redirect_url"] as? String == first.object["redirect_url"] as? String)
            #expect(try await store.database.product(id: product)?.stock == 3, "stock held once")

            let bad = try await buyer.checkout(key: "two words")
            #expect(bad.status == .badRequest)
            #expect(bad.isProblem)
            #expect(try await store.database.orders(.all).count == 1)
        }
    }

    @Test("Orders API: buyers see theirs, sellers the orders with their lines (only those), others nothing")
    func ordersAPI() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let ada = try await store.verifiedSeller(browser, "ada@example.com", name: "Ada")
            let bo = try await store.verifiedSeller(browser, "bo@example.com", name: "Bo")
            let book = try #require(try await ada.createProduct("Book", price: 1000, publish: true)["id"] as? String)
            let font = try #require(try await bo.createProduct("Font", price: 2500, publish: true)["id"] as? String)
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            try await buyer.addToCart(book)
            try await buyer.addToCart(font)
            let id = try #require(try await buyer.checkout().order["id"] as? String)

            let mine = try await buyer.get("/api/v1/orders")
            #expect(mine.status == .ok)
            let mineData = try #require(mine.object["data"] as? [[String: Any]])
            #expect(mineData.map { $0["id"] as? String } == [id])
            #expect(mineData.first?["total"] as? Int == 3500)
            #expect(mine.object.keys.contains("next_cursor"))
            let shown = try await buyer.get("/api/v1/orders/\(id)")
            #expect(shown.status == .ok)
            #expect((shown.object["items"] as? [[String: Any]])?.count == 2)

            let adaList = try await ada.get("/api/v1/orders")
            let adaOrder = try #require((adaList.object["data"] as? [[String: Any]])?.first)
            #expect(adaOrder["id"] as? String == id)
            #expect((adaOrder["items"] as? [[String: Any]])?.map { $0["title"] as? String } == ["Book"])
            #expect(adaOrder["total"] as? Int == 1000)
            #expect(adaOrder["payment_url"] is NSNull)
            #expect(try await ada.get("/api/v1/orders/\(id)").status == .ok)
            // Ada as a buyer has bought nothing.
            #expect((try await ada.get("/api/v1/orders?role=buyer").object["data"] as? [Any])?.isEmpty == true)

            let other = Browser(client: browser.client)
            try await other.register("other@example.com")
            #expect((try await other.get("/api/v1/orders").object["data"] as? [Any])?.isEmpty == true)
            let hidden = try await other.get("/api/v1/orders/\(id)")
            #expect(hidden.status == .notFound)
            #expect(hidden.isProblem)
            #expect(try await other.get("/orders/\(id)").status == .notFound)
            #expect(try await other.json(.post, "/api/v1/orders/\(id)/refund", "{}").status == .notFound)
            let charlie = try await store.verifiedSeller(browser, "charlie@example.com")
            #expect(try await charlie.get("/api/v1/orders/\(id)").status == .notFound)

            #expect(try await Browser(client: browser.client).get("/api/v1/orders").status == .unauthorized)
            #expect(try await buyer.get("/api/v1/orders?status=nonsense").status == .unprocessableContent)
            #expect((try await buyer.get("/api/v1/orders?status=paid").object["data"] as? [Any])?.isEmpty == true)
            // Refunding an unpaid order: the buyer may see it but not refund it.
            #expect(try await buyer.json(.post, "/api/v1/orders/\(id)/refund", "{}").status == .forbidden)
        }
    }

    @Test("Orders API pages with limit and cursor, newest first")
    func ordersPaging() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            var ids: [String] = []
            for n in 1...3 {
                // Each checkout sees a bigger cart, so each makes a new order.
                let product = try #require(try await seller.createProduct("Item \(n)", price: 100 * n, publish: true)["id"] as? String)
                try await buyer.addToCart(product)
                let created = try await buyer.checkout()
                #expect(created.status == .created)
                ids.append(try #require(created.order["id"] as? String))
            }
            #expect(Set(ids).count == 3)
            let first = try await buyer.get("/api/v1/orders?limit=2")
            let firstIDs = (first.object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(firstIDs == [ids[2], ids[1]])
            let cursor = try #require(first.object["next_cursor"] as? String)
            #expect(cursor == ids[1])
            let second = try await buyer.get("/api/v1/orders?limit=2&cursor=\(cursor)")
            #expect((second.object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[0]])
            #expect(second.object["next_cursor"] is NSNull)
            #expect(try await buyer.get("/api/v1/orders?limit=0").status == .unprocessableContent)
            #expect(try await buyer.get("/api/v1/orders?limit=101").status == .unprocessableContent)
            #expect(try await buyer.get("/api/v1/orders?role=owner").status == .unprocessableContent)
        }
    }

    @Test("Webhooks: stripe not configured → 404; a bad test signature → 400 problem+json; unknown provider → 404")
    func webhooks() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let body = #"{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"cs_1"}}}"#
            let now = Int(Date().timeIntervalSince1970)
            let stripe = try await browser.request(
                .post, "/webhooks/stripe",
                headers: signed("t=\(now),v1=abc"), body: body)
            #expect(stripe.status == .notFound)
            #expect(stripe.isProblem)

            for header in ["t=\(now),v1=0123456789abcdef", "t=1,v1=abc", "garbage"] {
                let bad = try await browser.request(
                    .post, "/webhooks/test",
                    headers: signed(header), body: body)
                #expect(bad.status == .badRequest, "\(header)")
                #expect(bad.isProblem)
            }
            let unsigned = try await browser.request(.post, "/webhooks/test", headers: [.contentType: "application/json"], body: body)
            #expect(unsigned.status == .badRequest)
            #expect(unsigned.isProblem)
            #expect(try await browser.request(.post, "/webhooks/bogus", body: body).status == .notFound)
            let recorded = try await store.database.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM payment_events")
            }
            #expect(recorded == 0, "nothing is recorded for a rejected webhook")
        }
    }

    @Test("Pages: /checkout → /cart when empty; the form; TEST MODE page; Pay; the order page needs the right key")
    func pages() async throws {
        let store = try checkoutStore()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try #require(try await seller.createProduct("Zine", price: 700, publish: true)["id"] as? String)
            let guest = Browser(client: browser.client)

            let empty = try await guest.get("/checkout", headers: [.accept: "text/html"])
            #expect(empty.status == .seeOther)
            #expect(empty.location == "/cart")

            try await guest.addToCart(product)
            let form = try await guest.get("/checkout", headers: [.accept: "text/html"])
            #expect(form.status == .ok)
            #expect(form.text.contains("id=\"checkout-form\""))
            #expect(form.text.contains("name=\"email\""), "guests are asked for an e-mail")

            // Submitted without an e-mail: the form again with the error, 422.
            let refused = try await guest.submitForm("/checkout", fields: ["provider": "test"], csrfFrom: "/checkout")
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("checkout-error"))

            let submitted = try await guest.submitForm(
                "/checkout", fields: ["provider": "test", "email": "zine@example.com", "idempotency_key": "form-1"],
                csrfFrom: "/checkout")
            #expect(submitted.status == .seeOther, "\(submitted.text)")
            #expect(submitted.location.contains("/test-checkout/cs_test_"))
            let testPage = try pathAndQuery(submitted.location)
            let sessionID = String(testPage.split(separator: "/").last ?? "")

            let hosted = try await guest.get(testPage, headers: [.accept: "text/html"])
            #expect(hosted.status == .ok)
            #expect(hosted.text.contains("TEST MODE"))
            #expect(hosted.text.contains("zine@example.com"))
            #expect(try await guest.get("/test-checkout/cs_test_nope", headers: [.accept: "text/html"]).status == .notFound)

            let orderID = try #require(try await store.database.orders(.all).first?.id)
            // A stranger without a key (or with a wrong one) is told there is no such order.
            let stranger = Browser(client: browser.client)
            #expect(try await stranger.get("/orders/\(orderID)?key=wrong", headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await stranger.get("/orders/\(orderID)").status == .notFound)

            // Pay: back to the store's success page with the order's view key.
            let paid = try await guest.submitForm("\(testPage)/pay", fields: [:], csrfFrom: testPage)
            #expect(paid.status == .seeOther)
            let success = paid.location
            #expect(success.contains("/checkout/success?order=\(orderID)"))
            #expect(queryItem("session_id", in: success) == sessionID)
            let key = try #require(queryItem("key", in: success))
            #expect(!key.isEmpty)

            let page = try await stranger.get("/orders/\(orderID)?key=\(key)", headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            #expect(page.text.contains(orderID))
            // The key opens this order only.
            #expect(try await stranger.get("/orders/ord_other?key=\(key)", headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await stranger.get("/orders/\(orderID)?key=\(key)x", headers: [.accept: "text/html"]).status == .notFound)

            // The success page asks the provider and records the payment (no webhook needed).
            let thanks = try await stranger.get(try pathAndQuery(success), headers: [.accept: "text/html"])
            #expect(thanks.status == .ok)
            #expect(thanks.text.contains("Thank you!"))
            #expect(try await store.database.order(id: orderID)?.status == .paid)
            #expect(try await store.database.grants(orderID: orderID).count == 1)
            // The hosted page is settled now.
            let settled = try await guest.get(testPage, headers: [.accept: "text/html"])
            #expect(settled.text.contains("test-settled"))
            #expect(!settled.text.contains("id=\"test-pay\""))
            // The cancel page needs the key too.
            #expect(try await stranger.get("/checkout/cancel?order=\(orderID)&key=wrong", headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await stranger.get("/checkout/cancel?order=\(orderID)&key=\(key)", headers: [.accept: "text/html"]).status == .ok)
        }
    }
}
