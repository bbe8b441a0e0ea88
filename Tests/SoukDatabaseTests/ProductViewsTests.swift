import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("Product views")
struct ProductViewsTests {
    @Test("A seller's views are their products' since the day asked, read by seller and day, not by walking their catalog")
    func bySellerAndDay() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-views-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path)
        func seller(_ email: String) async throws -> User {
            _ = try await database.insertUser(email: email, name: email, passwordHash: "x", role: .seller)
            return try await database.setSellerStatus(email: email, .verified)
        }
        func product(_ title: String, by seller: User) async throws -> Product {
            let now = database.clock.now()
            return try await database.insertProduct(
                Product(
                    id: database.ids.make(.product), sellerID: seller.id, sellerName: seller.name, title: title,
                    slug: title.lowercased().replacingOccurrences(of: " ", with: "-"), summary: "", description: "",
                    descriptionHTML: "", category: "Books", tags: [], kind: .download,
                    price: Price(amount: 500, currency: "USD", minimum: nil), stock: nil, status: .published,
                    attributesJSON: "{}", downloadLimit: nil, activationLimit: nil, ratingAverage: 0, ratingCount: 0,
                    salesCount: 0, createdAt: now, updatedAt: now, publishedAt: now))
        }
        let ada = try await seller("ada@example.com")
        let bo = try await seller("bo@example.com")
        let atlas = try await product("Moth Atlas", by: ada)
        let primer = try await product("Fern Primer", by: ada)
        let rival = try await product("Heron Guide", by: bo)
        let gone = try await product("Withdrawn Zine", by: ada)
        try await database.addProductViews([
            ProductViewCount(productID: atlas.id, day: "2026-12-01", views: 5),
            ProductViewCount(productID: atlas.id, day: "2026-12-05", views: 2),
            ProductViewCount(productID: primer.id, day: "2026-11-20", views: 9),
            ProductViewCount(productID: rival.id, day: "2026-12-05", views: 7),
            ProductViewCount(productID: gone.id, day: "2026-12-05", views: 1),
        ])
        // Counted again later the same day: added to the day's row.
        try await database.addProductViews([ProductViewCount(productID: atlas.id, day: "2026-12-05", views: 1)])
        try await database.writer.write { try $0.execute(sql: "DELETE FROM products WHERE id = ?", arguments: [gone.id]) }
        // A view counted for a product deleted before the batch was written is dropped.
        try await database.addProductViews([ProductViewCount(productID: gone.id, day: "2026-12-06", views: 3)])

        let views = try await database.productViews(sellerID: ada.id, sinceDay: "2026-12-01")
        #expect(views.map { [$0.title: $0.views] } == [["Moth Atlas": 8]])
        let all = try await database.productViews(sellerID: ada.id, sinceDay: "2026-01-01")
        #expect(Dictionary(uniqueKeysWithValues: all.map { ($0.title, $0.views) }) == ["Moth Atlas": 8, "Fern Primer": 9])
        #expect(try await database.productViews(sellerID: bo.id, sinceDay: "2026-12-01").map(\.views) == [7])

        let plan = try await database.writer.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + AppDatabase.productViewsSQL, arguments: [ada.id, "2026-12-01"]
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("product_views_by_seller") }, "\(plan)")
        #expect(!plan.contains { $0.contains("products_by_seller") }, "\(plan)")
    }
}
