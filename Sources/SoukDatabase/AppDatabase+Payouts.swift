import Foundation
import GRDB
import SoukCore

/// Payouts: the lines of paid-up orders, summed into balances by `Payouts`.
extension AppDatabase {
    /// What each seller is owed, per currency (see `Payouts.balances(kept:unsettled:)`), from
    /// the totals kept as orders move (`seller_money`), the shares of refunded and disputed
    /// orders worked out since (`settleMoneyShares`), and the lines of any not worked out yet.
    /// Test orders moved no money and are never counted.
    public func sellerBalances(sellerID: String? = nil) async throws -> [SellerBalance] {
        let (kept, unsettled) = try await writer.read { db in
            let rows = try SellerMoneyRecord.fetchAll(
                db, sql: "SELECT * FROM seller_money WHERE (?1 IS NULL OR seller_id = ?1) AND lines > 0", arguments: [sellerID])
            let shared = try Row.fetchAll(
                db,
                sql: """
                    SELECT seller_id, currency, SUM(refunds) AS refunds, SUM(owed) AS owed, SUM(on_hold) AS on_hold
                    FROM seller_money_exceptions WHERE (?1 IS NULL OR seller_id = ?1) AND refunds IS NOT NULL
                    GROUP BY seller_id, currency
                    """, arguments: [sellerID]
            ).reduce(into: [String: Row]()) { $0["\($1["seller_id"] as String)|\($1["currency"] as String)"] = $1 }
            let sellers = Dictionary(
                uniqueKeysWithValues: try UserRecord.fetchAll(db, keys: Set(rows.map(\.sellerID))).map { ($0.id, $0) })
            let kept = rows.compactMap { row -> SellerBalance? in
                guard let seller = sellers[row.sellerID] else { return nil }
                let shares = shared["\(row.sellerID)|\(row.currency)"]
                var balance = SellerBalance(sellerID: row.sellerID, sellerName: seller.name, sellerEmail: seller.email, currency: row.currency)
                balance.gross = row.gross
                balance.fees = row.fees
                balance.refunds = shares?["refunds"] ?? 0
                balance.owed = row.settled + (shares?["owed"] ?? 0)
                balance.onHold = shares?["on_hold"] ?? 0
                return balance
            }
            let unsettled = try Self.payoutLines(
                orders: "SELECT order_id FROM seller_money_exceptions WHERE (?1 IS NULL OR seller_id = ?1) AND refunds IS NULL",
                argument: sellerID, in: db)
            return (kept, unsettled)
        }
        return Payouts.balances(kept: kept, unsettled: unsettled, sellerID: sellerID)
    }

    /// Works out the sellers' shares of the refunded and disputed orders changed since the last
    /// call (`Payouts.shares`) and keeps them, up to `limit` orders a call, so a balance reads
    /// their sums instead of every line again. Returns how many rows it settled (0 when none
    /// could be, so a caller looping until 0 stops); reads first, so an idle store does not write.
    @discardableResult
    public func settleMoneyShares(limit: Int = 500) async throws -> Int {
        let pending = try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM seller_money_exceptions WHERE refunds IS NULL)") ?? false
        }
        guard pending else { return 0 }
        return try await writer.write { db in
            let orderIDs = try String.fetchAll(
                db, sql: "SELECT DISTINCT order_id FROM seller_money_exceptions WHERE refunds IS NULL LIMIT ?", arguments: [limit])
            let lines = try Self.payoutLines(
                orders: "SELECT value FROM json_each(?1)", argument: try Self.jsonList(orderIDs),
                in: db)
            var settled = 0
            for share in Payouts.sellerShares(lines) {
                try db.execute(
                    sql: """
                        UPDATE seller_money_exceptions SET refunds = ?, owed = ?, on_hold = ?
                        WHERE seller_id = ? AND order_id = ? AND refunds IS NULL
                        """, arguments: [share.refund, share.owed, share.onHold, share.sellerID, share.orderID])
                settled += db.changesCount
            }
            return settled
        }
    }

    /// The lines payouts count: every line of each order with one of `sellerID`'s (all orders
    /// when nil) whose money counts (`Payouts.countedStatuses`, not a test order with a total).
    static func payoutLines(sellerID: String?, in db: Database) throws -> [PayoutLine] {
        try payoutLines(orders: "SELECT order_id FROM order_items WHERE ?1 IS NULL OR seller_id = ?1", argument: sellerID, in: db)
    }

    /// The lines payouts count of the orders `orders` selects (SQL with `?1`, bound to `argument`:
    /// the seller id or NULL, or a JSON array of order ids).
    private static func payoutLines(orders: String, argument: String?, in db: Database) throws -> [PayoutLine] {
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
                """, arguments: [argument]
        ).map { row in
            PayoutLine(
                orderID: row["order_id"], orderStatus: OrderStatus(rawValue: row["status"]) ?? .paid,
                orderTotal: row["total"], orderRefunded: row["refunded_amount"], currency: row["currency"],
                sellerID: row["seller_id"], sellerName: row["name"], sellerEmail: row["email"], amount: row["amount"],
                feeAmount: row["fee_amount"], sellerAmount: row["seller_amount"])
        }
    }
}
