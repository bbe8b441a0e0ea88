import Foundation
import GRDB
import SoukCore

/// Payouts: the lines of paid-up orders, summed into balances by `Payouts`.
extension AppDatabase {
    /// What each seller is owed, per currency (see `Payouts.balances`). Test orders moved no money
    /// and are never counted.
    public func sellerBalances(sellerID: String? = nil) async throws -> [SellerBalance] {
        let lines = try await writer.read { db in try Self.payoutLines(sellerID: sellerID, in: db) }
        return Payouts.balances(lines, sellerID: sellerID)
    }

    /// The lines payouts count: every line of each order with one of `sellerID`'s (all orders
    /// when nil) whose money counts (`Payouts.countedStatuses`, not a test order with a total).
    static func payoutLines(sellerID: String?, in db: Database) throws -> [PayoutLine] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT o.id AS order_id, i.seller_id, u.name, u.email, o.currency, o.status, o.total,
                       o.refunded_amount, i.amount, i.fee_amount, i.seller_amount
                FROM order_items i JOIN orders o ON o.id = i.order_id JOIN users u ON u.id = i.seller_id
                WHERE o.status IN (\(Payouts.countedStatuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")))
                  AND NOT (o.provider = '\(Order.testProvider)' AND o.total > 0)
                  AND o.id IN (SELECT order_id FROM order_items WHERE ?1 IS NULL OR seller_id = ?1)
                ORDER BY o.id, i.rowid
                """, arguments: [sellerID]
        ).map { row in
            PayoutLine(
                orderID: row["order_id"], orderStatus: OrderStatus(rawValue: row["status"]) ?? .paid,
                orderTotal: row["total"], orderRefunded: row["refunded_amount"], currency: row["currency"],
                sellerID: row["seller_id"], sellerName: row["name"], sellerEmail: row["email"], amount: row["amount"],
                feeAmount: row["fee_amount"], sellerAmount: row["seller_amount"])
        }
    }
}
