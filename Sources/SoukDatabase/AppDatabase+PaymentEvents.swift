import Foundation
import GRDB
import SoukCore

/// Provider events: each recorded once, its effect decided by `PaymentEventDecision` and applied
/// here in the same transaction, with the jobs the decision asks for.
extension AppDatabase {
    /// Records a verified provider event and applies its effect in one transaction. A (provider,
    /// event id) seen before changes nothing; a move the order's state forbids is recorded as
    /// ignored.
    public func recordPaymentEvent(_ event: PaymentEvent) async throws -> PaymentEventOutcome {
        let now = clock.now()
        let ids = self.ids
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            let seen = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM payment_events WHERE provider = ? AND event_id = ?"),
                arguments: [event.provider, event.id])
            if seen == true { return .duplicate }
            var orderID = try event.order.flatMap { try Self.orderID(for: $0, provider: event.provider, in: db) }
            if orderID == nil, case .paid(let payment)? = event.effect, let claimed = payment.claimedOrderID {
                // Not paid through any checkout of this store's, but it names one of its orders:
                // found only to be reported and refunded as a mismatch, never to pay the order.
                orderID = try Self.orderID(for: .order(claimed), provider: event.provider, in: db)
            }
            let outcome: PaymentEventOutcome
            if let effect = event.effect, let id = orderID, let order = try Self.order(id: id, in: db) {
                let facts = try Self.facts(for: effect, of: event, order: order, ids: ids, in: db)
                let plan = try PaymentEventDecision.decide(effect, facts: facts)
                outcome = try Self.apply(plan, to: order, event: event, now: now, ids: ids, queue: queue, in: db)
            } else if event.effect == nil {
                outcome = .ignored(reason: "Souk does not act on \(event.type) events")
            } else {
                outcome = .ignored(reason: "no order matches this event")
            }
            let (label, detail): (String, String?) =
                switch outcome {
                case .applied(_, let status): ("applied", status.rawValue)
                case .ignored(let reason): ("ignored", reason)
                case .refundQueued: ("refund_queued", nil)
                case .mismatched(_, _, let reason): ("mismatched", reason)
                case .duplicate: ("duplicate", nil)
                }
            try PaymentEventRecord(
                provider: event.provider, eventID: event.id, type: event.type, orderID: orderID, outcome: label,
                detail: detail, receivedAt: now
            ).insert(db)
            return outcome
        }
    }

    private static func orderID(for reference: OrderReference, provider: String, in db: Database) throws -> String? {
        switch reference {
        case .order(let id):
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM orders WHERE id = ? AND provider = ?"), arguments: [id, provider])
        case .session(let id):
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM orders WHERE provider = ? AND provider_session_id = ?"),
                arguments: [provider, id])
        case .payment(let id):
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM orders WHERE provider = ? AND provider_payment_id = ?"),
                arguments: [provider, id])
        }
    }

    /// What the decision about `effect` needs to know, read in the event's transaction.
    private static func facts(
        for effect: PaymentEffect, of event: PaymentEvent, order: Order, ids: any IDGenerator, in db: Database
    ) throws -> PaymentEventFacts {
        var facts = PaymentEventFacts(order: order, newRefundID: ids.make(.refund))
        switch effect {
        case .paid(let payment):
            facts.paymentRefusedBefore = try String.fetchOne(
                db.cachedStatement(sql: "SELECT reason FROM payment_mismatches WHERE provider = ? AND payment_id = ?"),
                arguments: [event.provider, payment.id])
            if order.status == .expired || order.status == .paymentFailed {
                facts.stockAvailableAgain = try stockAvailableAgain(orderID: order.id, in: db)
            }
        case .refunded(_, let refundID?):
            facts.refundRecorded =
                try Bool.fetchOne(db, sql: "SELECT 1 FROM refunds WHERE provider_refund_id = ?", arguments: [refundID]) ?? false
        case .disputeClosed:
            facts.statusBeforeDispute = try String.fetchOne(
                db, sql: "SELECT status_before_dispute FROM orders WHERE id = ?", arguments: [order.id]
            ).flatMap(OrderStatus.init(rawValue:))
        default:
            break
        }
        return facts
    }

    /// Applies a decided change, queues its jobs and stores its notices.
    private static func apply(
        _ plan: PaymentEventPlan, to order: Order, event: PaymentEvent, now: Date, ids: any IDGenerator, queue: JobQueue,
        in db: Database
    ) throws -> PaymentEventOutcome {
        var mismatchID: String?
        switch plan.change {
        case .none, .awaitConfirmation:
            break
        case .refusePayment(let payment, let reason):
            mismatchID = try recordMismatch(
                payment, reason: reason, order: order, event: event, now: now, ids: ids, queue: queue, in: db)
        case .refundLatePayment(let paymentID):
            try db.execute(
                sql: "UPDATE orders SET provider_payment_id = ?, paid_at = ?, updated_at = ? WHERE id = ?",
                arguments: [paymentID, now, now, order.id])
        case .pay(let paymentID, let holdStockAgain, let countsAsSale):
            if holdStockAgain { try Self.holdStockAgain(orderID: order.id, in: db) }
            try setStatus(order.id, from: order.status, to: .paid, now: now, in: db)
            try db.executeCached(
                "UPDATE orders SET provider_payment_id = ?, paid_at = ? WHERE id = ?", [paymentID, now, order.id])
            try grantAccess(order, countsAsSale: countsAsSale, now: now, ids: ids, in: db)
            try emitOrderWebhook(.orderPaid, orderID: order.id, now: now, ids: ids, in: db)
        case .move(let status, let releaseStock):
            try setStatus(order.id, from: order.status, to: status, now: now, in: db)
            if releaseStock { try Self.releaseStock(orderID: order.id, in: db) }
        case .refund(let entry):
            try applyRefund(entry, to: order, now: now, ids: ids, in: db)
        case .openDispute(let previous):
            try setStatus(order.id, from: order.status, to: .disputed, now: now, in: db)
            try db.execute(
                sql: "UPDATE orders SET status_before_dispute = ? WHERE id = ?", arguments: [previous.rawValue, order.id])
            try emitOrderWebhook(.orderDisputed, orderID: order.id, now: now, ids: ids, in: db)
        case .closeDispute(let status):
            try setStatus(order.id, from: order.status, to: status, now: now, in: db)
        }
        for job in plan.jobs { try queue.enqueue(job, in: db) }
        for notice in plan.notices { try notify(notice, now: now, ids: ids, in: db) }
        return plan.outcome(orderID: order.id, mismatchID: mismatchID)
    }

    /// One grant per line; sales counted (test sales are not sales: the public count and
    /// "best-selling" ignore them); the bought lines leave the buyer's cart.
    private static func grantAccess(_ order: Order, countsAsSale: Bool, now: Date, ids: any IDGenerator, in db: Database)
        throws
    {
        for item in order.items {
            try db.executeCached(
                """
                INSERT INTO grants (id, order_id, order_item_id, user_id, product_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_item_id) DO NOTHING
                """, [ids.make(.grant), order.id, item.id, order.buyerID, item.productID, now])
            if countsAsSale {
                try db.executeCached(
                    "UPDATE products SET sales_count = sales_count + ? WHERE id = ?", [item.quantity, item.productID])
            }
            try db.executeCached(
                "DELETE FROM cart_items WHERE product_id = ? AND cart_id = (SELECT cart_id FROM orders WHERE id = ?)",
                [item.productID, order.id])
        }
    }
}
