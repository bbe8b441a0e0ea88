import Foundation
import GRDB
import SoukCore

/// The export (`souk export`, the dashboard's downloads): the store's data, or one seller's, read
/// in one transaction so that its tables agree with each other (orders with payouts).
extension AppDatabase {
    /// Everything `StoreExport` writes, for the seller `sellerID` (their products; the orders
    /// with a line of theirs, every line included; reviews and license keys of their products;
    /// their balances), or for the whole store when nil.
    public func exportSnapshot(sellerID: String?) async throws -> ExportSnapshot {
        let now = clock.now()
        return try await writer.read { db in
            let scope: StatementArguments = [sellerID]
            let products = try Self.fetchProducts(
                db, sql: "\(Self.productSelect) WHERE ?1 IS NULL OR p.seller_id = ?1 ORDER BY p.created_at, p.rowid",
                arguments: scope)
            let orderIDs = try String.fetchAll(
                db,
                sql: """
                    SELECT o.id FROM orders o
                    WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.seller_id = ?1)
                    ORDER BY o.created_at, o.id
                    """, arguments: scope)
            let orders = try orderIDs.compactMap { try Self.order(id: $0, in: db) }
            let reviews = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id
                    JOIN products p ON p.id = r.product_id
                    WHERE ?1 IS NULL OR p.seller_id = ?1 ORDER BY r.created_at, r.id
                    """, arguments: scope
            ).map { row in try ReviewRecord(row: row).review(authorName: row["author_name"]) }
            let licenses = try Self.licenseKeys(
                sql: "?1 IS NULL OR product_id IN (SELECT id FROM products WHERE seller_id = ?1)", arguments: scope, in: db)
            let balances = Payouts.balances(try Self.payoutLines(sellerID: sellerID, in: db), sellerID: sellerID)
            let mentioned = Set(
                products.map(\.sellerID) + orders.flatMap { [$0.buyerID] + $0.items.map(\.sellerID) }
                    + licenses.map(\.userID))
            return ExportSnapshot(
                sellerID: sellerID, products: products, orders: orders, reviews: reviews, licenses: licenses,
                balances: balances, accounts: try Self.exportAccounts(ids: mentioned, in: db), takenAt: now)
        }
    }

    /// Names and e-mails of these accounts, by id (read in slices: SQLite caps a statement's
    /// arguments).
    private static func exportAccounts(ids: Set<String>, in db: Database) throws -> [String: ExportAccount] {
        var accounts: [String: ExportAccount] = [:]
        let sorted = ids.sorted()
        for start in stride(from: 0, to: sorted.count, by: 500) {
            let slice = Array(sorted[start..<min(start + 500, sorted.count)])
            let marks = Array(repeating: "?", count: slice.count).joined(separator: ", ")
            for row in try Row.fetchAll(
                db, sql: "SELECT id, name, email FROM users WHERE id IN (\(marks))", arguments: StatementArguments(slice))
            {
                accounts[row["id"]] = ExportAccount(name: row["name"], email: row["email"])
            }
        }
        return accounts
    }
}
