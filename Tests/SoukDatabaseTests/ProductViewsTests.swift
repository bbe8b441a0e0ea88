import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("Product views")
struct ProductViewsTests {
    @Test("A seller's views are their products' since the day asked, read by seller and day, not by walking their catalog")
    func bySellerAndDay() async throws {
        let store = try TestStore()
        let database = store.database
        let ada = try await store.seller("ada@example.com")
        let bo = try await store.seller("bo@example.com")
        let atlas = try await store.product("Moth Atlas", by: ada)
        let primer = try await store.product("Fern Primer", by: ada)
        let rival = try await store.product("Heron Guide", by: bo)
        let gone = try await store.product("Withdrawn Zine", by: ada)
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
