import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SoukCore
@testable import SoukDatabase
import Testing

// Helpers: sellers and admins, products made through the API, and bearer tokens for uploads.

/// A marketplace store, so sellers can sign up through the API (they start pending).
private func marketplace(_ configure: @escaping (inout Settings) -> Void = { _ in }) throws -> TestStore {
    try TestStore { settings in
        settings.store.marketplace = true
        configure(&settings)
    }
}

private func jsonText(_ object: Any) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

private func query(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed)!
}

extension TestStore {
    /// A new browser signed in as a seller the operator has verified.
    func verifiedSeller(_ browser: Browser, _ email: String, name: String = "Seller") async throws -> Browser {
        let seller = Browser(client: browser.client)
        try await seller.register(email, name: name, role: "seller")
        _ = try await database.setSellerStatus(email: email, .verified)
        return seller
    }

    /// A new browser signed in as an admin (admins are made by the operator; here, by SQL).
    func admin(_ browser: Browser, _ email: String = "admin@example.com") async throws -> Browser {
        let admin = Browser(client: browser.client)
        try await admin.register(email, name: "Admin")
        try await database.writer.write { db in
            try db.execute(
                sql: "UPDATE users SET role = 'admin', seller_status = 'verified' WHERE email = ?", arguments: [email])
        }
        return admin
    }

    /// Sets a product's rating the way the (future) review code will: straight in the row.
    func setRating(_ productID: String, _ average: Double, count: Int = 3) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: "UPDATE products SET rating_avg = ?, rating_count = ? WHERE id = ?",
                arguments: [average, count, productID])
        }
    }
}

extension Browser {
    /// Creates a product (201 expected) and returns its JSON.
    @discardableResult
    func createProduct(
        _ title: String, category: String = "Books", price: Int = 1000, kind: String = "download",
        description: String = "", publish: Bool = false, extra: [String: Any] = [:]
    ) async throws -> [String: Any] {
        var body: [String: Any] = ["title": title, "category": category, "price": price, "kind": kind, "description": description]
        body.merge(extra) { $1 }
        let response = try await json(.post, "/api/v1/products", jsonText(body))
        #expect(response.status == .created, "create \(title): \(response.text)")
        var product = response.object
        if publish {
            let id = try #require(product["id"] as? String)
            let published = try await json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#)
            #expect(published.status == .ok, "publish \(title): \(published.text)")
            product = published.object
        }
        return product
    }

    /// A read-write personal access token for this user.
    func token() async throws -> String {
        let created = try await json(.post, "/api/v1/tokens", #"{"name":"uploads"}"#)
        return try #require(created.object["token"] as? String)
    }

    /// Searches and returns the titles in order, plus the whole answer.
    func search(_ parameters: String) async throws -> (titles: [String], body: [String: Any]) {
        let response = try await get("/api/v1/products?\(parameters)")
        #expect(response.status == .ok, "search \(parameters): \(response.text)")
        let data = response.object["data"] as? [[String: Any]] ?? []
        return (data.compactMap { $0["title"] as? String }, response.object)
    }
}

/// Uploads `body` with a bearer token (no cookies, as an API client would).
private func upload(_ browser: Browser, token: String, productID: String, filename: String, body: String) async throws
    -> TestResponse
{
    try await Browser(client: browser.client).request(
        .post, "/api/v1/products/\(productID)/files?filename=\(query(filename))",
        headers: [.authorization: "Bearer \(token)", .contentType: "application/octet-stream"], body: body,
        useCookies: false)
}

private func sha256Hex(_ text: String) -> String {
    #expect(SHA256Reference.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    return SHA256Reference.hex(Array(text.utf8))
}

@Suite("Products API")
struct ProductsAPITests {
    // MARK: Who may create and change products (acceptance 1)

    @Test("Only verified sellers and admins create products; a new product is a draft")
    func whoMayCreate() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let body = #"{"title":"Pending Book","kind":"download","category":"Books","price":500}"#
            #expect(try await browser.json(.post, "/api/v1/products", body).status == .unauthorized)

            let pending = Browser(client: browser.client)
            let me = try await pending.register("pending@example.com", role: "seller")
            #expect(me["seller_status"] as? String == "pending")
            let refused = try await pending.json(.post, "/api/v1/products", body)
            #expect(refused.status == .forbidden)
            #expect(refused.isProblem)
            #expect(refused.object["code"] as? String == "forbidden")

            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            #expect(try await buyer.json(.post, "/api/v1/products", body).status == .forbidden)

            for status in [SellerStatus.rejected, .suspended] {
                _ = try await store.database.setSellerStatus(email: "pending@example.com", status)
                #expect(try await pending.json(.post, "/api/v1/products", body).status == .forbidden)
            }
            #expect(try await store.database.products().isEmpty, "a refused create stores nothing")

            let seller = try await store.verifiedSeller(browser, "seller@example.com", name: "Sam Seller")
            let created = try await seller.createProduct(
                "Verified Book", price: 1250,
                extra: ["summary": "A summary", "tags": ["Swift", "swift", " ios "], "currency": "eur",
                    "attributes": ["pages": 120, "format": "PDF"], "stock": 10, "download_limit": 5])
            #expect(created["status"] as? String == "draft")
            #expect(created["slug"] as? String == "verified-book")
            #expect(created["url"] as? String == "/products/verified-book")
            #expect(created["seller_name"] as? String == "Sam Seller")
            #expect(created["price"] as? Int == 1250)
            #expect(created["currency"] as? String == "EUR")
            #expect(created["tags"] as? [String] == ["swift", "ios"])
            #expect((created["attributes"] as? [String: Any])?["pages"] as? Int == 120)
            #expect(created["stock"] as? Int == 10)
            #expect(created["download_limit"] as? Int == 5)
            #expect(created["published_at"] is NSNull)
            #expect(created["free"] as? Bool == false)
            #expect(created["pay_what_you_want"] as? Bool == false)

            let admin = try await store.admin(browser)
            let byAdmin = try await admin.createProduct("Admin Book")
            #expect(byAdmin["status"] as? String == "draft")

            // The same title again gets its own slug.
            let twin = try await seller.createProduct("Verified Book")
            #expect(twin["slug"] as? String == "verified-book-2")
        }
    }

    @Test("Another seller can neither edit, archive, publish nor upload to my product")
    func otherSellersAreRefused() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let owner = try await store.verifiedSeller(browser, "owner@example.com")
            let product = try await owner.createProduct("Mine", publish: true)
            let id = try #require(product["id"] as? String)
            let rival = try await store.verifiedSeller(browser, "rival@example.com")

            let patch = try await rival.json(.patch, "/api/v1/products/\(id)", #"{"title":"Stolen"}"#)
            #expect(patch.status == .forbidden)
            #expect(patch.isProblem)
            #expect(try await rival.json(.patch, "/api/v1/products/\(id)", #"{"status":"draft"}"#).status == .forbidden)
            #expect(try await rival.request(.delete, "/api/v1/products/\(id)").status == .forbidden)
            let rivalToken = try await rival.token()
            let upload = try await upload(browser, token: rivalToken, productID: id, filename: "x.pdf", body: "evil")
            #expect(upload.status == .forbidden)
            #expect(try await store.database.currentFiles(productID: id).isEmpty)
            let page = try await rival.json(.put, "/api/v1/products/\(id)/pages/intro", #"{"title":"T","body":"B"}"#)
            #expect(page.status == .forbidden)

            let after = try await browser.get("/api/v1/products/\(id)").object
            #expect(after["title"] as? String == "Mine")
            #expect(after["status"] as? String == "published")

            // Not signed in: 401, not 403.
            #expect(try await Browser(client: browser.client).json(.patch, "/api/v1/products/\(id)", #"{"title":"x"}"#).status
                == .unauthorized)
            // An unknown product: 404.
            #expect(try await owner.json(.patch, "/api/v1/products/prd_nope", #"{"title":"x"}"#).status == .notFound)
        }
    }

    @Test("A draft is invisible to everyone but its seller and admins, in the API and in search")
    func draftsDoNotLeak() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let owner = try await store.verifiedSeller(browser, "owner@example.com")
            let draft = try await owner.createProduct("Secret Draft Zebra", category: "Hidden", description: "unicorn words")
            let id = try #require(draft["id"] as? String)
            let rival = try await store.verifiedSeller(browser, "rival@example.com")
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            let anonymous = Browser(client: browser.client)
            let admin = try await store.admin(browser)

            for viewer in [anonymous, buyer, rival] {
                let shown = try await viewer.get("/api/v1/products/\(id)")
                #expect(shown.status == .notFound)
                #expect(!shown.text.contains("Secret Draft"))
                #expect(try await viewer.get("/api/v1/products/\(id)/files").status == .notFound)
                #expect(try await viewer.get("/api/v1/products/\(id)/pages").status == .notFound)
                for q in ["zebra", "secret", "unicorn", "secr"] {
                    #expect(try await viewer.search("q=\(q)").titles.isEmpty)
                }
                let all = try await viewer.search("")
                #expect(all.titles.isEmpty)
                #expect((all.body["facets"] as? [String: Any])?["category"] as? [String: Int] == [:])
                #expect(try await viewer.search("seller=\(draft["seller_id"] as! String)").titles.isEmpty)
                #expect(try await viewer.search("category=Hidden").titles.isEmpty)
            }
            // Even the owner does not find a draft in the public search: search lists the store.
            #expect(try await owner.search("q=zebra").titles.isEmpty)
            #expect((try await browser.get("/api/v1/categories").object["data"] as? [[String: Any]])?.isEmpty == true)

            #expect(try await owner.get("/api/v1/products/\(id)").status == .ok)
            let adminView = try await admin.get("/api/v1/products/\(id)")
            #expect(adminView.status == .ok)
            #expect(adminView.object["status"] as? String == "draft")

            // Published: everyone sees it and search finds it.
            _ = try await owner.json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#)
            #expect(try await anonymous.get("/api/v1/products/\(id)").status == .ok)
            #expect(try await anonymous.search("q=zebra").titles == ["Secret Draft Zebra"])

            // Archived with PATCH: off sale, gone from search and anonymous reads; its seller
            // still has it and may publish it again.
            let archived = try await owner.json(.patch, "/api/v1/products/\(id)", #"{"status":"archived"}"#)
            #expect(archived.object["status"] as? String == "archived")
            #expect(try await anonymous.get("/api/v1/products/\(id)").status == .notFound)
            #expect(try await anonymous.search("q=zebra").titles.isEmpty)
            #expect(try await owner.get("/api/v1/products/\(id)").object["status"] as? String == "archived")
            _ = try await owner.json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#)
            #expect(try await anonymous.search("q=zebra").titles == ["Secret Draft Zebra"])

            // DELETE: archived and gone from the API for everyone, its seller included, for good;
            // the row stays for the orders that refer to it.
            let deleted = try await owner.request(.delete, "/api/v1/products/\(id)")
            #expect(deleted.status == .ok)
            #expect(deleted.object["status"] as? String == "archived")
            #expect(try await anonymous.search("q=zebra").titles.isEmpty)
            for path in ["", "/files", "/pages", "/reviews", "/downloads"] {
                #expect(try await owner.get("/api/v1/products/\(id)\(path)").status == .notFound, "\(path)")
            }
            #expect(try await owner.json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#).status == .notFound)
            #expect(try await owner.request(.delete, "/api/v1/products/\(id)").status == .notFound)
            #expect(try await store.database.productIncludingDeleted(id: id)?.deletedAt != nil, "the row stays")
        }
    }

    // MARK: Editing

    @Test("Validation errors are 422 problems naming the field")
    func validation() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let valid: [String: Any] = ["title": "Fine", "kind": "download", "category": "Books", "price": 100]
            let cases: [(String, Any, String)] = [
                ("title", "   ", "title"),
                ("title", String(repeating: "t", count: 141), "title"),
                ("title", "two\nlines", "title"),
                ("category", "a/b", "category"),
                ("category", "", "category"),
                ("price", -1, "price"),
                ("price", 100_000_001, "price"),
                ("currency", "US", "currency"),
                ("currency", "U$D", "currency"),
                ("min_price", 500, "min_price"),  // above the price
                ("stock", -1, "stock"),
                ("download_limit", -1, "download_limit"),
                ("activation_limit", 2_000_000, "activation_limit"),
                ("attributes", [1, 2], "attributes"),
                ("tags", (0..<21).map { "tag\($0)" }, "tags"),
                ("summary", String(repeating: "s", count: 301), "summary"),
            ]
            for (key, value, field) in cases {
                var body = valid
                body[key] = value
                let response = try await seller.json(.post, "/api/v1/products", jsonText(body))
                #expect(response.status == .unprocessableContent, "\(key)=\(value): \(response.text)")
                #expect(response.isProblem)
                #expect(response.object["code"] as? String == "validation_failed")
                #expect(response.object["field"] as? String == field, "\(key): \(response.text)")
            }
            // Missing or mistyped fields are malformed requests (400), still naming the field.
            for (body, field) in [
                (#"{"kind":"download","category":"Books","price":1}"#, "title"),
                (#"{"title":"T","kind":"download","category":"Books","price":"ten"}"#, "price"),
                (#"{"title":"T","kind":"ebook","category":"Books","price":1}"#, "kind"),
            ] {
                let response = try await seller.json(.post, "/api/v1/products", body)
                #expect(response.status == .badRequest, "\(body): \(response.text)")
                #expect(response.object["field"] as? String == field, "\(body): \(response.text)")
            }
            #expect(try await store.database.products().isEmpty)

            // The same rules apply to PATCH, and a refused PATCH changes nothing.
            let product = try await seller.createProduct("Fine")
            let id = try #require(product["id"] as? String)
            let bad = try await seller.json(.patch, "/api/v1/products/\(id)", #"{"title":"Better","price":-5}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.object["field"] as? String == "price")
            #expect(try await seller.get("/api/v1/products/\(id)").object["title"] as? String == "Fine")
            let badStatus = try await seller.json(.patch, "/api/v1/products/\(id)", #"{"status":"deleted"}"#)
            #expect(badStatus.status == .badRequest)
            #expect(badStatus.object["field"] as? String == "status")
        }
    }

    @Test("PATCH changes only what it names; null clears stock and limits")
    func patchSemantics() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try await seller.createProduct(
                "Keys", kind: "license", extra: ["stock": 5, "activation_limit": 3, "min_price": 200, "summary": "S"])
            let id = try #require(product["id"] as? String)
            #expect(product["pay_what_you_want"] as? Bool == true)
            #expect(product["min_price"] as? Int == 200)

            let renamed = try await seller.json(.patch, "/api/v1/products/\(id)", #"{"title":"Keys Deluxe"}"#).object
            #expect(renamed["title"] as? String == "Keys Deluxe")
            #expect(renamed["stock"] as? Int == 5, "an absent field is left alone")
            #expect(renamed["summary"] as? String == "S")
            #expect(renamed["activation_limit"] as? Int == 3)

            let cleared = try await seller.json(
                .patch, "/api/v1/products/\(id)", #"{"stock":null,"activation_limit":null,"min_price":null}"#)
            #expect(cleared.status == .ok, "\(cleared.text)")
            #expect(cleared.object["stock"] is NSNull, "null = unlimited stock")
            #expect(cleared.object["activation_limit"] is NSNull)
            #expect(cleared.object["min_price"] is NSNull)
            #expect(cleared.object["pay_what_you_want"] as? Bool == false)
            let reread = try await seller.get("/api/v1/products/\(id)").object
            #expect(reread["stock"] is NSNull)
            #expect(reread["title"] as? String == "Keys Deluxe")

            let free = try await seller.json(.patch, "/api/v1/products/\(id)", #"{"price":0}"#).object
            #expect(free["free"] as? Bool == true)
        }
    }

    @Test("An admin may unpublish any product but not edit or publish it")
    func adminModeration() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try await seller.createProduct("Dubious", publish: true)
            let id = try #require(product["id"] as? String)
            let admin = try await store.admin(browser)

            let edit = try await admin.json(.patch, "/api/v1/products/\(id)", #"{"title":"Edited by admin"}"#)
            #expect(edit.status == .forbidden)
            let mixed = try await admin.json(.patch, "/api/v1/products/\(id)", #"{"status":"draft","price":1}"#)
            #expect(mixed.status == .forbidden)
            #expect(try await browser.get("/api/v1/products/\(id)").object["title"] as? String == "Dubious")

            let unpublished = try await admin.json(.patch, "/api/v1/products/\(id)", #"{"status":"draft"}"#)
            #expect(unpublished.status == .ok)
            #expect(unpublished.object["status"] as? String == "draft")
            #expect(try await browser.search("q=dubious").titles.isEmpty)
            #expect(try await Browser(client: browser.client).get("/api/v1/products/\(id)").status == .notFound)

            let republish = try await admin.json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#)
            #expect(republish.status == .forbidden, "only the seller publishes")
            #expect(try await admin.request(.delete, "/api/v1/products/\(id)").object["status"] as? String == "archived")
        }
    }

    @Test("A seller suspended after publishing cannot publish again, and their products leave the store")
    func suspendedSeller() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try await seller.createProduct("Soon Hidden", publish: true)
            let id = try #require(product["id"] as? String)
            #expect(try await browser.search("q=hidden").titles == ["Soon Hidden"])
            _ = try await store.database.setSellerStatus(email: "seller@example.com", .suspended)
            #expect(try await browser.search("q=hidden").titles.isEmpty)
            #expect((try await browser.get("/api/v1/categories").object["data"] as? [[String: Any]])?.isEmpty == true)
            _ = try await seller.json(.patch, "/api/v1/products/\(id)", #"{"status":"draft"}"#)
            #expect(try await seller.json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#).status == .forbidden)
        }
    }

    // MARK: Content pages

    @Test("Content pages: only the seller writes them; anyone sees titles, never bodies")
    func contentPages() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let course = try await seller.createProduct("Course", kind: "content", publish: true)
            let id = try #require(course["id"] as? String)

            let put = try await seller.json(
                .put, "/api/v1/products/\(id)/pages/lesson-1",
                jsonText(["title": "Lesson 1", "body": "Secret **answer** <script>alert(1)</script>"]))
            #expect(put.status == .ok, "\(put.text)")
            #expect(put.object["slug"] as? String == "lesson-1")
            #expect((put.object["body_html"] as? String)?.contains("<strong>answer</strong>") == true)
            #expect((put.object["body_html"] as? String)?.contains("<script") == false)
            // PUT again replaces.
            let again = try await seller.json(
                .put, "/api/v1/products/\(id)/pages/lesson-1", #"{"title":"Lesson One","body":"Secret v2"}"#)
            #expect(again.object["title"] as? String == "Lesson One")

            let listed = try await Browser(client: browser.client).get("/api/v1/products/\(id)/pages")
            #expect(listed.status == .ok)
            let pages = try #require(listed.object["data"] as? [[String: Any]])
            #expect(pages.count == 1)
            #expect(pages.first?["title"] as? String == "Lesson One")
            #expect(!listed.text.contains("Secret"), "page bodies are for owners only")

            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            #expect(try await buyer.json(.put, "/api/v1/products/\(id)/pages/x", #"{"title":"T","body":"B"}"#).status
                == .forbidden)
            let rival = try await store.verifiedSeller(browser, "rival@example.com")
            #expect(try await rival.json(.put, "/api/v1/products/\(id)/pages/x", #"{"title":"T","body":"B"}"#).status
                == .forbidden)
            let admin = try await store.admin(browser)
            #expect(try await admin.json(.put, "/api/v1/products/\(id)/pages/x", #"{"title":"T","body":"B"}"#).status
                == .forbidden)
            #expect(try await store.database.pages(productID: id).count == 1)

            let badSlug = try await seller.json(.put, "/api/v1/products/\(id)/pages/Bad_Slug", #"{"title":"T","body":"B"}"#)
            #expect(badSlug.status == .unprocessableContent)
            #expect(badSlug.object["field"] as? String == "slug")

            let download = try await seller.createProduct("Plain Download")
            let notContent = try await seller.json(
                .put, "/api/v1/products/\(download["id"] as! String)/pages/intro", #"{"title":"T","body":"B"}"#)
            #expect(notContent.status == .unprocessableContent)
            #expect(notContent.object["field"] as? String == "kind")
        }
    }

    // MARK: Files (small; the 1 GiB case is in Tests/e2e/test_catalog_api.py)

    @Test("Uploads are content-addressed, versioned by name, safely named and size-limited")
    func uploads() async throws {
        let store = try marketplace { $0.storage.maxUploadMB = 1 }
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try await seller.createProduct("Files")
            let id = try #require(product["id"] as? String)
            let token = try await seller.token()
            let blobs = store.directory.appendingPathComponent("blobs").path

            let first = try await upload(browser, token: token, productID: id, filename: "book.pdf", body: "version one")
            #expect(first.status == .created, "\(first.text)")
            let sha = sha256Hex("version one")
            #expect(first.object["sha256"] as? String == sha)
            #expect(first.object["size"] as? Int == 11)
            #expect(first.object["name"] as? String == "book.pdf")
            #expect(first.object["version"] as? Int == 1)
            let blobPath = "\(blobs)/\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha)"
            #expect(try String(contentsOfFile: blobPath, encoding: .utf8) == "version one")

            let second = try await upload(browser, token: token, productID: id, filename: "book.pdf", body: "version two")
            #expect(second.object["version"] as? Int == 2)
            #expect(try await browser.get("/api/v1/products/\(id)/files").status == .notFound, "a draft's files are private")
            let files = try await seller.get("/api/v1/products/\(id)/files")
            let current = try #require(files.object["data"] as? [[String: Any]])
            #expect(current.count == 1)
            #expect(current.first?["version"] as? Int == 2)
            #expect(current.first?["sha256"] as? String == sha256Hex("version two"))

            let sneaky = try await upload(browser, token: token, productID: id, filename: "../../etc/passwd", body: "root")
            #expect(sneaky.status == .created)
            #expect(sneaky.object["name"] as? String == "passwd")
            let windows = try await upload(browser, token: token, productID: id, filename: #"..\..\boot.ini"#, body: "w")
            #expect(windows.object["name"] as? String == "boot.ini")
            let hidden = try await upload(browser, token: token, productID: id, filename: "..", body: "w")
            #expect(hidden.status == .unprocessableContent)
            #expect(hidden.object["field"] as? String == "filename")
            let unnamed = try await Browser(client: browser.client).request(
                .post, "/api/v1/products/\(id)/files", headers: [.authorization: "Bearer \(token)"], body: "x",
                useCookies: false)
            #expect(unnamed.status == .badRequest)
            #expect(unnamed.object["field"] as? String == "filename")

            let before = try FileManager.default.subpathsOfDirectory(atPath: blobs).sorted()
            let tooBig = try await upload(
                browser, token: token, productID: id, filename: "big.bin", body: String(repeating: "x", count: 1_048_577))
            #expect(tooBig.status == .contentTooLarge)
            #expect(tooBig.object["code"] as? String == "payload_too_large")
            let after = try FileManager.default.subpathsOfDirectory(atPath: blobs).sorted()
            #expect(after == before, "a refused upload leaves nothing behind")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(blobs)/tmp").isEmpty)
            let names = try await store.database.currentFiles(productID: id).map(\.name).sorted()
            #expect(names == ["book.pdf", "boot.ini", "passwd"])

            // Exactly at the limit is fine.
            let atLimit = try await upload(
                browser, token: token, productID: id, filename: "edge.bin", body: String(repeating: "y", count: 1_048_576))
            #expect(atLimit.status == .created)

            // A buyer cannot upload; a session cookie without CSRF/JSON is refused.
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            #expect(try await upload(browser, token: try await buyer.token(), productID: id, filename: "a", body: "a").status
                == .forbidden)
        }
    }

    // MARK: Rendering (acceptance 4)

    @Test("A description's scripts, event handlers and javascript: links are not rendered")
    func sanitisedDescription() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let description = """
                # Welcome

                Some **bold** text.

                <script>alert('xss')</script>

                <img src="x" onerror="alert('img')">

                Inline <img src=x onerror=alert(2)> too, and a [bad link](javascript:alert('link')) and
                [another](JAVASCRIPT:alert(3)) and <a href="javascript:alert(4)">raw</a> and [ok](https://example.com).
                """
            let product = try await seller.createProduct("XSS", description: description, publish: true)
            let id = try #require(product["id"] as? String)
            for html in [product["description_html"] as? String ?? "",
                try await browser.get("/api/v1/products/\(id)").object["description_html"] as? String ?? ""]
            {
                let lower = html.lowercased()
                #expect(!lower.contains("<script"), "\(html)")
                #expect(!lower.contains("onerror"), "\(html)")
                #expect(!lower.contains("javascript:"), "\(html)")
                #expect(!lower.contains("<img"), "\(html)")
                #expect(html.contains("<strong>bold</strong>"))
                #expect(html.contains(#"<a href="https://example.com">ok</a>"#))
                #expect(html.contains("<h1>Welcome</h1>"))
            }
            #expect(product["description"] as? String == description, "the Markdown source is kept as written")

            // PATCHing the description re-renders it.
            let patched = try await seller.json(
                .patch, "/api/v1/products/\(id)", jsonText(["description": "[x](javascript:alert(1)) <script>y</script>"]))
            let html = try #require(patched.object["description_html"] as? String)
            #expect(!html.contains("javascript:") && !html.contains("<script"))
        }
    }

    // MARK: Search (acceptance 3, small corpus; the database suite covers paging and hostile input)

    @Test("Search: prefix, ranking, combined filters, price sorts, facets and categories")
    func search() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com", name: "Ada Books")
            let other = try await store.verifiedSeller(browser, "other@example.com", name: "Bo Games")
            let swift = try await seller.createProduct(
                "Swift Concurrency Handbook", category: "Books", price: 2900,
                description: "Actors, tasks and structured concurrency.", publish: true)
            let mention = try await seller.createProduct(
                "Server Recipes", category: "Books", price: 1900,
                description: "Recipes in Swift for servers, with Swift everywhere.", publish: true)
            let game = try await other.createProduct(
                "Pixel Dungeon", category: "Games", price: 500, description: "A roguelike.", publish: true)
            let freebie = try await other.createProduct(
                "Free Icons", category: "Design", price: 0, description: "Icons.", publish: true)
            let cheapBook = try await other.createProduct(
                "Pocket Guide", category: "Books", price: 300, description: "Small.", publish: true)
            _ = try await seller.createProduct("Swift Draft Secrets", category: "Books", price: 100)  // never listed

            // Prefix match on the last word.
            let prefix = try await browser.search("q=swi")
            #expect(prefix.titles.first == "Swift Concurrency Handbook")
            #expect(Set(prefix.titles) == ["Swift Concurrency Handbook", "Server Recipes"])
            let hit = try #require((prefix.body["data"] as? [[String: Any]])?.first)
            #expect((hit["snippet"] as? String)?.contains("<mark>") == true)
            #expect(try await browser.search("q=handb").titles == ["Swift Concurrency Handbook"])
            #expect(try await browser.search("q=concurrency%20hand").titles == ["Swift Concurrency Handbook"])
            // A title match outranks a description that says "swift" twice.
            #expect(try await browser.search("q=swift").titles == ["Swift Concurrency Handbook", "Server Recipes"])
            // Seller names are searchable.
            #expect(Set(try await browser.search("q=ada").titles) == ["Swift Concurrency Handbook", "Server Recipes"])

            // Combined filters: category + price range + minimum rating.
            try await store.setRating(swift["id"] as! String, 4.8)
            try await store.setRating(mention["id"] as! String, 3.9)
            try await store.setRating(cheapBook["id"] as! String, 4.9)
            try await store.setRating(game["id"] as! String, 5.0)
            let combined = try await browser.search("category=Books&min_price=1000&max_price=3000&min_rating=4.5")
            #expect(combined.titles == ["Swift Concurrency Handbook"])
            #expect(try await browser.search("category=Books&min_rating=4.5&sort=price_asc").titles
                == ["Pocket Guide", "Swift Concurrency Handbook"])
            #expect(try await browser.search("category=Books&max_price=1900&sort=price_desc").titles
                == ["Server Recipes", "Pocket Guide"])
            #expect(try await browser.search("sort=rating").titles.prefix(3) == ["Pixel Dungeon", "Pocket Guide", "Swift Concurrency Handbook"])
            #expect(try await browser.search("free=true").titles == ["Free Icons"])
            #expect(try await browser.search("kind=license").titles.isEmpty)
            #expect(Set(try await browser.search("seller=\(other.get("/api/v1/me").object["id"] as! String)").titles)
                == ["Pixel Dungeon", "Free Icons", "Pocket Guide"])

            // Price sorts across the whole catalog.
            #expect(try await browser.search("sort=price_asc").titles
                == ["Free Icons", "Pocket Guide", "Pixel Dungeon", "Server Recipes", "Swift Concurrency Handbook"])
            #expect(try await browser.search("sort=price_desc").titles
                == ["Swift Concurrency Handbook", "Server Recipes", "Pixel Dungeon", "Pocket Guide", "Free Icons"])

            // Facets count every category of the query, ignoring the category filter.
            let faceted = try await browser.search("category=Games")
            #expect(faceted.titles == ["Pixel Dungeon"])
            #expect((faceted.body["facets"] as? [String: Any])?["category"] as? [String: Int]
                == ["Books": 3, "Games": 1, "Design": 1])
            let textFacets = try await browser.search("q=swift&category=Games")
            #expect(textFacets.titles.isEmpty)
            #expect((textFacets.body["facets"] as? [String: Any])?["category"] as? [String: Int] == ["Books": 2])

            // Categories count listed products only (not the draft, not archived ones).
            _ = try await other.request(.delete, "/api/v1/products/\(freebie["id"] as! String)")
            let categories = try await browser.get("/api/v1/categories")
            #expect(categories.status == .ok)
            let rows = try #require(categories.object["data"] as? [[String: Any]])
            let counts = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as! String, $0["count"] as! Int) })
            #expect(counts == ["Books": 3, "Games": 1])

            // Malformed parameters are 400s naming the parameter.
            for (parameters, field) in [
                ("min_price=-1", "min_price"), ("max_price=abc", "max_price"), ("min_rating=6", "min_rating"),
                ("sort=cheapest", "sort"), ("limit=0", "limit"), ("limit=101", "limit"), ("kind=ebook", "kind"),
                ("free=maybe", "free"), ("cursor=garbage", "cursor"),
            ] {
                let response = try await browser.get("/api/v1/products?\(parameters)")
                #expect(response.status == .badRequest, "\(parameters): \(response.text)")
                #expect(response.object["field"] as? String == field, "\(parameters)")
            }
        }
    }

    @Test("Hostile search text never fails")
    func hostileQueries() async throws {
        let store = try marketplace()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            try await seller.createProduct("Swift Concurrency Handbook", publish: true)
            for text in hostileSearchTexts {
                let response = try await browser.get("/api/v1/products?q=\(query(text))")
                #expect(response.status == .ok, "q=\(text.prefix(40)): \(response.text.prefix(300))")
                #expect(response.object["data"] is [Any])
            }
            // Quotes and operators around a real word still find it.
            for text in ["\"swift", "(swift)", "\"swift\" handbook\"", "swift-concurrency", "SWIFT:"] {
                #expect(try await browser.search("q=\(query(text))").titles == ["Swift Concurrency Handbook"], "\(text)")
            }
            #expect(try await browser.search("q=\(query("swift*"))").titles == ["Swift Concurrency Handbook"])
        }
    }
}

/// Thirty inputs that break naive FTS5 query building.
let hostileSearchTexts: [String] = [
    "\"", "\"\"", "'", "swift\"", "AND(", "AND", "OR", "NOT", "NEAR", "NEAR(swift handbook, 2)", "*", "swift*", "**",
    "🦄", "swift 🦄 handbook", String(repeating: "a", count: 10_000), String(repeating: "swift ", count: 2_000),
    "'; DROP TABLE products; --", "1' OR '1'='1", "(", ")", "((swift)", "-", "-swift", "^", "^swift", ":",
    "title:swift", "\u{0}", "swift\u{0}handbook", "{title summary}: swift", "[]", "\\", "%", "_", "ǅ ﷽ Ω≈ç√",
]

/// A self-contained SHA-256 so tests do not trust the code under test for the expected digest.
enum SHA256Reference {
    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        let k: [UInt32] = [
            0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
            0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
            0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
            0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
            0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
            0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
            0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
            0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
        ]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        for chunk in stride(from: 0, to: data.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 64)
            for i in 0..<16 {
                w[i] = (0..<4).reduce(0) { ($0 << 8) | UInt32(data[chunk + 4 * i + $1]) }
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
        }
        return h.map { String(format: "%08x", $0) }.joined()
    }
}
