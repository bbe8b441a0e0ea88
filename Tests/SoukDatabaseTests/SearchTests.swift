import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

/// A clock tests set by hand, so several products can share a publication time (sort ties).
private final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    func now() -> Date { lock.withLock { current } }
    func set(_ date: Date) { lock.withLock { current = date } }
}

/// A temp database with sellers, and a terse way to add products to it.
private struct Catalog {
    let database: AppDatabase
    let clock = ManualClock()

    init(engine: SearchEngineKind? = nil) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("souk.db").path
        if let engine {
            database = try AppDatabase(path: path, clock: clock, searchEngine: engine)
        } else {
            database = try AppDatabase(path: path, clock: clock)
        }
    }

    func seller(_ email: String, name: String, role: Role = .seller, verified: Bool = true) async throws -> User {
        var user = try await database.insertUser(email: email, name: name, passwordHash: "x", role: role)
        if role == .seller && verified { user = try await database.setSellerStatus(email: email, .verified) }
        return user
    }

    @discardableResult
    func product(
        _ title: String, by seller: User, summary: String = "", description: String = "", category: String = "Books",
        tags: [String] = [], kind: ProductKind = .download, price: Int = 1000, minPrice: Int? = nil,
        status: ProductStatus = .published, rating: Double = 0, sales: Int = 0, publishedAt: Date? = nil
    ) async throws -> Product {
        let now = clock.now()
        let id = database.ids.make(.product)
        return try await database.insertProduct(
            Product(
                id: id, sellerID: seller.id, sellerName: seller.name, title: title,
                slug: title.lowercased().replacingOccurrences(of: " ", with: "-"), summary: summary,
                description: description, descriptionHTML: "", category: category, tags: tags, kind: kind,
                price: Price(amount: price, currency: "USD", minimum: minPrice), stock: nil, status: status,
                attributesJSON: "{}", downloadLimit: nil, activationLimit: nil, ratingAverage: rating, ratingCount: rating > 0 ? 1 : 0,
                salesCount: sales, createdAt: now, updatedAt: now,
                publishedAt: status == .published ? (publishedAt ?? now) : nil))
    }

    func search(_ configure: (inout ProductQuery) -> Void) async throws -> SearchResults {
        var query = ProductQuery()
        configure(&query)
        return try await database.search(query)
    }

    func titles(_ configure: (inout ProductQuery) -> Void) async throws -> [String] {
        try await search(configure).hits.map(\.product.title)
    }

    /// Every page of a query, following `next_cursor`, as product IDs.
    func allPages(limit: Int, _ configure: (inout ProductQuery) -> Void) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await search { query in
                configure(&query)
                query.limit = limit
                query.cursor = cursor
            }
            #expect(page.hits.count <= limit)
            ids += page.hits.map(\.product.id)
            cursor = page.nextCursor
            pages += 1
            if cursor != nil { #expect(page.hits.count == limit, "only the last page may be short") }
        } while cursor != nil && pages < 100
        return ids
    }

    /// The number of rows in the FTS index.
    func indexedCount() async throws -> Int {
        try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM product_search") ?? -1 }
    }
}

@Suite("Catalog search")
struct SearchTests {
    @Test("A title match ranks above a description match; the last word is a prefix")
    func rankingAndPrefix() async throws {
        let catalog = try Catalog()
        let ada = try await catalog.seller("ada@example.com", name: "Ada")
        try await catalog.product(
            "Server Recipes", by: ada, description: "Swift on the server. Swift everywhere, swift and more swift.")
        try await catalog.product("Swift Concurrency Handbook", by: ada, description: "Actors and tasks.")
        try await catalog.product("Gardening", by: ada, description: "Plants.", tags: ["outdoor"])
        try await catalog.product("Kotlin Notes", by: ada, summary: "Nothing about that other language")

        #expect(try await catalog.titles { $0.text = "swi" }.first == "Swift Concurrency Handbook")
        #expect(try await catalog.titles { $0.text = "swift" } == ["Swift Concurrency Handbook", "Server Recipes"])
        #expect(try await catalog.titles { $0.text = "Swift" } == ["Swift Concurrency Handbook", "Server Recipes"])
        #expect(try await catalog.titles { $0.text = "concurrency hand" } == ["Swift Concurrency Handbook"])
        // Only the *last* word is a prefix: "hand" followed by a space must be a whole word.
        #expect(try await catalog.titles { $0.text = "hand book" }.isEmpty)
        // Tags, category and seller name are indexed too.
        #expect(try await catalog.titles { $0.text = "outdo" } == ["Gardening"])
        #expect(try await catalog.titles { $0.text = "books" }.count == 4)
        #expect(try await catalog.titles { $0.text = "ada" }.count == 4)
        // Diacritics fold.
        #expect(try await catalog.titles { $0.text = "gärdening" } == ["Gardening"])

        let hit = try #require(try await catalog.search { $0.text = "handb" }.hits.first)
        #expect(hit.snippet?.contains("<mark>Handbook</mark>") == true, "\(hit.snippet ?? "nil")")
        // Without text there is no snippet and the order is newest first.
        #expect(try await catalog.search { _ in }.hits.allSatisfy { $0.snippet == nil })
    }

    @Test("Every query word in the title ranks first, the word as typed above its other forms; plurals match both ways")
    func titleWordsAndPlurals() async throws {
        for engine in [SearchEngineKind.memory, .fts5] {
            let catalog = try Catalog(engine: engine)
            let ada = try await catalog.seller("ada@example.com", name: "Ada")
            // Products that say "indie makers" in every field, as the demo catalog's clubs do.
            for (index, title) in ["Indie Makers Club", "Indie Makers Circle", "Bold Indie Makers Community"].enumerated() {
                try await catalog.product(
                    title, by: ada, summary: "Practical indie makers club for indie makers.",
                    description: "## \(title)\n\nThe \(title) helps indie makers build with indie makers. Indie makers!",
                    category: "Memberships", tags: ["indie makers", "club"], sales: index)
            }
            try await catalog.product("The Indie Maker's Handbook", by: ada, description: "Pricing and launches.")
            try await catalog.product("Launch Notes", by: ada, description: "For an indie maker: notes.")
            try await catalog.product("Notion Template", by: ada, description: "One planner.", category: "Templates")
            try await catalog.product("Resume Templates", by: ada, description: "Three layouts.", category: "Templates")
            try await catalog.product("Puppy Stories", by: ada, description: "A story a day.")

            for text in ["indie maker", "indie maker ", "Indie Maker's", "maker indie", "maker's handbook"] {
                let found = try await catalog.titles { $0.text = text }
                #expect(found.first == "The Indie Maker's Handbook", "\(engine) \(text): \(found)")
                if !text.contains("handbook") { #expect(found.count == 5, "\(engine) \(text): every indie maker product matches: \(found)") }
            }
            let plural = try await catalog.titles { $0.text = "indie makers" }
            #expect(plural.count == 5 && !plural.prefix(3).contains("The Indie Maker's Handbook"), "\(engine): \(plural)")
            #expect(plural.last == "Launch Notes", "\(engine): a title match beats a description match: \(plural)")
            #expect(Set(try await catalog.titles { $0.text = "templates" }) == ["Notion Template", "Resume Templates"])
            #expect(try await catalog.titles { $0.text = "templates" }.first == "Resume Templates", "\(engine)")
            #expect(Set(try await catalog.titles { $0.text = "template " }) == ["Notion Template", "Resume Templates"])
            #expect(try await catalog.titles { $0.text = "stories" }.isEmpty == false, "\(engine)")
            #expect(try await catalog.titles { $0.text = "story " } == ["Puppy Stories"], "\(engine)")
            // Category counts, most first then by name, alike from both engines.
            let categories = try await catalog.database.categories()
            #expect(categories.map(\.name) == ["Books", "Memberships", "Templates"], "\(engine)")
            #expect(categories.map(\.count) == [3, 3, 2], "\(engine)")
        }
    }

    @Test("Other forms of a query word: singular and plural, never the word itself")
    func otherForms() {
        #expect(SearchText.otherForms(of: "templates") == ["template"])
        #expect(SearchText.otherForms(of: "template") == ["templates"])
        #expect(SearchText.otherForms(of: "maker") == ["makers"])
        #expect(SearchText.otherForms(of: "stories") == ["story"])
        #expect(SearchText.otherForms(of: "story") == ["stories"])
        #expect(SearchText.otherForms(of: "days") == ["day"])
        #expect(SearchText.otherForms(of: "boxes") == ["box"])
        #expect(SearchText.otherForms(of: "class") == ["classes"])
        #expect(SearchText.otherForms(of: "courses") == ["course"])
        #expect(SearchText.otherForms(of: "status") == ["statuses"])
        #expect(SearchText.otherForms(of: "go").isEmpty)
        #expect(SearchText.otherForms(of: "mp3").isEmpty)
    }

    @Test("Snippets are HTML-escaped around the highlight")
    func snippetEscaping() async throws {
        let catalog = try Catalog()
        let ada = try await catalog.seller("ada@example.com", name: "Ada")
        try await catalog.product("Escapes", by: ada, description: "<b>bold</b> & \"quoted\" pirate text")
        let hit = try #require(try await catalog.search { $0.text = "pirate" }.hits.first)
        let snippet = try #require(hit.snippet)
        #expect(!snippet.contains("<b>"))
        #expect(snippet.contains("&lt;b&gt;"))
        #expect(snippet.contains("<mark>pirate</mark>"))
    }

    @Test("Snippets are plain text: no Markdown headings, emphasis, code marks or link addresses")
    func snippetsWithoutMarkdown() async throws {
        for engine in [SearchEngineKind.memory, .fts5] {
            let catalog = try Catalog(engine: engine)
            let ada = try await catalog.seller("ada@example.com", name: "Ada")
            try await catalog.product(
                "Database Primer", by: ada,
                description: "## SQL Guide\n\n> Learn **window** functions with `snake_case` names and [worked examples](https://example.com/x).")
            let snippet = try #require(try await catalog.search { $0.text = "window" }.hits.first?.snippet)
            #expect(snippet.contains("<mark>window</mark>"), "\(engine): \(snippet)")
            for markup in ["##", "**", "`", "](", "https://", "&gt; Learn"] {
                #expect(!snippet.contains(markup), "\(engine): \(markup) in \(snippet)")
            }
            #expect(snippet.contains("snake_case") && snippet.contains("worked examples"), "\(engine): \(snippet)")
        }
    }

    @Test("Filters: category, kind, price range, minimum rating, seller, free — alone and combined")
    func filters() async throws {
        let catalog = try Catalog()
        let ada = try await catalog.seller("ada@example.com", name: "Ada")
        let bo = try await catalog.seller("bo@example.com", name: "Bo")
        try await catalog.product("A Book 29", by: ada, category: "Books", price: 2900, rating: 4.8)
        try await catalog.product("B Book 19", by: ada, category: "Books", price: 1900, rating: 3.9)
        try await catalog.product("C Book 3", by: bo, category: "Books", price: 300, rating: 4.9)
        try await catalog.product("D Game 5", by: bo, category: "Games", kind: .license, price: 500, rating: 5)
        try await catalog.product("E Free", by: bo, category: "Design", price: 0)
        try await catalog.product("F PWYW", by: ada, category: "Design", price: 1500, minPrice: 0, rating: 4.5)
        try await catalog.product("G PWYW 2", by: ada, category: "Books", price: 5000, minPrice: 1000, rating: 4.6)

        func set(_ f: @escaping (inout ProductQuery) -> Void) async throws -> Set<String> {
            Set(try await catalog.titles(f))
        }
        #expect(try await set { $0.category = "Books" } == ["A Book 29", "B Book 19", "C Book 3", "G PWYW 2"])
        #expect(try await set { $0.category = "books" }.isEmpty, "categories match exactly")
        #expect(try await set { $0.kind = .license } == ["D Game 5"])
        #expect(try await set { $0.minPrice = 1900 } == ["A Book 29", "B Book 19"])
        // Pay-what-you-want products are filtered by the least a buyer pays.
        #expect(try await set { $0.maxPrice = 500 } == ["C Book 3", "D Game 5", "E Free", "F PWYW"])
        #expect(try await set { $0.minPrice = 1000; $0.maxPrice = 1900 } == ["B Book 19", "G PWYW 2"])
        #expect(try await set { $0.minRating = 4.8 } == ["A Book 29", "C Book 3", "D Game 5"])
        #expect(try await set { $0.sellerID = bo.id } == ["C Book 3", "D Game 5", "E Free"])
        #expect(try await set { $0.freeOnly = true } == ["E Free", "F PWYW"])
        let combined = try await catalog.search {
            $0.category = "Books"
            $0.minPrice = 1000
            $0.maxPrice = 3000
            $0.minRating = 4.5
        }
        #expect(Set(combined.hits.map(\.product.title)) == ["A Book 29", "G PWYW 2"])
        // Facets: the other filters apply, the category filter does not.
        #expect(combined.categoryFacets == ["Books": 2])
        let games = try await catalog.search { $0.category = "Games" }
        #expect(games.hits.map(\.product.title) == ["D Game 5"])
        #expect(games.categoryFacets == ["Books": 4, "Games": 1, "Design": 2])
        let ratedGames = try await catalog.search { $0.category = "Games"; $0.minRating = 4.6 }
        #expect(ratedGames.categoryFacets == ["Books": 3, "Games": 1])

        // Sorts.
        #expect(try await catalog.titles { $0.sort = .priceAscending }
            == ["E Free", "F PWYW", "C Book 3", "D Game 5", "G PWYW 2", "B Book 19", "A Book 29"])
        #expect(try await catalog.titles { $0.sort = .priceDescending }
            == ["A Book 29", "B Book 19", "G PWYW 2", "D Game 5", "C Book 3", "F PWYW", "E Free"])
        #expect(try await catalog.titles { $0.sort = .rating }.prefix(3) == ["D Game 5", "C Book 3", "A Book 29"])

        // Categories count listed products.
        let categories = try await catalog.database.categories()
        #expect(Dictionary(uniqueKeysWithValues: categories.map { ($0.name, $0.count) }) == ["Books": 4, "Games": 1, "Design": 2])
        #expect(categories.first?.name == "Books", "largest first")
    }

    @Test("Cursor paging returns every listed product once, in order, for every sort")
    func cursorPaging() async throws {
        let catalog = try Catalog()
        let ada = try await catalog.seller("ada@example.com", name: "Ada")
        let bo = try await catalog.seller("bo@example.com", name: "Bo")
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        for i in 0..<31 {
            // Many ties on purpose: prices, ratings, sales and publication times repeat.
            try await catalog.product(
                "Guide \(i) swift", by: i % 2 == 0 ? ada : bo,
                description: String(repeating: "swift ", count: i % 4), category: ["Books", "Games", "Design"][i % 3],
                price: [0, 500, 500, 1000, 2500][i % 5], minPrice: i % 7 == 0 ? 0 : nil, rating: [0, 3.5, 4.25, 5][i % 4],
                sales: i % 6, publishedAt: base.addingTimeInterval(Double(i / 3) * 60))
        }
        // Not listed, so never on any page.
        try await catalog.product("Draft swift", by: ada, status: .draft)
        try await catalog.product("Archived swift", by: ada, status: .archived)

        for sort in ProductQuery.Sort.allCases {
            for text in [nil, "swift", "guide"] as [String?] {
                let unpaged = try await catalog.search {
                    $0.sort = sort
                    $0.text = text
                    $0.limit = 100
                }
                #expect(unpaged.nextCursor == nil)
                #expect(unpaged.hits.count == 31, "\(sort) \(text ?? "-")")
                let expected = unpaged.hits.map(\.product.id)
                for limit in [1, 7, 30, 31] {
                    let paged = try await catalog.allPages(limit: limit) {
                        $0.sort = sort
                        $0.text = text
                    }
                    #expect(paged == expected, "sort \(sort), q \(text ?? "-"), limit \(limit)")
                    #expect(Set(paged).count == paged.count, "no repeats: sort \(sort), limit \(limit)")
                }
            }
            // Paging within a filter too.
            let filtered = try await catalog.allPages(limit: 7) {
                $0.sort = sort
                $0.category = "Books"
                $0.maxPrice = 1000
            }
            let unpagedFiltered = try await catalog.search {
                $0.sort = sort
                $0.category = "Books"
                $0.maxPrice = 1000
                $0.limit = 100
            }.hits.map(\.product.id)
            #expect(filtered == unpagedFiltered, "\(sort)")
        }

        // The sorts really sort.
        let byPrice = try await catalog.search { $0.sort = .priceAscending; $0.limit = 100 }.hits.map(\.product.price.floor)
        #expect(byPrice == byPrice.sorted())
        let byRating = try await catalog.search { $0.sort = .rating; $0.limit = 100 }.hits.map(\.product.ratingAverage)
        #expect(byRating == byRating.sorted(by: >))
        let bySales = try await catalog.search { $0.sort = .popular; $0.limit = 100 }.hits.map(\.product.salesCount)
        #expect(bySales == bySales.sorted(by: >))
        let byDate = try await catalog.search { $0.sort = .newest; $0.limit = 100 }.hits.compactMap(\.product.publishedAt)
        #expect(byDate == byDate.sorted(by: >))

        // A cursor that no search produced is a 400 naming `cursor`, not a crash.
        for junk in ["garbage", "", "W10", "WyJ4IiwxLDJd", String(repeating: "A", count: 5000)] where !junk.isEmpty {
            await #expect(throws: SoukError.self) { _ = try await catalog.search { $0.cursor = junk } }
        }
    }

    @Test("Thirty hostile inputs are searched as plain text, never an error")
    func hostileInputs() async throws {
        let catalog = try Catalog()
        let ada = try await catalog.seller("ada@example.com", name: "Ada")
        try await catalog.product("Swift Concurrency Handbook", by: ada, description: "Near and far, and or not.")
        let inputs: [String] = [
            "\"", "\"\"", "swift\"", "AND(", "AND", "OR", "NOT", "NEAR", "NEAR(swift handbook, 2)", "*", "swift*",
            "🦄", "swift 🦄", String(repeating: "a", count: 10_000), String(repeating: "swift ", count: 2_000),
            "'; DROP TABLE products; --", "1' OR '1'='1", "(", "((swift)", "-", "-swift", "^", "^swift", ":",
            "title:swift", "\u{0}", "swift\u{0}handbook", "{title}: swift", "\\", "%_", "   ", "",
        ]
        #expect(inputs.count >= 30)
        for input in inputs {
            for sort in [ProductQuery.Sort.relevance, .priceAscending] {
                let results = try await catalog.search {
                    $0.text = input
                    $0.sort = sort
                }
                _ = results
            }
        }
        // The catalog survived the injection attempt, and operators are just words.
        #expect(try await catalog.titles { $0.text = "'; DROP TABLE products; --" }.isEmpty)
        #expect(try await catalog.titles { _ in } == ["Swift Concurrency Handbook"])
        #expect(try await catalog.titles { $0.text = "near" } == ["Swift Concurrency Handbook"])
        #expect(try await catalog.titles { $0.text = "swift AND" } == ["Swift Concurrency Handbook"])
        #expect(try await catalog.titles { $0.text = "\"swift\"" } == ["Swift Concurrency Handbook"])
        #expect(try await catalog.titles { $0.text = "title:swift" }.isEmpty, "no column filters: `title` is a word")
    }

    @Test("The index follows every product write: publish, edit, unpublish, archive")
    func indexStaysInSync() async throws {
        let catalog = try Catalog()
        let ada = try await catalog.seller("ada@example.com", name: "Ada")
        let draft = try await catalog.product("Walrus Manual", by: ada, status: .draft)
        #expect(try await catalog.indexedCount() == 0, "drafts are not indexed")
        #expect(try await catalog.titles { $0.text = "walrus" }.isEmpty)

        _ = try await catalog.database.updateProduct(id: draft.id) { $0.status = .published }
        #expect(try await catalog.titles { $0.text = "walrus" } == ["Walrus Manual"])
        #expect(try await catalog.indexedCount() == 1)

        _ = try await catalog.database.updateProduct(id: draft.id) {
            $0.title = "Narwhal Manual"
            $0.tags = ["tusks"]
        }
        #expect(try await catalog.titles { $0.text = "walrus" }.isEmpty, "the old title is forgotten")
        #expect(try await catalog.titles { $0.text = "narwhal" } == ["Narwhal Manual"])
        #expect(try await catalog.titles { $0.text = "tusk" } == ["Narwhal Manual"])
        #expect(try await catalog.indexedCount() == 1)

        _ = try await catalog.database.updateProduct(id: draft.id) { $0.status = .draft }
        #expect(try await catalog.titles { $0.text = "narwhal" }.isEmpty)
        #expect(try await catalog.indexedCount() == 0)

        _ = try await catalog.database.updateProduct(id: draft.id) { $0.status = .published }
        _ = try await catalog.database.updateProduct(id: draft.id) { $0.status = .archived }
        #expect(try await catalog.titles { $0.text = "narwhal" }.isEmpty)
        #expect(try await catalog.titles { _ in }.isEmpty)
        #expect(try await catalog.indexedCount() == 0)

        // A failed write leaves product and index as they were (same transaction).
        _ = try await catalog.database.updateProduct(id: draft.id) { $0.status = .published }
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await catalog.database.updateProduct(id: draft.id) {
                $0.title = "Platypus"
                throw Refused()
            }
        }
        #expect(try await catalog.titles { $0.text = "platypus" }.isEmpty)
        #expect(try await catalog.titles { $0.text = "narwhal" } == ["Narwhal Manual"])
    }

    @Test("A hit shows the product as it is now: another process's edit, a seller's new name, in both engines")
    func hitsAreCurrent() async throws {
        for engine in [SearchEngineKind.memory, .fts5] {
            let catalog = try Catalog(engine: engine)
            let ada = try await catalog.seller("ada@example.com", name: "Ada Lovelace")
            let product = try await catalog.product("Walrus Manual", by: ada, price: 1000)
            let first = try await catalog.search { $0.text = "walrus" }.hits
            #expect(first.map(\.product.price.amount) == [1000], "\(engine)")

            // Another process (an operator's sqlite3, a CLI command) changes the row.
            let other = try DatabaseQueue(path: catalog.database.writer.path)
            try await other.write { db in
                try db.execute(sql: "UPDATE products SET price = 2500, summary = 'Tusks and all' WHERE id = ?", arguments: [product.id])
            }
            try await other.close()
            let edited = try await catalog.search { $0.text = "walrus" }.hits
            #expect(edited.map(\.product.price.amount) == [2500], "\(engine): \(edited.map(\.product.price))")
            #expect(edited.first?.product.summary == "Tusks and all", "\(engine)")

            // A seller's new name is searchable and shown on their products; the old one is forgotten.
            _ = try await catalog.database.setName(userID: ada.id, "Ada Byron")
            #expect(try await catalog.titles { $0.text = "byron" } == ["Walrus Manual"], "\(engine)")
            #expect(try await catalog.titles { $0.text = "lovelace" }.isEmpty, "\(engine)")
            #expect(try await catalog.search { $0.text = "walrus" }.hits.map(\.product.sellerName) == ["Ada Byron"], "\(engine)")
        }
    }

    @Test("Products of disabled, suspended, rejected or pending sellers are not listed, nor counted in categories")
    func sellerStanding() async throws {
        for engine in [SearchEngineKind.memory, .fts5] {
            let catalog = try Catalog(engine: engine)
            let ada = try await catalog.seller("ada@example.com", name: "Ada")
            let bo = try await catalog.seller("bo@example.com", name: "Bo")
            let admin = try await catalog.seller("admin@example.com", name: "Operator", role: .admin)
            try await catalog.product("Ada Otter Guide", by: ada, category: "Ada")
            try await catalog.product("Bo Otter Guide", by: bo, category: "Bo")
            try await catalog.product("Bo Otter Atlas", by: bo, category: "Shared")
            try await catalog.product("Operator Otter Guide", by: admin, category: "Admin")
            try await catalog.product("Operator Otter Atlas", by: admin, category: "Shared")
            func listed() async throws -> Set<String> { Set(try await catalog.titles { $0.text = "otter" }) }
            func categories() async throws -> [String] {
                try await catalog.database.categories().map { "\($0.name) \($0.count)" }
            }
            #expect(try await listed().count == 5, "\(engine)")
            #expect(try await categories() == ["Shared 2", "Ada 1", "Admin 1", "Bo 1"], "\(engine)")

            _ = try await catalog.database.setDisabled(email: "ada@example.com", true)
            #expect(try await listed() == ["Bo Otter Guide", "Bo Otter Atlas", "Operator Otter Guide", "Operator Otter Atlas"], "\(engine)")
            #expect(try await categories() == ["Shared 2", "Admin 1", "Bo 1"], "\(engine)")
            #expect(try await catalog.search { _ in }.categoryFacets == ["Bo": 1, "Admin": 1, "Shared": 2], "\(engine)")
            _ = try await catalog.database.setDisabled(email: "ada@example.com", false)
            #expect(try await listed().contains("Ada Otter Guide"), "\(engine)")

            for status in [SellerStatus.suspended, .rejected, .pending] {
                _ = try await catalog.database.setSellerStatus(email: "bo@example.com", status)
                #expect(try await listed() == ["Ada Otter Guide", "Operator Otter Guide", "Operator Otter Atlas"], "\(engine) \(status)")
                #expect(try await catalog.titles { $0.sellerID = bo.id }.isEmpty)
                // Bo's own category is gone; the one shared with the operator counts theirs only.
                #expect(try await categories() == ["Ada 1", "Admin 1", "Shared 1"], "\(engine) \(status)")
            }
            _ = try await catalog.database.setSellerStatus(email: "bo@example.com", .verified)
            #expect(try await listed().count == 5, "\(engine)")
            #expect(try await categories() == ["Shared 2", "Ada 1", "Admin 1", "Bo 1"], "\(engine)")
        }
    }
}

@Suite("Search: small words and stale cursors")
struct SearchQueryHygieneTests {
    @Test("Small words like 'and' are not required; a short last word is still a prefix")
    func stopWords() async throws {
        let catalog = try Catalog()
        let seller = try await catalog.seller("s@example.com", name: "Nimbus")
        try await catalog.product("Swift & Rust Bundle", by: seller)
        try await catalog.product("Android Starter Kit", by: seller)
        #expect(try await catalog.titles { $0.text = "swift and rust" } == ["Swift & Rust Bundle"])
        #expect(try await catalog.titles { $0.text = "the swift" } == ["Swift & Rust Bundle"])
        #expect(try await catalog.titles { $0.text = "an" } == ["Android Starter Kit"])
        #expect(try await catalog.titles { $0.text = "starter an" } == ["Android Starter Kit"])
    }

    @Test("A cursor from another search is refused instead of giving a wrong page")
    func cursorBelongsToItsSearch() async throws {
        let catalog = try Catalog()
        let seller = try await catalog.seller("s@example.com", name: "Nimbus")
        for index in 0..<5 { try await catalog.product("Guide \(index)", by: seller, price: 100 * index) }
        let first = try await catalog.search {
            $0.sort = .priceAscending
            $0.limit = 2
        }
        let cursor = try #require(first.nextCursor)
        let next = try await catalog.search {
            $0.sort = .priceAscending
            $0.limit = 2
            $0.cursor = cursor
        }
        #expect(next.hits.count == 2)
        for change in [
            { (query: inout ProductQuery) in query.sort = .newest },
            { (query: inout ProductQuery) in query.text = "guide" },
            { (query: inout ProductQuery) in query.category = "Books" },
        ] {
            await #expect(throws: SoukError.self) {
                _ = try await catalog.search { query in
                    query.sort = .priceAscending
                    query.limit = 2
                    query.cursor = cursor
                    change(&query)
                }
            }
        }
    }

    @Test("More changes than a refresh replays rebuild the index; while one caller rebuilds, the others answer from FTS5")
    func rebuildAfterABurst() async throws {
        let catalog = try Catalog()
        let maker = try await catalog.seller("maker@example.com", name: "Maker")
        for n in 0..<10 { try await catalog.product("Field Guide \(n)", by: maker, category: "Books") }
        #expect(try await catalog.titles { $0.text = "field" }.count == 10)
        let memory = try #require(catalog.database.memorySearch)
        // A bulk edit (as an import would make): every product renamed, and past the threshold of changes.
        try await catalog.database.writer.write { db in
            for round in 0...(MemorySearch.rebuildThreshold / 10) {
                try db.execute(sql: "UPDATE products SET title = 'Map Atlas ' || substr(id, -4) || ?", arguments: ["\(round % 2)"])
            }
            for id in try String.fetchAll(db, sql: "SELECT id FROM products") { try SearchIndex.sync(productID: id, in: db) }
        }
        // Another caller is mid-rebuild: this search does not wait for it, and FTS5 has the new titles.
        memory.rebuilding.store(true, ordering: .releasing)
        #expect(try await catalog.titles { $0.text = "atlas" }.count == 10)
        #expect(try await catalog.titles { $0.text = "field" }.isEmpty)
        #expect(try await catalog.database.categories().map(\.count) == [10])
        #expect(memory.index.run(IndexQuery(groups: [["field"]], key: .relevance, descending: false, limit: 20, facets: false))
            .rows.count == 10, "the index was left to the caller rebuilding it")
        memory.rebuilding.store(false, ordering: .releasing)
        // The next search starts the rebuild on its own and answers from FTS5 meanwhile.
        #expect(try await catalog.titles { $0.text = "atlas" }.count == 10)
        try await Self.waitForRebuild(memory)
        #expect(memory.index.run(IndexQuery(groups: [["atlas"]], key: .relevance, descending: false, limit: 20, facets: false))
            .rows.count == 10)
        #expect(memory.index.deadCount == 0 && memory.index.footprint.products == 10)
    }

    /// Until a rebuild started by a search (on its own task) is done, or fails the test after 10 s.
    static func waitForRebuild(_ memory: MemorySearch) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while memory.rebuilding.load(ordering: .acquiring) || memory.index.isRetired {
            try #require(ContinuousClock.now < deadline, "the rebuild did not finish")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("A rebuild lets the old index go first; a search meeting the retired index answers from FTS5, never as an empty catalog")
    func rebuildRetiresTheOldIndex() async throws {
        let catalog = try Catalog()
        let maker = try await catalog.seller("maker@example.com", name: "Maker")
        for n in 0..<12 { try await catalog.product("Field Guide \(n)", by: maker, category: "Books") }
        #expect(try await catalog.titles { $0.text = "field" }.count == 12)
        let memory = try #require(catalog.database.memorySearch)
        let everything = IndexQuery(groups: [], key: .published, descending: true, limit: 100, facets: true)

        // Mid-rebuild, after the old postings went: the index says "no answer", not "no products".
        memory.index.retire()
        memory.rebuilding.store(true, ordering: .releasing)
        #expect(memory.index.isRetired && memory.index.answer(everything) == nil)
        #expect(memory.index.footprint.products == 0, "the old postings were let go")
        #expect(try await catalog.titles { $0.text = "field" }.count == 12)
        #expect(try await catalog.database.categories().map(\.count) == [12])
        memory.rebuilding.store(false, ordering: .releasing)

        // The next search finds the index retired and builds it again, whatever the feed says.
        #expect(try await catalog.titles { $0.text = "field" }.count == 12)
        try await Self.waitForRebuild(memory)
        #expect(!memory.index.isRetired && memory.index.answer(everything)?.facets == ["Books": 12])
    }

    @Test("While the server builds the index in the background, FTS5 answers: same products, categories too")
    func answersWhileTheIndexBuilds() async throws {
        let catalog = try Catalog()
        let maker = try await catalog.seller("maker@example.com", name: "Maker")
        for n in 0..<30 { try await catalog.product("Field Guide \(n)", by: maker, category: n % 3 == 0 ? "Guides" : "Books") }
        // As `souk serve` starts: the index is not built yet and a build is under way.
        let memory = try #require(catalog.database.memorySearch)
        memory.warming.store(true, ordering: .releasing)
        #expect(catalog.database.readyMemorySearch == nil)
        let during = Set(try await catalog.allPages(limit: 7) { $0.text = "field guide" })
        let categoriesDuring = try await catalog.database.categories().map { "\($0.name) \($0.count)" }
        #expect(!memory.isBuilt, "answering did not wait for (or start) the build")
        memory.warming.store(false, ordering: .releasing)

        let built = await withCheckedContinuation { continuation in
            catalog.database.warmSearchInBackground { continuation.resume(returning: $0) }
        }
        #expect((try? built.get()) != nil)
        #expect(memory.isBuilt && catalog.database.readyMemorySearch != nil)
        let after = Set(try await catalog.allPages(limit: 7) { $0.text = "field guide" })
        #expect(during.count == 30 && during == after)
        #expect(categoriesDuring == (try await catalog.database.categories().map { "\($0.name) \($0.count)" }))
        #expect(categoriesDuring == ["Books 20", "Guides 10"])
    }
}

@Suite("Search cursors")
struct SearchCursorTests {
    @Test("A cursor reads back as written for every kind of sort key; one written before (JSONSerialization) still reads")
    func roundTrip() throws {
        let keys: [DatabaseValue] = [
            .null, 0.1.databaseValue, (-3.5e300).databaseValue, Int64(42).databaseValue, Int64.min.databaseValue,
            "plain".databaseValue, "quote \" slash / back \\ tab \t é 🎉 \u{1}".databaseValue,
        ]
        for key in keys {
            let cursor = SearchCursor(key: key, rowid: 9_007, fingerprint: "f00")
            let read = try SearchCursor(cursor.encoded, for: "f00")
            #expect(read.key == key && read.rowid == 9_007 && read.fingerprint == "f00")
            #expect(throws: SoukError.self) { try SearchCursor(cursor.encoded, for: "other") }
        }
        // As cursors were written before: JSONSerialization's JSON (slashes escaped).
        let old = Base64URL.encode(try JSONSerialization.data(withJSONObject: ["s", "a/b \"c\"", 12, "f00"] as [Any]))
        let read = try SearchCursor(old, for: "f00")
        #expect(read.key == "a/b \"c\"".databaseValue && read.rowid == 12)
    }
}

@Suite("Search text")
struct SearchHasTextTests {
    @Test("Text counts as text unless it is only spaces and tabs, exactly as trimming .whitespaces decides")
    func hasText() {
        let samples = ["", " ", "\t", " \t ", "\u{A0}", "\u{2003}\u{3000}", "\n", " \r\n ", "a", " a ", "\u{200B}", "…", "🎉", "\u{85}"]
        for text in samples + [nil] {
            var query = ProductQuery()
            query.text = text
            #expect(query.hasText == !(text ?? "").trimmingCharacters(in: .whitespaces).isEmpty, "\(String(describing: text).debugDescription)")
        }
    }
}
