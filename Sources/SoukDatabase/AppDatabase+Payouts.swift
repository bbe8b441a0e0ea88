import Foundation
import GRDB
import SoukCore

/// Payouts: the lines of paid-up orders, summed into balances by `Payouts`.
extension AppDatabase {
    /// What each seller is owed, per currency (see `Payouts.balances(kept:exceptions:)`), from
    /// the totals kept as orders move (`seller_money`) and the lines of the few orders refunded
    /// or disputed. Test orders moved no money and are never counted.
    public func sellerBalances(sellerID: String? = nil) async throws -> [SellerBalance] {
        let (kept, exceptions) = try await writer.read { db in
            let rows = try SellerMoneyRecord.fetchAll(
                db, sql: "SELECT * FROM seller_money WHERE (?1 IS NULL OR seller_id = ?1) AND lines > 0", arguments: [sellerID])
            let sellers = Dictionary(
                uniqueKeysWithValues: try UserRecord.fetchAll(db, keys: Set(rows.map(\.sellerID))).map { ($0.id, $0) })
            let kept = rows.compactMap { row -> Payouts.Kept? in
                guard let seller = sellers[row.sellerID] else { return nil }
                return Payouts.Kept(
                    sellerID: row.sellerID, sellerName: seller.name, sellerEmail: seller.email, currency: row.currency,
                    gross: row.gross, fees: row.fees, settled: row.settled)
            }
            let exceptions = try Self.payoutLines(
                orders: "SELECT order_id FROM seller_money_exceptions WHERE ?1 IS NULL OR seller_id = ?1", sellerID: sellerID, in: db)
            return (kept, exceptions)
        }
        return Payouts.balances(kept: kept, exceptions: exceptions, sellerID: sellerID)
    }

    /// The lines payouts count: every line of each order with one of `sellerID`'s (all orders
    /// when nil) whose money counts (`Payouts.countedStatuses`, not a test order with a total).
    static func payoutLines(sellerID: String?, in db: Database) throws -> [PayoutLine] {
        try payoutLines(orders: "SELECT order_id FROM order_items WHERE ?1 IS NULL OR seller_id = ?1", sellerID: sellerID, in: db)
    }

    /// The lines payouts count of the orders `orders` selects (SQL with `?1`, the seller id or NULL).
    private static func payoutLines(orders: String, sellerID: String?, in db: Database) throws -> [PayoutLine] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT o.id AS order_id, i.seller_id, u.name, u.email, o.currency, o.status, o.total,
                       o.refunded_amount, i.amount, i.fee_amount, i.seller_amount
                FROM order_items i JOIN orders o ON o.id = i.order_id JOIN users u ON u.id = i.seller_id
                WHERE o.status IN (\(Payouts.countedStatuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")))
                  AND NOT (o.provider = '\(Order.testProvider)' AND o.total > 0)
                  AND o.id IN (\(orders))
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
