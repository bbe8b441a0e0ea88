import Foundation
import GRDB
import SoukCore

/// A seller's numbers, read from the figures triggers keep as orders move
/// (`Migrations.registerSellerFigures`): the work follows the chart's days and the products
/// sold in its period, not the number of sales.
extension AppDatabase {
    /// The seller's sold orders (`SalesStats.countedStatuses`) per UTC day and currency since
    /// `since`, oldest first (test orders included: the page says when it shows any).
    public func salesDays(sellerID: String, since: Date) async throws -> [SalesStats.DayTotal] {
        try await writer.read { db in
            try SellerSalesDayRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM seller_sales_days WHERE seller_id = ? AND day >= ? AND orders > 0 ORDER BY day, currency
                    """, arguments: [sellerID, Self.dayText(since)]
            ).compactMap { record in
                Self.day(record.day).map {
                    SalesStats.DayTotal(day: $0, currency: record.currency, revenue: record.revenue, orders: record.orders)
                }
            }
        }
    }

    /// The seller's products sold in the buckets of `period` from the one starting at `since`
    /// on, per currency, titled as the products are now (as they were sold when deleted since).
    /// Days are read as whole weeks from the first Monday on (the days before it one by one), so
    /// any period reads at most about twelve rows per product sold.
    public func salesProducts(sellerID: String, period: SalesStats.Period, since: Date) async throws -> [SalesStats.ProductTotal] {
        let weekly = SalesStats.Period.week.start(of: since)
        let edge = period == .day && weekly < since ? weekly.addingTimeInterval(7 * 86400) : since
        let (fine, coarse) = period == .day ? ("day", "week") : (period.rawValue, period.rawValue)
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.product_id, s.currency, SUM(s.revenue) AS revenue, SUM(s.sold) AS sold, SUM(s.orders) AS orders,
                           COALESCE((SELECT title FROM products WHERE id = s.product_id),
                                    (SELECT title FROM order_items WHERE product_id = s.product_id LIMIT 1), '') AS title
                    FROM seller_product_sales s
                    WHERE s.seller_id = ?1 AND ((s.period = ?2 AND s.start >= ?3 AND s.start < ?4) OR (s.period = ?5 AND s.start >= ?4))
                    GROUP BY s.product_id, s.currency HAVING SUM(s.sold) > 0
                    """, arguments: [sellerID, fine, Self.dayText(since), Self.dayText(edge), coarse]
            ).map { row in
                SalesStats.ProductTotal(
                    productID: row["product_id"], title: row["title"], currency: row["currency"], revenue: row["revenue"],
                    sold: row["sold"], orders: row["orders"])
            }
        }
    }

    /// "2026-12-07": the form the figures key their UTC days by.
    static func dayText(_ date: Date) -> String {
        let parts = SalesStats.calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// The UTC midnight a "2026-12-07" names.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return SalesStats.calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
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
                    SELECT u.email, u.name, c.orders, c.spent, c.currency, c.first_paid_at, c.last_paid_at
                    FROM seller_customers c JOIN users u ON u.id = c.buyer_id
                    WHERE c.seller_id = ?
                    ORDER BY c.last_paid_at DESC, c.buyer_id DESC, c.currency DESC LIMIT ?
                    """, arguments: [sellerID, limit]
            ).map { row in
                Customer(
                    email: row["email"], name: row["name"], orders: row["orders"], spent: row["spent"],
                    currency: row["currency"], firstPaidAt: row["first_paid_at"], lastPaidAt: row["last_paid_at"])
            }
        }
    }
}
