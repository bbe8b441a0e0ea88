import Foundation
import SoukCore
import SoukDatabase
import Testing

@testable import SoukCLI

@Suite("Operator catalog actions (souk product, souk demo seed)")
struct CatalogAdminTests {
    func makeDatabase() throws -> AppDatabase {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-cat-\(UUID().uuidString)").path
        let data = DataDirectory(path)
        _ = try data.prepare()
        return try data.openDatabase()
    }

    @Test("demo seed writes a published, searchable catalog; the same seed gives the same catalog")
    func seed() async throws {
        let database = try makeDatabase()
        var progress: [Int] = []
        let result = try await DemoSeeder(database: database, currency: "EUR").seed(products: 2500, sellers: 3, seed: 7) {
            progress.append($0)
        }
        #expect(result.products == 2500)
        #expect(result.sellers == 3)
        #expect(progress.last == 2500)
        let sellers = try await database.users(role: .seller, sellerStatus: .verified)
        #expect(sellers.count == 3)
        let published = try await database.products(status: .published, limit: 10_000)
        #expect(published.count == 2500)
        #expect(Set(published.map(\.category)).count >= 8, "a realistic spread of categories")
        #expect(published.contains { $0.price.isFree } && published.contains { $0.price.amount > 5000 })
        #expect(published.allSatisfy { $0.price.currency == "EUR" && !$0.descriptionHTML.isEmpty })

        var query = ProductQuery()
        query.text = "handbook"
        let results = try await database.search(query)
        #expect(!results.hits.isEmpty)
        #expect(results.hits.allSatisfy { $0.product.title.lowercased().contains("handbook") || $0.snippet != nil })

        // Ratings are real reviews by demo buyers: each product's figures are its reviews' own,
        // and rating search finds what the reviews make.
        let rated = published.filter { $0.ratingCount > 0 }
        #expect(rated.count > 500, "most products that sold have reviews")
        #expect(published.allSatisfy { $0.ratingCount <= DemoCatalog.maxReviews })
        for product in rated.prefix(200) {
            let summary = try await database.ratingSummary(productID: product.id)
            #expect(summary.count == product.ratingCount && summary.average == product.ratingAverage, "\(product.title)")
            let reviews = try await database.reviews(productID: product.id, limit: 10)
            #expect(reviews.count == product.ratingCount)
            #expect(reviews.allSatisfy { $0.authorName != "" && !$0.body.isEmpty })
        }
        #expect(try await database.users(role: .buyer).count == DemoSeeder.buyerNames.count)
        var topRated = ProductQuery()
        topRated.minRating = 4.5
        let top = try await database.search(topRated).hits
        #expect(!top.isEmpty && top.allSatisfy { $0.product.ratingAverage >= 4.5 })

        // Determinism: the benchmark and the tantivy comparison rely on reproducible corpora.
        var a = DemoCatalog(seed: 99)
        var b = DemoCatalog(seed: 99)
        for _ in 0..<50 { #expect(a.next().title == b.next().title) }
    }

    @Test("Seeding twice reuses the demo sellers")
    func seedTwice() async throws {
        let database = try makeDatabase()
        _ = try await DemoSeeder(database: database, currency: "USD").seed(products: 10, sellers: 2, seed: 1) { _ in }
        _ = try await DemoSeeder(database: database, currency: "USD").seed(products: 10, sellers: 2, seed: 2) { _ in }
        #expect(try await database.users(role: .seller).count == 2)
        #expect(try await database.users(role: .buyer).count == DemoSeeder.buyerNames.count, "the demo buyers too")
        #expect(try await database.products(limit: 100).count == 20)
    }

    @Test("unpublish takes a product out of search and back to draft, by id or slug")
    func unpublish() async throws {
        let database = try makeDatabase()
        _ = try await DemoSeeder(database: database, currency: "USD").seed(products: 5, sellers: 1, seed: 3) { _ in }
        let products = try await database.products(limit: 10)
        let admin = CatalogAdmin(database: database)

        let first = try #require(products.first)
        #expect(try await admin.unpublish(first.id).status == .draft)
        let second = products[1]
        #expect(try await admin.unpublish(second.slug).status == .draft)
        let listed = try await database.search(ProductQuery()).hits.map(\.product.id)
        #expect(!listed.contains(first.id) && !listed.contains(second.id))
        #expect(listed.count == 3)
        await #expect(throws: SoukError.self) { _ = try await admin.unpublish("prod_doesnotexist") }

        let table = CatalogAdmin.render(products, json: false)
        #expect(table.hasPrefix("ID") && table.contains(first.id))
        let json = try JSONSerialization.jsonObject(with: Data(CatalogAdmin.render(products, json: true).utf8)) as? [[String: Any]]
        #expect(json?.count == 5)
        #expect(json?.first?["price"] is NSNumber)
    }
}
