import Foundation
import GRDB
import SoukCore

/// Payments that did not match their order (`PaymentMatch`): recorded in the transaction of the
/// event that brought them, shown to the operator, and refunded by a `mismatch_refund` job.
extension AppDatabase {
    /// Records `payment` as a mismatch for `order` (once per provider payment), queues its refund
    /// and tells every active admin. Returns the mismatch's id.
    static func recordMismatch(
        _ payment: Payment, reason: String, order: Order, event: PaymentEvent, now: Date, ids: any IDGenerator,
        queue: JobQueue, in db: Database
    ) throws -> String {
        if let known = try String.fetchOne(
            db, sql: "SELECT id FROM payment_mismatches WHERE provider = ? AND payment_id = ?",
            arguments: [event.provider, payment.id])
        {
            return known
        }
        let id = ids.make(.paymentMismatch)
        try PaymentMismatchRecord(
            id: id, provider: event.provider, eventID: event.id, orderID: order.id, paymentID: payment.id,
            checkoutID: payment.checkoutID, amount: payment.amount, currency: payment.currency,
            claimedOrderID: payment.claimedOrderID, reason: reason, refundState: PaymentMismatch.RefundState.queued.rawValue,
            refundID: nil, lastError: nil, createdAt: now, updatedAt: now
        ).insert(db)
        try queue.enqueue(try PaymentMismatchNotices.refundJob(mismatchID: id), in: db)
        for admin in try activeAdminIDs(in: db) {
            try notify(
                PaymentMismatchNotices.recorded(
                    mismatchID: id, payment: payment, provider: event.provider, reason: reason, orderID: order.id,
                    adminID: admin), now: now, ids: ids, in: db)
        }
        return id
    }

    /// The mismatched payments reported for an order, oldest first.
    public func paymentMismatches(orderID: String) async throws -> [PaymentMismatch] {
        try await writer.read { db in
            try PaymentMismatchRecord.filter(PaymentMismatchRecord.Columns.orderID == orderID)
                .order(PaymentMismatchRecord.Columns.createdAt, PaymentMismatchRecord.Columns.id).fetchAll(db).map(\.mismatch)
        }
    }

    public func paymentMismatch(id: String) async throws -> PaymentMismatch? {
        try await writer.read { db in
            try PaymentMismatchRecord.fetchOne(db, key: id)?.mismatch
        }
    }

    /// The provider gave the mismatched payment back.
    public func mismatchRefunded(id: String, refundID: String) async throws {
        let now = clock.now()
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE payment_mismatches SET refund_state = 'refunded', refund_id = ?, last_error = NULL, updated_at = ?
                    WHERE id = ?
                    """, arguments: [refundID, now, id])
        }
    }

    /// The refund cannot be made automatically (the provider refused, or the amount is unknown):
    /// the operator must refund it in the provider's dashboard.
    public func mismatchRefundFailed(id: String, error: String) async throws {
        let now = clock.now()
        let ids = self.ids
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE payment_mismatches SET refund_state = 'failed', last_error = ?, updated_at = ? WHERE id = ?",
                arguments: [error, now, id])
            guard let mismatch = try PaymentMismatchRecord.fetchOne(db, key: id)?.mismatch else { return }
            for admin in try Self.activeAdminIDs(in: db) {
                try Self.notify(PaymentMismatchNotices.refundFailed(mismatch, error: error, adminID: admin), now: now, ids: ids, in: db)
            }
        }
    }
}
