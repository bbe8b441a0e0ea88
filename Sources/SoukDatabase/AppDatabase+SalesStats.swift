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

extension AppDatabase {
    /// One buyer of a seller's products: paid orders (`SalesStats.countedStatuses`) only.
    public struct Customer: Sendable, Equatable {
        public var email: String
        public var name: String
        public var orders: Int
        public var spent: Int
        public var currency: String
        public var firstPaidAt: Date
        public var lastPaidAt: Date
    }

    /// The seller's customers, most recent purchase first, per currency they paid in; at most
    /// `limit` (the CSV export lists everyone).
    public func customers(sellerID: String, limit: Int) async throws -> [Customer] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.buyer_email AS email, u.name, COUNT(DISTINCT o.id) AS orders, SUM(i.seller_amount) AS spent,
                           o.currency, MIN(o.paid_at) AS first_paid_at, MAX(o.paid_at) AS last_paid_at
                    FROM order_items i JOIN orders o ON o.id = i.order_id JOIN users u ON u.id = o.buyer_id
                    WHERE i.seller_id = ?
                      AND o.status IN (\(SalesStats.countedStatuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")))
                    GROUP BY o.buyer_id, o.currency ORDER BY last_paid_at DESC, email LIMIT ?
                    """, arguments: [sellerID, limit]
            ).map { row in
                Customer(
                    email: row["email"], name: row["name"], orders: row["orders"], spent: row["spent"],
                    currency: row["currency"], firstPaidAt: row["first_paid_at"], lastPaidAt: row["last_paid_at"])
            }
        }
    }
}
