import Foundation
import GRDB
import SoukCore

extension AppDatabase {
    /// The seller's counted sale lines (`SalesStats.countedStatuses`) paid since `since`, oldest
    /// first (test orders included: the page says when it shows any).
    public func salesLines(sellerID: String, since: Date) async throws -> [SalesStats.Line] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id AS order_id, o.paid_at, o.currency, i.product_id, i.title, i.seller_amount
                    FROM order_items i JOIN orders o ON o.id = i.order_id
                    WHERE i.seller_id = ? AND o.paid_at >= ?
                      AND o.status IN (\(SalesStats.countedStatuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")))
                    ORDER BY o.paid_at, o.id
                    """, arguments: [sellerID, since]
            ).map { row in
                SalesStats.Line(
                    orderID: row["order_id"], paidAt: row["paid_at"], currency: row["currency"], productID: row["product_id"],
                    title: row["title"], sellerAmount: row["seller_amount"])
            }
        }
    }
}
