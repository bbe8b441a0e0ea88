import Foundation
import GRDB
import SoukCore

/// Refunds: the idempotency keys of attempts, and recording what the provider refunded (what a
/// refund does to its order is `RefundDecision`'s).
extension AppDatabase {
    /// The idempotency key for refunding `amount` of an order: the key of an earlier attempt whose
    /// outcome is unknown (its answer was lost), else a new one.
    public func refundAttemptKey(orderID: String, amount: Int) async throws -> String {
        let now = clock.now()
        let fresh = "souk-refund-\(orderID)-\(RandomText.base32(byteCount: 10))"
        return try await writer.write { db in
            if let pending = try String.fetchOne(
                db,
                sql: "SELECT idempotency_key FROM refund_attempts WHERE order_id = ? AND amount = ? AND state = 'pending'",
                arguments: [orderID, amount])
            {
                return pending
            }
            try RefundAttemptRecord(idempotencyKey: fresh, orderID: orderID, amount: amount, state: "pending", createdAt: now)
                .insert(db)
            return fresh
        }
    }

    /// The provider refused the attempt: nothing was refunded, and a new attempt gets a new key.
    public func refundAttemptRefused(key: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE refund_attempts SET state = 'refused' WHERE idempotency_key = ?", arguments: [key])
        }
    }

    /// Records a refund the provider has made: the order's refunded amount grows, its status
    /// becomes `refunded` (access revoked) or `partially_refunded`. Throws `conflict` when the
    /// amount is more than what is left to refund or the order's state forbids it.
    public func recordRefund(
        orderID: String, amount: Int, reason: String?, providerRefundID: String?, requestedBy: String,
        attemptKey: String? = nil
    ) async throws -> Order {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            if let attemptKey {
                try db.execute(
                    sql: "UPDATE refund_attempts SET state = 'succeeded' WHERE idempotency_key = ?", arguments: [attemptKey])
            }
            guard let order = try Self.order(id: orderID, in: db) else { throw SoukError.notFound("The order \(orderID)") }
            // The provider's webhook for this very refund may have been recorded first: by its
            // refund id, or (Stripe's charges no longer list their refunds) as a provider refund
            // of the same amount without an id, recorded while this refund was under way.
            if let providerRefundID {
                try db.execute(
                    sql: "UPDATE refunds SET requested_by = ?, reason = ? WHERE order_id = ? AND provider_refund_id = ?",
                    arguments: [requestedBy, reason, orderID, providerRefundID])
                if db.changesCount > 0 { return order }
                try db.execute(
                    sql: """
                        UPDATE refunds SET requested_by = ?, reason = ?, provider_refund_id = ?
                        WHERE id = (SELECT id FROM refunds
                                    WHERE order_id = ? AND provider_refund_id IS NULL AND requested_by = 'provider' AND amount = ?
                                    ORDER BY created_at DESC LIMIT 1)
                        """, arguments: [requestedBy, reason, providerRefundID, orderID, amount])
                if db.changesCount > 0 { return try Self.order(id: orderID, in: db)! }
            }
            let entry = try RefundDecision.entry(
                refundID: ids.make(.refund), order: order, amount: amount, reason: reason, providerRefundID: providerRefundID,
                requestedBy: requestedBy)
            try Self.applyRefund(entry, to: order, now: now, ids: ids, in: db)
            return try Self.order(id: orderID, in: db)!
        }
    }

    /// Stores a decided refund: the refund row, the buyer's notice, the order's status and
    /// refunded amount, and for a full refund the end of everything the order gave (grants,
    /// pages, license keys) and of the buyer's reviews of its products.
    static func applyRefund(_ entry: RefundEntry, to order: Order, now: Date, ids: any IDGenerator, in db: Database) throws {
        try RefundRow(
            id: entry.id, orderID: order.id, amount: entry.amount, reason: entry.reason,
            providerRefundID: entry.providerRefundID, requestedBy: entry.requestedBy, createdAt: now
        ).insert(db)
        try notify(entry.notice, now: now, ids: ids, in: db)
        try setStatus(order.id, from: order.status, to: entry.status, now: now, in: db)
        try db.execute(sql: "UPDATE orders SET refunded_amount = ? WHERE id = ?", arguments: [entry.refundedAmount, order.id])
        if entry.revokesAccess {
            try db.execute(
                sql: "UPDATE grants SET revoked_at = ? WHERE order_id = ? AND revoked_at IS NULL", arguments: [now, order.id])
            try db.execute(
                sql: "UPDATE license_keys SET status = 'revoked', updated_at = ? WHERE order_id = ? AND status != 'revoked'",
                arguments: [now, order.id])
            // The buyer's rating of what they no longer own stops counting (AppDatabase+Reviews).
            try withdrawReviews(of: order, now: now, in: db)
        }
        // Every refund (partial or full, by the seller, an admin or the provider) is one event.
        try emitOrderWebhook(.orderRefunded, orderID: order.id, refund: entry, now: now, ids: ids, in: db)
    }
}
