import Foundation
import GRDB
import SoukCore

/// The test provider's state: what Stripe keeps on its side for a real checkout.
extension AppDatabase {
    /// Opens the order's test session, or returns the one it already has.
    public func openTestSession(
        orderID: String, amount: Int, currency: String, lines: [TestCheckoutSession.Line], buyerEmail: String,
        successURL: String, cancelURL: String
    ) async throws -> TestCheckoutSession {
        let now = clock.now()
        let id = ids.make(.testSession)
        let paymentID = "pi_test_" + RandomText.base32(byteCount: 12)
        let linesJSON = String(decoding: try JSONEncoder().encode(lines), as: UTF8.self)
        return try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO test_checkout_sessions (id, order_id, payment_id, amount, currency, lines, buyer_email,
                                                        success_url, cancel_url, status, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (order_id) DO NOTHING
                    """,
                arguments: [id, orderID, paymentID, amount, currency, linesJSON, buyerEmail, successURL, cancelURL, now])
            return try TestCheckoutSessionRecord.filter(TestCheckoutSessionRecord.Columns.orderID == orderID).fetchOne(db)!
                .session
        }
    }

    public func testSession(id: String) async throws -> TestCheckoutSession? {
        try await writer.read { db in try TestCheckoutSessionRecord.fetchOne(db, key: id)?.session }
    }

    /// Moves an open session to `status` and queues the webhooks it sends, in one transaction.
    /// Throws `conflict` when the session was already settled (a second click changes nothing).
    public func settleTestSession(
        id: String, to status: TestCheckoutSession.Status, webhooks: [(body: String, delay: TimeInterval)]
    ) async throws -> TestCheckoutSession {
        let now = clock.now()
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE test_checkout_sessions SET status = ? WHERE id = ? AND status = 'open'",
                arguments: [status.rawValue, id])
            guard db.changesCount == 1 else {
                throw SoukError(.conflict, "This test checkout is no longer open: it was paid, declined or left to pay later.")
            }
            for webhook in webhooks {
                try queue.enqueue(
                    kind: OrderJobKind.testWebhook, payload: ["body": webhook.body],
                    runAt: now.addingTimeInterval(webhook.delay), in: db)
            }
            return try TestCheckoutSessionRecord.fetchOne(db, key: id)!.session
        }
    }

    /// A pay-later session's money arrives (or not): `pending` → `paid` or `declined`.
    public func finishPendingTestSession(id: String, paid: Bool) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE test_checkout_sessions SET status = ? WHERE id = ? AND status = 'pending'",
                arguments: [paid ? "paid" : "declined", id])
            return db.changesCount == 1
        }
    }

    /// Refunds part of a paid test session and queues the `charge.refunded` webhook built by
    /// `webhook(totalRefunded)`. Throws `conflict` when the amount exceeds what is left.
    public func refundTestSession(paymentID: String, amount: Int, webhook: @Sendable (Int) -> String) async throws -> Int {
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE test_checkout_sessions SET refunded_amount = refunded_amount + ?
                    WHERE payment_id = ? AND status = 'paid' AND refunded_amount + ? <= amount
                    """, arguments: [amount, paymentID, amount])
            guard db.changesCount == 1,
                let total = try Int.fetchOne(
                    db, sql: "SELECT refunded_amount FROM test_checkout_sessions WHERE payment_id = ?", arguments: [paymentID])
            else {
                throw SoukError(.conflict, "The test payment \(paymentID) is not paid, or less than \(amount) is left to refund.")
            }
            try queue.enqueue(kind: OrderJobKind.testWebhook, payload: ["body": webhook(total)], in: db)
            return total
        }
    }
}
