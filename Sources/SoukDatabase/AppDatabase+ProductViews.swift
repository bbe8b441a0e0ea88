import Foundation
import GRDB
import SoukCore

/// Product page views per product and UTC day (what conversion is measured against).
extension AppDatabase {
    /// Adds counted views, one transaction for the whole batch. Views of a product deleted
    /// meanwhile are dropped (its rows went with it).
    public func addProductViews(_ counts: [ProductViewCount]) async throws {
        guard !counts.isEmpty else { return }
        try await writer.write { db in
            for count in counts {
                try db.execute(
                    sql: """
                        INSERT INTO \(ProductViewRecord.databaseTableName) (product_id, day, views, seller_id)
                        SELECT id, ?, ?, seller_id FROM products WHERE id = ?
                        ON CONFLICT (product_id, day) DO UPDATE SET views = views + excluded.views
                        """, arguments: [count.day, count.views, count.productID])
            }
        }
    }

    /// The views of each of the seller's products since `day` (`YYYY-MM-DD`, UTC), with titles:
    /// read from the seller's views in those days, however many products the seller has.
    public func productViews(sellerID: String, sinceDay day: String) async throws -> [SalesStats.ProductViews] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: Self.productViewsSQL, arguments: [sellerID, day])
                .map { SalesStats.ProductViews(productID: $0["product_id"], title: $0["title"], views: $0["views"]) }
        }
    }

    /// Arguments: the seller's id, the first day.
    static let productViewsSQL = """
        SELECT v.product_id, p.title, SUM(v.views) AS views FROM product_views v
        JOIN products p ON p.id = v.product_id
        WHERE v.seller_id = ? AND v.day >= ?
        GROUP BY v.product_id
        """
}

/// Views of one product on one UTC day, as counted in memory before they are written.
public struct ProductViewCount: Sendable, Equatable {
    public var productID: String
    public var day: String
    public var views: Int

    public init(productID: String, day: String, views: Int) {
        self.productID = productID
        self.day = day
        self.views = views
    }
}
