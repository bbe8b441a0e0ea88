import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import Testing

@testable import SoukHTTP

// The store pages and the seller dashboard, driven like a browser: forms with CSRF tokens, HTML
// answers. A marketplace store, so sellers can sign up (they start pending).

private func store() throws -> TestStore { try TestStore { $0.store.marketplace = true } }

private let html: HTTPFields = [.accept: "text/html"]

extension TestStore {
    /// A new browser signed in as a seller, verified by the operator unless `verified` is false.
    fileprivate func sellerBrowser(_ browser: Browser, _ email: String, name: String = "Seller", verified: Bool = true)
        async throws -> Browser
    {
        let seller = Browser(client: browser.client)
        try await seller.register(email, name: name, role: "seller")
        if verified { _ = try await database.setSellerStatus(email: email, .verified) }
        return seller
    }
}

extension Browser {
    /// Creates a product with the dashboard form; returns its id (from the redirect).
    fileprivate func createWithDashboard(_ fields: [String: String]) async throws -> String {
        let response = try await submitForm("/dashboard/products", fields: fields, csrfFrom: "/dashboard/new")
        #expect(response.status == .seeOther, "creating failed: \(response.text.prefix(600))")
        let location = try #require(response.headers[.location])
        return String(try #require(location.firstMatch(of: /\/dashboard\/products\/([a-z0-9_]+)/)?.1))
    }

    fileprivate func setStatus(_ id: String, _ status: String) async throws {
        let response = try await submitForm(
            "/dashboard/products/\(id)/status", fields: ["status": status], csrfFrom: "/dashboard/products/\(id)")
        #expect(response.status == .seeOther, "\(status) failed: \(response.text.prefix(600))")
    }

    fileprivate func page(_ path: String) async throws -> TestResponse { try await get(path, headers: html) }
}

private let ebook: [String: String] = [
    "title": "Server-Side Swift Handbook", "summary": "Build web apps in Swift.",
    "description": "# Inside\n\nTwelve *chapters*.", "kind": "download", "category": "E-books",
    "tags": "swift, Server ", "price": "19.00", "currency": "USD", "attributes": "pages: 120\nformat: PDF",
]

@Suite("Store pages and the seller dashboard")
struct StorePagesTests {
    @Test("A seller creates and publishes a product with the dashboard forms; visitors find it everywhere")
    func createPublishAndBrowse() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "maker@example.com", name: "Mia Maker")
            let id = try await seller.createWithDashboard(ebook)
            let edit = try await seller.page("/dashboard/products/\(id)?created=1")
            #expect(edit.status == .ok)
            #expect(edit.text.contains("Product created as a draft"))
            #expect(edit.text.contains(#"id="product-status">draft<"#))
            #expect(edit.text.contains(#"value="19.00""#))
            #expect(edit.text.contains(#"value="swift, server""#))

            let visitor = Browser(client: browser.client)
            #expect(try await visitor.page("/search?q=handbook").text.contains("Nothing found"), "drafts are not listed")

            try await seller.setStatus(id, "published")
            #expect(try await seller.page("/dashboard").text.contains("status-published"))

            let home = try await visitor.page("/")
            #expect(home.status == .ok)
            #expect(home.text.contains("Server-Side Swift Handbook"))
            #expect(home.text.contains("$19.00"))
            #expect(home.text.contains(#"href="/categories/E-books">E-books</a> <span class="count">1</span>"#))

            let search = try await visitor.page("/search?q=swift+hand")
            #expect(search.status == .ok)
            #expect(search.text.contains(#"href="/products/server-side-swift-handbook""#))
            #expect(search.text.contains("<mark>"), "matched words are highlighted")
            #expect(search.text.contains(#"href="/search?q=swift%20hand&amp;category=E-books""#), "category facet link")

            let product = try await visitor.page("/products/server-side-swift-handbook")
            #expect(product.status == .ok)
            #expect(product.text.contains("<h1>Inside</h1>"), "the Markdown description is rendered")
            #expect(product.text.contains("<dt>pages</dt><dd>120</dd>"))
            #expect(product.text.contains("Mia Maker"))
            #expect(product.text.contains("#server"))

            let category = try await visitor.page("/categories/E-books")
            #expect(category.status == .ok && category.text.contains("Server-Side Swift Handbook"))
            let sellerID = try #require(product.text.firstMatch(of: /href="\/sellers\/(usr_[a-z0-9]+)"/)?.1)
            let sellerPage = try await visitor.page("/sellers/\(sellerID)")
            #expect(sellerPage.status == .ok && sellerPage.text.contains("Server-Side Swift Handbook"))

            #expect(try await visitor.page("/categories/Nope").status == .notFound)
        }
    }

    @Test("With many categories, the home page and a search show the largest; /categories lists them all, a page at a time")
    func manyCategories() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "many@example.com")
            // 132 categories: "Largest" with three products, "Second" with two, the rest one each.
            let names = ["Largest", "Largest", "Largest", "Second", "Second"] + (0..<130).map { String(format: "Cat %03d", $0) }
            for (number, category) in names.enumerated() {
                _ = try await seller.createProduct("Field Guide \(number)", category: category, publish: true)
            }
            let visitor = Browser(client: browser.client)
            func links(_ page: String, _ prefix: String) -> [String] {
                page.matches(of: try! Regex(#"href="\#(prefix)([^"]+)""#)).map { String($0.output[1].substring!) }
            }

            // The sidebar's list (product cards link their category too).
            func sidebar(_ page: String) throws -> String {
                String(try #require(page.firstMatch(of: /<ul class="categories[^"]*">(.*?)<\/ul>/.dotMatchesNewlines())?.output.1))
            }
            let home = try await visitor.page("/")
            let homeLinks = links(try sidebar(home.text), "/categories/")
            #expect(homeLinks.count == StorePages.shownCategories)
            #expect(homeLinks.prefix(3) == ["Largest", "Second", "Cat%20000"])
            #expect(home.text.contains(#"<a href="/categories">All 132 categories</a>"#))

            let search = try await visitor.page("/search?q=field")
            #expect(links(try sidebar(search.text), "/search\\?q=field&amp;category=").count == StorePages.shownCategories)
            #expect(search.text.contains("108 more categories; <a href=\"/categories\">browse them all</a>"))
            let menu = try #require(search.text.firstMatch(of: /<select name="category">(.*?)<\/select>/)?.output.1)
            #expect(menu.matches(of: /<option/).count == 1 + StorePages.offeredCategories)
            // A category past the menu's share, once chosen, is in the menu and selected.
            let chosen = try await visitor.page("/search?q=field&category=Cat%20129")
            #expect(chosen.text.contains(#"<option value="Cat 129" selected>"#))
            #expect(chosen.text.contains("Field Guide 134"))

            let first = try await visitor.page("/categories")
            #expect(first.status == .ok)
            #expect(links(try sidebar(first.text), "/categories/").count == StorePages.categoriesPerPage)
            #expect(first.text.contains("Page 1 of 2") && first.text.contains(#"href="/categories?page=2""#))
            #expect(!first.text.contains("rel=\"prev\""))
            let second = try await visitor.page("/categories?page=2")
            #expect(links(try sidebar(second.text), "/categories/") == (98..<130).map { String(format: "Cat%%20%03d", $0) })
            #expect(second.text.contains(#"href="/categories?page=1""#) && !second.text.contains("rel=\"next\""))
            for odd in ["/categories?page=99", "/categories?page=-3", "/categories?page=abc"] {
                let page = try await visitor.page(odd)
                #expect(page.status == .ok && links(page.text, "/categories/").count > 0, "\(odd)")
            }
            #expect(try await visitor.page("/categories/Cat%20129").text.contains("Field Guide 134"))
        }
    }

    @Test("A draft's page is a 404 for everyone but its seller")
    func draftsAreHidden() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "draft@example.com")
            _ = try await seller.createWithDashboard(ebook)
            let own = try await seller.page("/products/server-side-swift-handbook")
            #expect(own.status == .ok)
            #expect(own.text.contains("only you can see this page"))

            let visitor = try await Browser(client: browser.client).page("/products/server-side-swift-handbook")
            #expect(visitor.status == .notFound)
            #expect(visitor.headers[.contentType]?.hasPrefix("text/html") == true)
            let other = try await store.sellerBrowser(browser, "other@example.com")
            #expect(try await other.page("/products/server-side-swift-handbook").status == .notFound)
            #expect(!(try await Browser(client: browser.client).page("/").text.contains("Handbook")))
        }
    }

    @Test("Editing, unpublishing and archiving from the dashboard; another seller's product is not found")
    func editAndStatus() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "edit@example.com")
            let id = try await seller.createWithDashboard(ebook)
            var changed = ebook
            changed["price"] = "25"
            changed["min_price"] = "5"
            changed["stock"] = "10"
            let saved = try await seller.submitForm(
                "/dashboard/products/\(id)", fields: changed, csrfFrom: "/dashboard/products/\(id)")
            #expect(saved.status == .seeOther)
            try await seller.setStatus(id, "published")
            let page = try await Browser(client: browser.client).page("/products/server-side-swift-handbook")
            #expect(page.text.contains("Pay what you want (from $5.00)"))
            #expect(page.text.contains("10 left"))

            try await seller.setStatus(id, "draft")
            #expect(try await Browser(client: browser.client).page("/products/server-side-swift-handbook").status == .notFound)
            try await seller.setStatus(id, "archived")
            #expect(try await seller.page("/dashboard").text.contains("status-archived"))

            var bad = ebook
            bad["price"] = "twelve"
            let refused = try await seller.submitForm(
                "/dashboard/products/\(id)", fields: bad, csrfFrom: "/dashboard/products/\(id)")
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains(#"class="error" role="alert""#))
            #expect(refused.text.contains(#"value="twelve""#), "the form keeps what was typed")

            let other = try await store.sellerBrowser(browser, "rival@example.com")
            #expect(try await other.page("/dashboard/products/\(id)").status == .notFound)
        }
    }

    @Test("A pending seller gets a clear 403 page; a visitor is sent to sign in")
    func pendingSeller() async throws {
        let store = try store()
        try await store.run { browser in
            let pending = try await store.sellerBrowser(browser, "pending@example.com", verified: false)
            let response = try await pending.page("/dashboard")
            #expect(response.status == .forbidden)
            #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(response.text.contains("pending"))
            #expect(try await pending.page("/dashboard/new").status == .forbidden)

            let visitor = try await Browser(client: browser.client).page("/dashboard")
            #expect(visitor.status == .seeOther)
            #expect(visitor.headers[.location] == "/signin?next=%2Fdashboard")
        }
    }

    @Test("A title with <script> is escaped on every page")
    func escaping() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "xss@example.com", name: "<img src=x onerror=alert(2)>")
            var hostile = ebook
            hostile["title"] = #"<script>alert("x")</script> Guide"#
            hostile["category"] = "<b>cat"
            hostile["tags"] = "<i>tag</i>"
            hostile["attributes"] = "<u>key</u>: <svg onload=alert(3)>"
            let id = try await seller.createWithDashboard(hostile)
            try await seller.setStatus(id, "published")
            let product = try await store.database.product(id: id)
            let slug = try #require(product?.slug)
            let sellerID = try #require(product?.sellerID)

            let visitor = Browser(client: browser.client)
            let pages = [
                ("/", visitor), ("/search?q=guide", visitor), ("/search?q=script", visitor), ("/products/\(slug)", visitor),
                ("/categories/%3Cb%3Ecat", visitor), ("/sellers/\(sellerID)", visitor), ("/dashboard", seller),
                ("/dashboard/products/\(id)", seller),
            ]
            for (path, who) in pages {
                let response = try await who.page(path)
                #expect(response.status == .ok, "\(path) answered \(response.status)")
                for raw in ["<script>alert", "<img src=x", "<b>cat", "<i>tag", "<svg onload", "<u>key"] {
                    #expect(!response.text.contains(raw), "\(path) shows \(raw) unescaped")
                }
            }
            #expect(try await visitor.page("/products/\(slug)").text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Guide"))
        }
    }

    @Test("Hostile or malformed search input still answers 200 with a page")
    func hostileSearch() async throws {
        try await store().run { browser in
            let queries = [
                "q=%22", "q=AND(", "q=*", "q=%F0%9F%98%80", "q=NEAR(a+b)", "q=a%22+OR+%221", "q=%3Cscript%3E",
                "q=" + String(repeating: "x", count: 2000), "min_price=-5", "max_price=abc", "min=1.999", "max=%24",
                "min_rating=9", "kind=weapon", "free=maybe", "sort=%27;DROP", "limit=0", "cursor=garbage",
                "cursor=eyJ4IjoxfQ", "category=%00", "seller=%27", "q", "=", "&&&",
            ]
            for query in queries {
                let response = try await browser.page("/search?\(query)")
                #expect(response.status == .ok, "/search?\(query) answered \(response.status)")
                #expect(response.text.contains("<h1>Search</h1>"))
            }
            let echoed = try await browser.page("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            #expect(!echoed.text.contains("<script>alert"))
        }
    }

    @Test("The dashboard uploads a file through the API with the page's CSRF token; the product page lists it")
    func uploadFromDashboard() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "files@example.com")
            let id = try await seller.createWithDashboard(ebook)
            let edit = try await seller.page("/dashboard/products/\(id)")
            #expect(edit.text.contains(#"<script src="/assets/upload.js" defer></script>"#))
            #expect(edit.text.contains("curl -X POST"), "the no-JavaScript note shows the curl command")
            let csrf = try #require(edit.text.firstMatch(of: /data-csrf="([^"]+)"/)?.1)

            let noToken = try await seller.request(
                .post, "/api/v1/products/\(id)/files?filename=book.pdf",
                headers: [.contentType: "application/octet-stream"], body: "no")
            #expect(noToken.status == .unsupportedMediaType)
            let uploaded = try await seller.request(
                .post, "/api/v1/products/\(id)/files?filename=book.pdf",
                headers: [.contentType: "application/octet-stream", .init("X-CSRF-Token")!: String(csrf)],
                body: String(repeating: "a", count: 1536))
            #expect(uploaded.status == .created, "\(uploaded.text)")

            #expect(try await seller.page("/dashboard/products/\(id)").text.contains(#"<td class="file-name">book.pdf</td><td>v1</td>"#))
            try await seller.setStatus(id, "published")
            let product = try await Browser(client: browser.client).page("/products/server-side-swift-handbook")
            #expect(product.text.contains(#"<td class="file-name">book.pdf</td><td class="file-size">1.5 KB</td>"#))

            let script = try await browser.get("/assets/upload.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(script.text.contains("X-CSRF-Token"))
        }
    }

    @Test("Content products get a private pages editor")
    func privatePages() async throws {
        let store = try store()
        try await store.run { browser in
            let seller = try await store.sellerBrowser(browser, "course@example.com")
            var course = ebook
            course["kind"] = "content"
            course["title"] = "Swift Course"
            let id = try await seller.createWithDashboard(course)
            let saved = try await seller.submitForm(
                "/dashboard/products/\(id)/pages", fields: ["slug": "lesson-1", "title": "Lesson <1>", "body": "Hello"],
                csrfFrom: "/dashboard/products/\(id)")
            #expect(saved.status == .seeOther)
            let edit = try await seller.page("/dashboard/products/\(id)?page=lesson-1")
            #expect(edit.text.contains("Lesson &lt;1&gt;"))
            #expect(edit.text.contains(#"name="slug" value="lesson-1""#))
            let refused = try await seller.submitForm(
                "/dashboard/products/\(id)/pages", fields: ["slug": "Bad Slug!", "title": "x", "body": ""],
                csrfFrom: "/dashboard/products/\(id)")
            #expect(refused.status == .unprocessableContent)
        }
    }

    @Test("Money and sizes are written the way people read them")
    func moneyFormat() {
        #expect(MoneyFormat.price(Price(amount: 1900, currency: "USD")) == "$19.00")
        #expect(MoneyFormat.price(Price(amount: 0, currency: "USD")) == "Free")
        #expect(MoneyFormat.price(Price(amount: 1000, currency: "EUR", minimum: 500)) == "Pay what you want (from €5.00)")
        #expect(MoneyFormat.price(Price(amount: 1000, currency: "USD", minimum: 0)) == "Pay what you want")
        #expect(MoneyFormat.price(Price(amount: 1205, currency: "CHF")) == "12.05 CHF")
        #expect(MoneyFormat.price(Price(amount: 500, currency: "JPY")) == "¥500")
        #expect(MoneyFormat.minorUnits("19", currency: "USD") == 1900)
        #expect(MoneyFormat.minorUnits("19.9", currency: "USD") == 1990)
        #expect(MoneyFormat.minorUnits("$1,019.99", currency: "USD") == 101_999)
        #expect(MoneyFormat.minorUnits(".5", currency: "USD") == 50)
        for bad in ["", "1.999", "abc", "1.2.3", "-1", "1.", "500.5"] {
            #expect(MoneyFormat.minorUnits(bad, currency: bad == "500.5" ? "JPY" : "USD") == nil, "\(bad)")
        }
        #expect(MoneyFormat.size(6) == "6 bytes")
        #expect(MoneyFormat.size(1536) == "1.5 KB")
        #expect(MoneyFormat.size(25_000_000) == "25 MB")
    }
}
