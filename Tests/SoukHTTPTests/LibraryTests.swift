import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import SoukDatabase
@testable import SoukHTTP
import Testing

private func libraryStore(clock: (any WallClock)? = nil) throws -> TestStore {
    try TestStore(clock: clock) { settings in
        settings.store.marketplace = true
        settings.server.baseURL = "https://shop.example.com/"
    }
}

@Suite("Library: API and page")
struct LibraryTests {
    @Test("GET /api/v1/library: products with files, fresh absolute links, license keys and pages")
    func shape() async throws {
        let clock = StoreTestClock()
        let store = try libraryStore(clock: clock)
        try await store.run { browser in
            let (_, bookID, bookFiles) = try await store.sellerWithProduct(
                browser, title: "Field Guide", files: [("guide.pdf", deliveryContent), ("extras.zip", "zip")])
            let (_, appID, _) = try await store.sellerWithProduct(
                browser, email: "apps@example.com", title: "Mothcount", kind: "license", extra: ["activation_limit": 2],
                files: [("mothcount.dmg", "app")])
            let (courseSeller, courseID, _) = try await store.sellerWithProduct(
                browser, email: "course@example.com", title: "Moth Course", kind: "content", files: [])
            let lesson = try await courseSeller.json(
                .put, "/api/v1/products/\(courseID)/pages/lesson-1", #"{"title":"Lesson one","body":"Hello"}"#)
            #expect(lesson.status == .ok, "\(lesson.text)")

            let (buyer, orderID) = try await store.paidBuyer(browser, buying: [bookID, appID, courseID])
            _ = try await store.database.fulfil(orderID: orderID, followUps: [])
            let key = try #require(try await store.database.licenseKeys(productID: appID).first)
            let (_, activation) = try await store.database.activateLicense(key: key.key, instanceName: "Laptop")

            let response = try await buyer.get("/api/v1/library")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let data = try #require(response.object["data"] as? [[String: Any]])
            #expect(Set(data.compactMap { $0["product_id"] as? String }) == [bookID, appID, courseID])

            let book = try #require(data.first { $0["product_id"] as? String == bookID })
            #expect(book["title"] as? String == "Field Guide")
            #expect(book["slug"] as? String == "field-guide")
            #expect(book["kind"] as? String == "download")
            #expect(book["order_id"] as? String == orderID)
            #expect((book["purchased_at"] as? String)?.hasSuffix("Z") == true)
            let files = try #require(book["files"] as? [[String: Any]])
            #expect(files.map { $0["name"] as? String } == ["extras.zip", "guide.pdf"])
            let guide = try #require(files.first { $0["name"] as? String == "guide.pdf" })
            #expect(guide["id"] as? String == bookFiles[0])
            #expect(guide["size"] as? Int == 1000)
            #expect(guide["version"] as? Int == 1)
            #expect(guide["downloads_left"] as? Int == 10)
            let url = try #require(guide["download_url"] as? String)
            #expect(url.hasPrefix("https://shop.example.com/download/"))
            #expect(url.contains("/\(bookFiles[0])?expires="))
            #expect(url.contains("&sig="))
            #expect((book["license_keys"] as? [Any])?.isEmpty == true)
            #expect((book["pages"] as? [Any])?.isEmpty == true)
            // The link works (through the router).
            #expect(try await browser.fetch(deliveryPath(url)).text == deliveryContent)

            let app = try #require(data.first { $0["product_id"] as? String == appID })
            #expect(app["kind"] as? String == "license")
            let keys = try #require(app["license_keys"] as? [[String: Any]])
            #expect(keys.count == 1)
            let license = try #require(keys.first)
            #expect(license["key"] as? String == key.key)
            #expect(license["status"] as? String == "active")
            #expect(license["activation_limit"] as? Int == 2)
            #expect(license["activation_usage"] as? Int == 1)
            #expect(license["expires_at"] is NSNull)
            let instances = try #require(license["instances"] as? [[String: Any]])
            #expect(instances.count == 1)
            #expect(instances.first?["id"] as? String == activation.id)
            #expect(instances.first?["name"] as? String == "Laptop")
            #expect(instances.first?["created_at"] is String)

            let course = try #require(data.first { $0["product_id"] as? String == courseID })
            #expect(course["kind"] as? String == "content")
            #expect((course["files"] as? [Any])?.isEmpty == true)
            let pages = try #require(course["pages"] as? [[String: Any]])
            #expect(pages.count == 1)
            #expect(pages.first?["slug"] as? String == "lesson-1")
            #expect(pages.first?["title"] as? String == "Lesson one")

            // Fresh links every time: a later call signs a later expiry.
            clock.advance(by: 1.1)
            let again = try await buyer.downloadPath("guide.pdf", product: bookID)
            #expect(again != deliveryPath(url))
        }
    }

    @Test("The library is the caller's own: 401 without a session, empty for others, gone after a refund")
    func access() async throws {
        let store = try libraryStore()
        try await store.run { browser in
            let anonymous = try await Browser(client: browser.client).get("/api/v1/library")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.isProblem)

            let (seller, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, orderID) = try await store.paidBuyer(browser, buying: [productID])
            #expect(try await buyer.library().count == 1)
            // The seller owns nothing; another buyer neither.
            #expect(try await seller.library().isEmpty)
            let other = Browser(client: browser.client)
            try await other.register("other@example.com")
            #expect(try await other.library().isEmpty)
            // A personal access token reads it too.
            let token = try await buyer.token()
            let viaToken = try await Browser(client: browser.client).request(
                .get, "/api/v1/library", headers: [.authorization: "Bearer \(token)"], useCookies: false)
            #expect(viaToken.status == .ok)
            #expect((viaToken.object["data"] as? [Any])?.count == 1)

            // An unpaid order gives nothing.
            try await other.addToCart(productID)
            #expect(try await other.checkout(#"{"provider":"test"}"#).status == .created)
            #expect(try await other.library().isEmpty)

            #expect(try await seller.json(.post, "/api/v1/orders/\(orderID)/refund", "{}").status == .ok)
            #expect(try await buyer.library().isEmpty)
        }
    }

    @Test("/library: sign-in first; files with links, sizes, versions and downloads left; keys with deactivate forms; pages")
    func page() async throws {
        let store = try libraryStore()
        try await store.run { browser in
            let redirect = try await Browser(client: browser.client).get("/library", headers: [.accept: "text/html"])
            #expect(redirect.status == .seeOther)
            #expect(redirect.location == "/signin?next=/library")

            let (_, bookID, bookFiles) = try await store.sellerWithProduct(browser, title: "Field Guide")
            let (_, appID, _) = try await store.sellerWithProduct(
                browser, email: "apps@example.com", title: "Mothcount", kind: "license", extra: ["activation_limit": 3],
                files: [])
            let (courseSeller, courseID, _) = try await store.sellerWithProduct(
                browser, email: "course@example.com", title: "Moth Course", kind: "content", files: [])
            #expect(
                try await courseSeller.json(
                    .put, "/api/v1/products/\(courseID)/pages/intro", #"{"title":"Introduction","body":"Hi"}"#
                ).status == .ok)

            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            let empty = try await buyer.get("/library", headers: [.accept: "text/html"])
            #expect(empty.status == .ok)
            #expect(empty.text.contains("id=\"library-empty\""))
            #expect(empty.text.contains("href=\"/library\""), "the nav links to the library")

            let orderID = try await store.pay(buyer, for: [bookID, appID, courseID])
            _ = try await store.database.fulfil(orderID: orderID, followUps: [])
            let key = try #require(try await store.database.licenseKeys(productID: appID).first)
            let (_, activation) = try await store.database.activateLicense(key: key.key, instanceName: "Studio <Mac>")
            #expect(try await browser.fetch(try await buyer.downloadPath("guide.pdf", product: bookID)).status == .ok)

            let page = try await buyer.get("/library", headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            let html = page.text
            #expect(html.contains("Field Guide"))
            #expect(html.contains("guide.pdf"))
            #expect(html.contains("href=\"https://shop.example.com/download/"))
            #expect(html.contains("/\(bookFiles[0])?expires="))
            #expect(html.contains("<td class=\"file-size\">\(MoneyFormat.size(1000))</td>"), "the size")
            #expect(html.contains("v1"))
            #expect(html.contains("<td class=\"downloads-left\">9"))
            #expect(html.contains(key.key))
            #expect(html.contains("1 of 3 activations"))
            #expect(html.contains("Studio &lt;Mac&gt;"), "instance names are escaped")
            #expect(html.contains("action=\"/library/licenses/\(key.key)/activations/\(activation.id)/deactivate\""))
            let form = try #require(html.range(of: "/activations/\(activation.id)/deactivate"))
            #expect(html[form.upperBound...].prefix(300).contains("name=\"_csrf\" value=\""))
            #expect(html.contains("href=\"/library/\(courseID)/pages/intro\""))
            #expect(html.contains("Introduction"))
            #expect(html.contains("href=\"/orders/\(orderID)\""))
        }
    }
}
