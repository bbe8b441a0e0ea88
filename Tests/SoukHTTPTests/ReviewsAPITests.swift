import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import SoukDatabase
@testable import SoukHTTP
import Testing

private func reviewStore() throws -> TestStore {
    try TestStore { settings in
        settings.store.marketplace = true
        settings.server.baseURL = "https://shop.example.com/"
    }
}

extension Browser {
    func review(_ productID: String, _ body: String) async throws -> TestResponse {
        try await json(.post, "/api/v1/products/\(productID)/reviews", body)
    }

    func reviews(_ productID: String, _ query: String = "") async throws -> [String: Any] {
        let response = try await get("/api/v1/products/\(productID)/reviews\(query)")
        #expect(response.status == .ok, "reviews: \(response.text)")
        return response.object
    }
}

@Suite("Reviews: API, rating, search and the product page")
struct ReviewsAPITests {
    @Test("Only a buyer may review: 401 signed out, 403 without a paid order or as the seller, 404 unknown product")
    func eligibility() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let valid = #"{"rating":5,"body":"Great"}"#

            let anonymous = try await Browser(client: browser.client).review(productID, valid)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.isProblem)

            let stranger = Browser(client: browser.client)
            try await stranger.register("stranger@example.com")
            let refused = try await stranger.review(productID, valid)
            #expect(refused.status == .forbidden)
            #expect(refused.isProblem)
            #expect(refused.object["code"] as? String == "forbidden")
            #expect(refused.object["detail"] as? String == "Only buyers who bought this product may review it.")
            // An order not paid yet gives no right to review.
            try await stranger.addToCart(productID)
            #expect(try await stranger.checkout(#"{"provider":"test"}"#).status == .created)
            #expect(try await stranger.review(productID, valid).status == .forbidden)

            let own = try await seller.review(productID, valid)
            #expect(own.status == .forbidden)
            #expect((own.object["detail"] as? String)?.contains("own products") == true)

            let unknown = try await stranger.review("prod_nope", valid)
            #expect(unknown.status == .notFound)
            #expect(unknown.isProblem)
            #expect(try await stranger.get("/api/v1/products/prod_nope/reviews").status == .notFound)
            #expect(try await store.database.review(productID: productID, userID: "usr_x") == nil)
            #expect(try await browser.reviews(productID)["data"] as? [Any] != nil)
        }
    }

    @Test("A buyer reviews (201); a second POST replaces it (200, same id); bad fields are 422 naming them")
    func writeAndReplace() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])

            for (body, field) in [
                (#"{"rating":0,"body":"x"}"#, "rating"), (#"{"rating":6,"body":"x"}"#, "rating"),
                (#"{"rating":3,"body":"  "}"#, "body"),
                (#"{"rating":3,"title":"\#(String(repeating: "t", count: 201))","body":"x"}"#, "title"),
                (#"{"rating":3,"body":"\#(String(repeating: "b", count: 10_001))"}"#, "body"),
            ] {
                let response = try await buyer.review(productID, body)
                #expect(response.status == .unprocessableContent, "\(field): \(response.text)")
                #expect(response.object["code"] as? String == "validation_failed")
                #expect(response.object["field"] as? String == field)
            }
            let missing = try await buyer.review(productID, #"{"rating":3}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.object["field"] as? String == "body")

            let created = try await buyer.review(
                productID, #"{"rating":2,"title":"Thin","body":"Only **two** chapters <script>alert(1)</script>"}"#)
            #expect(created.status == .created, "\(created.text)")
            let review = created.object
            let id = try #require(review["id"] as? String)
            #expect(id.hasPrefix("rev_"))
            #expect(review["product_id"] as? String == productID)
            #expect(review["rating"] as? Int == 2)
            #expect(review["title"] as? String == "Thin")
            #expect(review["author_name"] as? String == "Test")
            let html = try #require(review["body_html"] as? String)
            #expect(html.contains("<strong>two</strong>"))
            #expect(!html.contains("<script>"))
            #expect(review["seller_reply"] is NSNull)
            #expect(review["seller_reply_at"] is NSNull)
            #expect((review["created_at"] as? String)?.hasSuffix("Z") == true)

            var product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 2)
            #expect(product["rating_count"] as? Int == 1)

            // The seller hears of it, once (not again when it is replaced).
            func reviewNotices() async throws -> [[String: Any]] {
                let notices = try #require(try await seller.get("/api/v1/notifications").object["data"] as? [[String: Any]])
                return notices.filter { $0["type"] as? String == "review.created" }
            }
            #expect(try await reviewNotices().count == 1)
            #expect(try await reviewNotices().first?["body"] as? String == "Test rated it 2 out of 5: “Thin”")

            let replaced = try await buyer.review(productID, #"{"rating":4,"body":"Grew on me."}"#)
            #expect(replaced.status == .ok, "\(replaced.text)")
            #expect(replaced.object["id"] as? String == id)
            #expect(replaced.object["rating"] as? Int == 4)
            #expect(replaced.object["title"] is NSNull)
            #expect(replaced.object["created_at"] as? String == review["created_at"] as? String)
            #expect(try await reviewNotices().count == 1)

            let list = try await browser.reviews(productID)
            let data = try #require(list["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data.first?["rating"] as? Int == 4)
            #expect(data.first?["body"] as? String == "Grew on me.")
            #expect(list["next_cursor"] is NSNull)
            let summary = try #require(list["rating_summary"] as? [String: Any])
            #expect(summary["average"] as? Double == 4)
            #expect(summary["count"] as? Int == 1)
            #expect(summary["distribution"] as? [String: Int] == ["1": 0, "2": 0, "3": 0, "4": 1, "5": 0])
            product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 4)
            #expect(product["rating_count"] as? Int == 1)
        }
    }

    @Test("Reviews are listed newest first, paged by limit and cursor")
    func paging() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser, files: [])
            for (index, rating) in [5, 4, 3].enumerated() {
                let (buyer, _) = try await store.paidBuyer(browser, "buyer\(index)@example.com", buying: [productID])
                #expect(try await buyer.review(productID, #"{"rating":\#(rating),"body":"Review \#(index)"}"#).status == .created)
            }
            let first = try await browser.reviews(productID, "?limit=2")
            let firstPage = try #require(first["data"] as? [[String: Any]])
            #expect(firstPage.compactMap { $0["body"] as? String } == ["Review 2", "Review 1"])
            let cursor = try #require(first["next_cursor"] as? String)
            let second = try await browser.reviews(productID, "?limit=2&cursor=\(cursor)")
            #expect((second["data"] as? [[String: Any]])?.compactMap { $0["body"] as? String } == ["Review 0"])
            #expect(second["next_cursor"] is NSNull)
            let summary = try #require(first["rating_summary"] as? [String: Any])
            #expect(summary["average"] as? Double == 4)
            #expect(summary["count"] as? Int == 3)

            #expect(try await browser.get("/api/v1/products/\(productID)/reviews?limit=0").status == .unprocessableContent)
            let foreign = try await browser.get("/api/v1/products/\(productID)/reviews?cursor=rev_nope")
            #expect(foreign.status == .badRequest)
            #expect(foreign.object["field"] as? String == "cursor")
        }
    }

    @Test("A new rating reaches min_rating and sort=rating at once, with both search engines")
    func search() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser, title: "Moth Atlas", files: [])
            let other = try await seller.createProduct("Beetle Atlas", publish: true)
            try await store.setRating(try #require(other["id"] as? String), 3.5, count: 2)
            let fts = try AppDatabase(path: store.directory.appendingPathComponent("souk.db").path, searchEngine: .fts5)
            func ftsTitles(_ minRating: Double?, sort: ProductQuery.Sort? = nil) async throws -> [String] {
                var query = ProductQuery()
                query.minRating = minRating
                query.sort = sort
                return try await fts.search(query).hits.map(\.product.title)
            }
            // Warm the in-memory index before the review, so the change must reach it.
            #expect(try await browser.search("min_rating=4").titles == [])
            #expect(try await browser.search("sort=rating").titles == ["Beetle Atlas", "Moth Atlas"])

            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            #expect(try await buyer.review(productID, #"{"rating":5,"body":"Superb"}"#).status == .created)
            #expect(try await browser.search("min_rating=4").titles == ["Moth Atlas"])
            #expect(try await browser.search("sort=rating").titles == ["Moth Atlas", "Beetle Atlas"])
            #expect(try await ftsTitles(4) == ["Moth Atlas"])
            #expect(try await ftsTitles(nil, sort: .rating) == ["Moth Atlas", "Beetle Atlas"])

            #expect(try await buyer.review(productID, #"{"rating":3,"body":"On second thought"}"#).status == .ok)
            #expect(try await browser.search("min_rating=4").titles == [])
            #expect(try await browser.search("min_rating=3").titles == ["Beetle Atlas", "Moth Atlas"])
            #expect(try await browser.search("sort=rating").titles == ["Beetle Atlas", "Moth Atlas"])
            #expect(try await ftsTitles(4) == [])
            #expect(try await ftsTitles(nil, sort: .rating) == ["Beetle Atlas", "Moth Atlas"])
        }
    }

    @Test("A full refund withdraws the buyer's rating: no longer counted or listed, and no new review")
    func refundWithdraws() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let (buyer, orderID) = try await store.paidBuyer(browser, buying: [productID])
            let (other, _) = try await store.paidBuyer(browser, "other@example.com", buying: [productID])
            #expect(try await buyer.review(productID, #"{"rating":1,"body":"Bad"}"#).status == .created)
            #expect(try await other.review(productID, #"{"rating":5,"body":"Good"}"#).status == .created)
            var product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 3)
            #expect(product["rating_count"] as? Int == 2)
            #expect(try await browser.search("min_rating=4").titles == [])

            #expect(try await seller.json(.post, "/api/v1/orders/\(orderID)/refund", "{}").status == .ok)
            product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 5)
            #expect(product["rating_count"] as? Int == 1)
            #expect(try await browser.search("min_rating=4").titles == ["Field Guide"])
            let list = try await browser.reviews(productID)
            #expect((list["data"] as? [[String: Any]])?.compactMap { $0["body"] as? String } == ["Good"])
            let buyerID = try #require(try await buyer.userID())
            let withdrawn = try #require(try await store.database.review(productID: productID, userID: buyerID))
            #expect(withdrawn.withdrawnAt != nil && !withdrawn.isVisible)

            let again = try await buyer.review(productID, #"{"rating":1,"body":"Still bad"}"#)
            #expect(again.status == .forbidden)
            #expect(again.object["detail"] as? String == "Only buyers who bought this product may review it.")

            // Bought again: the same review comes back, replaced.
            _ = try await store.pay(buyer, for: [productID])
            let back = try await buyer.review(productID, #"{"rating":2,"body":"Second copy"}"#)
            #expect(back.status == .ok, "\(back.text)")
            #expect(back.object["id"] as? String == withdrawn.id)
            product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 3.5)
            #expect(product["rating_count"] as? Int == 2)
        }
    }

    @Test("The product page shows the rating and the newest reviews, escaped")
    func productPage() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let empty = try await browser.get("/products/field-guide", headers: [.accept: "text/html"])
            #expect(empty.status == .ok)
            #expect(empty.text.contains("No reviews yet."))
            #expect(empty.text.contains("No ratings yet"))

            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let posted = try await buyer.review(
                productID, #"{"rating":4,"title":"<b>Bold</b> claim","body":"Nice *maps*. <img src=x onerror=alert(1)>"}"#)
            #expect(posted.status == .created)
            let page = try await browser.get("/products/field-guide", headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            #expect(page.text.contains("4.0 / 5 (1 rating)"))
            #expect(page.text.contains("id=\"product-reviews\""))
            #expect(page.text.contains("★★★★☆"))
            #expect(page.text.contains("&lt;b&gt;Bold&lt;/b&gt; claim"))
            #expect(page.text.contains("<em>maps</em>"))
            #expect(!page.text.contains("onerror=alert"))
            #expect(!page.text.contains("No reviews yet."))
        }
    }
}

extension ReviewsAPITests {
    @Test("The seller replies (201) and edits the one reply (200); the author hears of it once; others may not; the reply shows under the review")
    func sellerReply() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let reviewID = try #require(
                try await buyer.review(productID, #"{"rating":4,"body":"Good"}"#).object["id"] as? String)
            let path = "/api/v1/products/\(productID)/reviews/\(reviewID)/reply"

            #expect(try await Browser(client: browser.client).json(.post, path, #"{"body":"Hi"}"#).status == .unauthorized)
            let byBuyer = try await buyer.json(.post, path, #"{"body":"Me too"}"#)
            #expect(byBuyer.status == .forbidden)
            #expect(byBuyer.isProblem)
            let other = try await store.verifiedSeller(browser, "other-seller@example.com")
            #expect(try await other.json(.post, path, #"{"body":"Hi"}"#).status == .forbidden)
            let empty = try await seller.json(.post, path, #"{"body":"  "}"#)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.object["field"] as? String == "body")
            let unknown = try await seller.json(.post, "/api/v1/products/\(productID)/reviews/rev_nope/reply", #"{"body":"Hi"}"#)
            #expect(unknown.status == .notFound)

            let replied = try await seller.json(.post, path, #"{"body":"Thanks <3"}"#)
            #expect(replied.status == .created, "\(replied.text)")
            #expect(replied.object["seller_reply"] as? String == "Thanks <3")
            #expect((replied.object["seller_reply_at"] as? String)?.hasSuffix("Z") == true)
            let again = try await seller.json(.post, path, #"{"body":"Thanks <3, fixed in 1.1"}"#)
            #expect(again.status == .ok, "a second reply edits the first: \(again.text)")
            #expect(again.object["seller_reply"] as? String == "Thanks <3, fixed in 1.1")
            let told = try await buyer.get("/api/v1/notifications")
            let replies = (told.object["data"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "review.replied" }
            #expect(replies.count == 1, "the author hears of the reply once, not of each edit: \(told.text)")

            let listed = try #require((try await browser.reviews(productID))["data"] as? [[String: Any]])
            #expect(listed.first?["seller_reply"] as? String == "Thanks <3, fixed in 1.1")
            // Replacing the review keeps the reply.
            #expect(
                try await buyer.review(productID, #"{"rating":5,"body":"Better"}"#).object["seller_reply"] as? String
                    == "Thanks <3, fixed in 1.1")
            let page = try await browser.get("/products/field-guide", headers: [.accept: "text/html"])
            #expect(page.text.contains("Thanks &lt;3, fixed in 1.1"))
            #expect(page.text.contains("Reply from Seller"))
        }
    }
}

extension ReviewsAPITests {
    @Test("An admin hides a review: not listed, not counted (search too); shown again, it counts again")
    func adminHides() async throws {
        let store = try reviewStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let (other, _) = try await store.paidBuyer(browser, "other@example.com", buying: [productID])
            let spamID = try #require(try await buyer.review(productID, #"{"rating":1,"body":"Spam"}"#).object["id"] as? String)
            #expect(try await other.review(productID, #"{"rating":5,"body":"Good"}"#).status == .created)
            #expect(try await browser.search("min_rating=4").titles == [])
            let path = "/api/v1/products/\(productID)/reviews/\(spamID)"

            #expect(try await seller.json(.patch, path, #"{"hidden":true}"#).status == .forbidden)
            #expect(try await buyer.json(.patch, path, #"{"hidden":true}"#).status == .forbidden)
            let admin = try await store.admin(browser)
            #expect(try await admin.json(.patch, "/api/v1/products/\(productID)/reviews/rev_nope", #"{"hidden":true}"#).status == .notFound)
            let hidden = try await admin.json(.patch, path, #"{"hidden":true}"#)
            #expect(hidden.status == .ok, "\(hidden.text)")
            #expect(hidden.object["hidden_at"] is String)
            var product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 5)
            #expect(product["rating_count"] as? Int == 1)
            #expect(try await browser.search("min_rating=4").titles == ["Field Guide"])
            let listed = try #require((try await browser.reviews(productID))["data"] as? [[String: Any]])
            #expect(listed.compactMap { $0["body"] as? String } == ["Good"])
            // Rewriting a hidden review does not bring it back.
            #expect(try await buyer.review(productID, #"{"rating":1,"body":"Spam again"}"#).status == .ok)
            #expect(try await browser.get("/api/v1/products/\(productID)").object["rating_count"] as? Int == 1)

            let shown = try await admin.json(.patch, path, #"{"hidden":false}"#)
            #expect(shown.status == .ok)
            #expect(shown.object["hidden_at"] is NSNull)
            product = try await browser.get("/api/v1/products/\(productID)").object
            #expect(product["rating_average"] as? Double == 3)
            #expect(product["rating_count"] as? Int == 2)
            #expect(try await browser.search("min_rating=4").titles == [])
        }
    }
}

extension Browser {
    /// The signed-in user's id.
    func userID() async throws -> String? {
        try await get("/api/v1/me").object["id"] as? String
    }
}
