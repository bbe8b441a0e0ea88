import Crypto
import Foundation
import GRDB
import SoukCore

/// What a checkout asks the database for: the buyer's cart turned into an order.
public struct CheckoutDraft: Sendable {
    public var buyer: User
    public var cart: Cart
    public var provider: String
    public var idempotencyKey: String?
    public var feePercent: Double
    /// A guest names the account by typing its e-mail: an earlier order is found again only from
    /// the same (guest) cart, so a key cannot reveal another cart's order.
    public var isGuest: Bool

    public init(
        buyer: User, cart: Cart, provider: String, idempotencyKey: String?, feePercent: Double, isGuest: Bool = false
    ) {
        self.isGuest = isGuest
        self.buyer = buyer
        self.cart = cart
        self.provider = provider
        self.idempotencyKey = idempotencyKey
        self.feePercent = feePercent
    }

    /// Same lines, quantities, prices and provider → same digest: an unchanged cart checked out
    /// again finds its open order.
    var digest: String {
        let lines = cart.lines.map { "\($0.product.id)x\($0.quantity)@\($0.unitAmount)" }.sorted()
        let text = "\(provider)|" + lines.joined(separator: ",")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Orders, their money and their access grants. Every change is one transaction that also
/// records its cause (the provider event) and enqueues its consequences (jobs).
extension AppDatabase {
    // MARK: Checkout

    /// Turns the cart into an order, or finds the order this checkout already made (same
    /// Idempotency-Key, or the same unchanged cart still awaiting payment). Reserves limited stock
    /// and schedules the order's expiry in the same transaction. Throws `conflict` when a product
    /// is sold out or no longer on sale, `validationFailed` for an empty cart.
    public func placeOrder(_ draft: CheckoutDraft) async throws -> (order: Order, isNew: Bool) {
        let now = clock.now()
        let ids = self.ids
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            if let key = draft.idempotencyKey,
                let id = try String.fetchOne(
                    db,
                    sql: "SELECT id FROM orders WHERE buyer_id = ? AND idempotency_key = ? AND (NOT ? OR cart_id IS ?)",
                    arguments: [draft.buyer.id, key, draft.isGuest, draft.cart.id.isEmpty ? nil : draft.cart.id])
            {
                return (try Self.order(id: id, in: db)!, false)
            }
            let digest = draft.digest
            if let id = try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM orders
                    WHERE buyer_id = ? AND cart_id = ? AND cart_digest = ? AND status = 'created' AND expires_at > ?
                    ORDER BY created_at DESC LIMIT 1
                    """, arguments: [draft.buyer.id, draft.cart.id, digest, now])
            {
                return (try Self.order(id: id, in: db)!, false)
            }
            guard !draft.cart.lines.isEmpty else { throw SoukError.validation("cart", "Your cart is empty.") }
            if let line = draft.cart.lines.first(where: { !$0.isAvailable }) {
                throw SoukError(
                    .conflict, "\(line.product.title) cannot be bought as it is in your cart (sold out or no longer on sale).",
                    field: "cart")
            }

            // Prices were checked when added; products may have changed since. Re-read each one.
            var items: [(line: CartLine, product: Product)] = []
            for line in draft.cart.lines {
                guard let product = try Self.product(id: line.product.id, in: db), product.status == .published,
                    product.sellerListed
                else {
                    throw SoukError(.conflict, "\(line.product.title) is no longer on sale; remove it from your cart.", field: "cart")
                }
                items.append((line, product))
            }
            let orderID = ids.make(.order)
            let total = draft.cart.lines.reduce(0) { $0 + $1.lineAmount }
            try db.execute(
                sql: """
                    INSERT INTO orders (id, buyer_id, buyer_email, status, currency, total, provider, idempotency_key,
                                        cart_digest, cart_id, created_at, updated_at, expires_at)
                    VALUES (?, ?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    orderID, draft.buyer.id, draft.buyer.email, draft.cart.currency ?? "USD", total, draft.provider,
                    draft.idempotencyKey, digest, draft.cart.id.isEmpty ? nil : draft.cart.id, now, now, now.addingTimeInterval(CheckoutRules.orderLifetime),
                ])
            for (line, product) in items {
                // The price is snapshotted now: it must still be the product's price (or, for pay
                // what you want, at least its minimum).
                let priceHolds =
                    product.price.isPayWhatYouWant
                    ? line.unitAmount >= product.price.floor : line.unitAmount == product.price.amount
                guard priceHolds, product.price.currency == draft.cart.currency else {
                    throw SoukError(
                        .conflict, "The price of \(product.title) has just changed: check your cart and try again.",
                        field: "cart")
                }
                let held = try Self.holdStock(product.id, quantity: line.quantity, in: db)
                guard held != .soldOut else {
                    throw SoukError(
                        .conflict,
                        product.stock == 0
                            ? "\(product.title) is sold out." : "Only \(product.stock ?? 0) of \(product.title) left.",
                        field: "cart")
                }
                let split = MarketplaceFees.split(amount: line.lineAmount, feePercent: draft.feePercent)
                try db.execute(
                    sql: """
                        INSERT INTO order_items (id, order_id, product_id, seller_id, title, kind, quantity, unit_amount,
                                                 amount, fee_amount, seller_amount, stock_held)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        ids.make(.orderItem), orderID, product.id, product.sellerID, product.title, product.kind.rawValue,
                        line.quantity, line.unitAmount, line.lineAmount, split.fee, split.seller, held == .held,
                    ])
            }
            try queue.enqueue(
                kind: OrderJobKind.orderExpiry, payload: OrderJobPayload(orderID: orderID),
                dedupeKey: "\(OrderJobKind.orderExpiry):\(orderID)", runAt: now.addingTimeInterval(CheckoutRules.orderLifetime),
                in: db)
            return (try Self.order(id: orderID, in: db)!, true)
        }
    }

    /// Records the provider's session for an order (the first one wins) and returns the order.
    public func attachCheckoutSession(orderID: String, sessionID: String, redirectURL: String) async throws -> Order {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE orders SET provider_session_id = ?, redirect_url = ?, updated_at = ?
                    WHERE id = ? AND provider_session_id IS NULL
                    """, arguments: [sessionID, redirectURL, now, orderID])
            guard let order = try Self.order(id: orderID, in: db) else { throw SoukError.notFound("The order \(orderID)") }
            return order
        }
    }

    // MARK: Reading

    public func order(id: String) async throws -> Order? {
        try await writer.read { db in try Self.order(id: id, in: db) }
    }

    public func order(provider: String, sessionID: String) async throws -> Order? {
        try await writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT id FROM orders WHERE provider = ? AND provider_session_id = ?", arguments: [provider, sessionID]
            ).flatMap { try Self.order(id: $0, in: db) }
        }
    }

    /// Whose orders a list shows.
    public enum OrderScope: Sendable, Equatable {
        case buyer(String)
        /// Orders with at least one line of this seller's.
        case seller(String)
        case all
    }

    /// Newest first, `limit` per page; `before` is the last order id of the previous page.
    public func orders(_ scope: OrderScope, status: OrderStatus? = nil, limit: Int = 50, after cursor: String? = nil)
        async throws -> [Order]
    {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            switch scope {
            case .buyer(let id):
                conditions.append("o.buyer_id = ?")
                arguments.append(id)
            case .seller(let id):
                conditions.append("EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.seller_id = ?)")
                arguments.append(id)
            case .all:
                break
            }
            if let status {
                conditions.append("o.status = ?")
                arguments.append(status.rawValue)
            }
            if let cursor, let anchor = try Row.fetchOne(db, sql: "SELECT created_at, id FROM orders WHERE id = ?", arguments: [cursor]) {
                conditions.append("(o.created_at, o.id) < (?, ?)")
                arguments.append(anchor["created_at"] as Date)
                arguments.append(anchor["id"] as String)
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let ids = try String.fetchAll(
                db, sql: "SELECT o.id FROM orders o \(whereClause) ORDER BY o.created_at DESC, o.id DESC LIMIT ?",
                arguments: StatementArguments(arguments + [limit]))
            return try ids.compactMap { try Self.order(id: $0, in: db) }
        }
    }

    /// The grants of an order (revoked ones included).
    public func grants(orderID: String) async throws -> [AccessGrant] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM grants WHERE order_id = ? ORDER BY id", arguments: [orderID]).map(AccessGrant.init)
        }
    }

    public func refunds(orderID: String) async throws -> [RefundRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at", arguments: [orderID])
                .map(RefundRecord.init)
        }
    }

    // MARK: Provider events

    /// Records a verified provider event and applies its effect in one transaction. A (provider,
    /// event id) seen before changes nothing; a move the order's state forbids is recorded as
    /// ignored. On payment: grants per line, sales counted, bought lines leave the cart, and a
    /// `fulfil` job is queued; a late payment whose stock is gone queues an `auto_refund`.
    public func recordPaymentEvent(_ event: PaymentEvent) async throws -> PaymentEventOutcome {
        let now = clock.now()
        let ids = self.ids
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            let seen = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM payment_events WHERE provider = ? AND event_id = ?", arguments: [event.provider, event.id])
            if seen == true { return .duplicate }
            var outcome: PaymentEventOutcome
            var orderID = try event.order.flatMap { try Self.orderID(for: $0, provider: event.provider, in: db) }
            if orderID == nil, case .paid(let payment)? = event.effect, let claimed = payment.claimedOrderID {
                // Not paid through any checkout of this store's, but it names one of its orders:
                // found only to be reported and refunded as a mismatch, never to pay the order.
                orderID = try Self.orderID(for: .order(claimed), provider: event.provider, in: db)
            }
            if let id = orderID {
                if let effect = event.effect {
                    outcome = try Self.apply(effect, of: event, toOrder: id, now: now, ids: ids, queue: queue, in: db)
                } else {
                    outcome = .ignored(reason: "Souk does not act on \(event.type) events")
                }
            } else {
                outcome = .ignored(reason: event.effect == nil ? "Souk does not act on \(event.type) events" : "no order matches this event")
            }
            let (label, detail): (String, String?) =
                switch outcome {
                case .applied(_, let status): ("applied", status.rawValue)
                case .ignored(let reason): ("ignored", reason)
                case .refundQueued: ("refund_queued", nil)
                case .mismatched(_, _, let reason): ("mismatched", reason)
                case .duplicate: ("duplicate", nil)
                }
            try db.execute(
                sql: """
                    INSERT INTO payment_events (provider, event_id, type, order_id, outcome, detail, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [event.provider, event.id, event.type, orderID, label, detail, now])
            return outcome
        }
    }

    private static func orderID(for reference: OrderReference, provider: String, in db: Database) throws -> String? {
        switch reference {
        case .order(let id):
            try String.fetchOne(db, sql: "SELECT id FROM orders WHERE id = ? AND provider = ?", arguments: [id, provider])
        case .session(let id):
            try String.fetchOne(
                db, sql: "SELECT id FROM orders WHERE provider = ? AND provider_session_id = ?", arguments: [provider, id])
        case .payment(let id):
            try String.fetchOne(
                db, sql: "SELECT id FROM orders WHERE provider = ? AND provider_payment_id = ?", arguments: [provider, id])
        }
    }

    private static func apply(
        _ effect: PaymentEffect, of event: PaymentEvent, toOrder orderID: String, now: Date, ids: any IDGenerator,
        queue: JobQueue, in db: Database
    ) throws -> PaymentEventOutcome {
        guard let order = try order(id: orderID, in: db) else { return .ignored(reason: "no order matches this event") }
        func move(_ to: OrderStatus) throws -> PaymentEventOutcome? {
            guard OrderLifecycle.allows(order.status, to) else { return nil }
            try setStatus(orderID, to, now: now, in: db)
            return .applied(orderID: orderID, status: to)
        }
        let refused = PaymentEventOutcome.ignored(reason: "order \(orderID) is \(order.status.rawValue)")
        switch effect {
        case .pending:
            guard order.status == .created else { return refused }
            // Approved or under way but not paid: ask the provider (PayPal captures) from a job,
            // retried until it answers, rather than trust the buyer to come back.
            try queue.enqueue(kind: OrderJobKind.confirmPayment, payload: OrderJobPayload(orderID: orderID), in: db)
            return .applied(orderID: orderID, status: .created)

        case .paid(let payment):
            // Bound to its order by the provider's own checkout, amount and currency, or nothing
            // is granted: the payment is kept for the operator and given back.
            // A payment refused once (and being refunded) never pays anything later, whatever
            // another event says about it.
            let refusedBefore = try String.fetchOne(
                db, sql: "SELECT reason FROM payment_mismatches WHERE provider = ? AND payment_id = ?",
                arguments: [event.provider, payment.id])
            if let reason = refusedBefore ?? PaymentMatch.mismatch(payment, order: order) {
                let mismatchID = try recordMismatch(
                    payment, reason: reason, order: order, event: event, now: now, ids: ids, queue: queue, in: db)
                return .mismatched(orderID: orderID, mismatchID: mismatchID, reason: reason)
            }
            let paymentID = payment.id
            if order.status == .expired || order.status == .paymentFailed {
                // Paid after its stock went back on sale: take it again if it is still there.
                guard try holdStockAgain(orderID: orderID, in: db) else {
                    try db.execute(
                        sql: "UPDATE orders SET provider_payment_id = ?, paid_at = ?, updated_at = ? WHERE id = ?",
                        arguments: [paymentID, now, now, orderID])
                    try queue.enqueue(
                        kind: OrderJobKind.autoRefund, payload: OrderJobPayload(orderID: orderID),
                        dedupeKey: "\(OrderJobKind.autoRefund):\(orderID)", in: db)
                    return .refundQueued(orderID: orderID)
                }
            }
            guard OrderLifecycle.allows(order.status, .paid) else { return refused }
            try db.execute(
                sql: "UPDATE orders SET status = 'paid', provider_payment_id = ?, paid_at = ?, updated_at = ? WHERE id = ?",
                arguments: [paymentID, now, now, orderID])
            for item in order.items {
                try db.execute(
                    sql: """
                        INSERT INTO grants (id, order_id, order_item_id, user_id, product_id, created_at)
                        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_item_id) DO NOTHING
                        """, arguments: [ids.make(.grant), orderID, item.id, order.buyerID, item.productID, now])
                // Test sales are not sales: the public count (and "best-selling") ignores them.
                if !order.isTest {
                    try db.execute(
                        sql: "UPDATE products SET sales_count = sales_count + ? WHERE id = ?",
                        arguments: [item.quantity, item.productID])
                }
                try db.execute(
                    sql: "DELETE FROM cart_items WHERE product_id = ? AND cart_id = (SELECT cart_id FROM orders WHERE id = ?)",
                    arguments: [item.productID, orderID])
            }
            try queue.enqueue(
                kind: OrderJobKind.fulfil, payload: OrderJobPayload(orderID: orderID),
                dedupeKey: "\(OrderJobKind.fulfil):\(orderID)", in: db)
            return .applied(orderID: orderID, status: .paid)

        case .failed:
            guard let outcome = try move(.paymentFailed) else { return refused }
            try releaseStock(orderID: orderID, in: db)
            return outcome

        case .expired:
            guard let outcome = try move(.expired) else { return refused }
            try releaseStock(orderID: orderID, in: db)
            return outcome

        case .refunded(let totalRefunded, let refundID):
            let newTotal = min(totalRefunded, order.total)
            let known = try refundID.map {
                try Bool.fetchOne(db, sql: "SELECT 1 FROM refunds WHERE provider_refund_id = ?", arguments: [$0]) ?? false
            } ?? false
            guard newTotal > order.refundedAmount, !known else { return .ignored(reason: "refund already recorded") }
            let status: OrderStatus = newTotal == order.total ? .refunded : .partiallyRefunded
            guard OrderLifecycle.allows(order.status, status) else { return refused }
            try recordRefund(
                order, amount: newTotal - order.refundedAmount, reason: nil, providerRefundID: refundID,
                requestedBy: "provider", now: now, ids: ids, in: db)
            return .applied(orderID: orderID, status: status)

        case .disputeOpened:
            guard OrderLifecycle.allows(order.status, .disputed) else { return refused }
            try db.execute(
                sql: "UPDATE orders SET status = 'disputed', status_before_dispute = ?, updated_at = ? WHERE id = ?",
                arguments: [order.status.rawValue, now, orderID])
            return .applied(orderID: orderID, status: .disputed)

        case .disputeClosed(let won):
            guard order.status == .disputed else { return refused }
            if won {
                let previous = try String.fetchOne(
                    db, sql: "SELECT status_before_dispute FROM orders WHERE id = ?", arguments: [orderID]
                ).flatMap(OrderStatus.init(rawValue:)) ?? .paid
                try setStatus(orderID, previous, now: now, in: db)
                if previous == .paid {
                    // The dispute may have held up fulfilment: queue it again (it is idempotent, and
                    // this event is applied only once).
                    try queue.enqueue(kind: OrderJobKind.fulfil, payload: OrderJobPayload(orderID: orderID), in: db)
                }
                return .applied(orderID: orderID, status: previous)
            }
            try recordRefund(
                order, amount: order.total - order.refundedAmount, reason: "dispute lost", providerRefundID: nil,
                requestedBy: "dispute", now: now, ids: ids, in: db)
            return .applied(orderID: orderID, status: .refunded)
        }
    }

    // MARK: Refunds and expiry

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
            try db.execute(
                sql: "INSERT INTO refund_attempts (idempotency_key, order_id, amount, state, created_at) VALUES (?, ?, ?, 'pending', ?)",
                arguments: [fresh, orderID, amount, now])
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
            try Self.recordRefund(
                order, amount: amount, reason: reason, providerRefundID: providerRefundID, requestedBy: requestedBy, now: now,
                ids: ids, in: db)
            return try Self.order(id: orderID, in: db)!
        }
    }

    private static func recordRefund(
        _ order: Order, amount: Int, reason: String?, providerRefundID: String?, requestedBy: String, now: Date,
        ids: any IDGenerator, in db: Database
    ) throws {
        // An automatic refund of a late payment refunds an order that never became paid.
        let refundable = order.isUnfulfillableLatePayment ? order.total - order.refundedAmount : order.refundableAmount
        guard amount > 0, amount <= refundable else {
            throw SoukError(
                .conflict, "Order \(order.id) has \(refundable) (minor units) left to refund; \(amount) is too much.",
                field: "amount")
        }
        let refunded = order.refundedAmount + amount
        let status: OrderStatus = refunded == order.total ? .refunded : .partiallyRefunded
        try OrderLifecycle.check(orderID: order.id, from: order.status, to: status)
        let refundID = ids.make(.refund)
        try db.execute(
            sql: """
                INSERT INTO refunds (id, order_id, amount, reason, provider_refund_id, requested_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [refundID, order.id, amount, reason, providerRefundID, requestedBy, now])
        try notify(
            userID: order.buyerID, type: "refund", title: "Refund for order \(order.id)",
            body: "\(Currency.decimalString(amount, currency: order.currency)) \(order.currency) refunded"
                + (status == .refunded ? "; access to this order's products has ended." : "."),
            url: "/orders/\(order.id)", dedupeKey: "refund:\(refundID)", now: now, ids: ids, in: db)
        try db.execute(
            sql: "UPDATE orders SET status = ?, refunded_amount = ?, updated_at = ? WHERE id = ?",
            arguments: [status.rawValue, refunded, now, order.id])
        if status == .refunded {
            // A full refund takes back everything the order gave: downloads, pages and keys.
            try db.execute(
                sql: "UPDATE grants SET revoked_at = ? WHERE order_id = ? AND revoked_at IS NULL", arguments: [now, order.id])
            try db.execute(
                sql: "UPDATE license_keys SET status = 'revoked', updated_at = ? WHERE order_id = ? AND status != 'revoked'",
                arguments: [now, order.id])
        }
    }

    /// Expires an order still awaiting payment and puts its stock back on sale. Returns false
    /// when the order had moved on (paid, failed…): nothing changes then.
    @discardableResult
    public func expireOrder(id: String) async throws -> Bool {
        let now = clock.now()
        return try await writer.write { db in
            guard let order = try Self.order(id: id, in: db), order.status == .created else { return false }
            try Self.setStatus(id, .expired, now: now, in: db)
            try Self.releaseStock(orderID: id, in: db)
            return true
        }
    }

    /// Moves an order along the lifecycle (for fulfilment steps). Throws `conflict` when illegal.
    public func transitionOrder(id: String, to status: OrderStatus) async throws -> Order {
        let now = clock.now()
        return try await writer.write { db in
            guard let order = try Self.order(id: id, in: db) else { throw SoukError.notFound("The order \(id)") }
            try OrderLifecycle.check(orderID: id, from: order.status, to: status)
            try Self.setStatus(id, status, now: now, in: db)
            return try Self.order(id: id, in: db)!
        }
    }

    // MARK: Payouts

    /// What each seller is owed, per currency: their share of paid-up orders minus their part of
    /// refunds. An order's refunds are shared across its lines in proportion to their amounts, in
    /// whole minor units that add up exactly (largest remainder). Disputed orders are held back
    /// until the dispute closes. Test orders moved no money and are never counted.
    public func sellerBalances(sellerID: String? = nil) async throws -> [SellerBalance] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id AS order_id, i.seller_id, u.name, u.email, o.currency, o.status, o.total,
                           o.refunded_amount, i.amount, i.fee_amount, i.seller_amount
                    FROM order_items i JOIN orders o ON o.id = i.order_id JOIN users u ON u.id = i.seller_id
                    WHERE o.status IN ('paid', 'fulfilled', 'completed', 'partially_refunded', 'refunded', 'disputed')
                      AND NOT (o.provider = 'test' AND o.total > 0)
                      AND o.id IN (SELECT order_id FROM order_items WHERE ?1 IS NULL OR seller_id = ?1)
                    ORDER BY o.id, i.rowid
                    """, arguments: [sellerID])
            var balances: [String: SellerBalance] = [:]
            var keys: [String] = []
            for lines in Dictionary(grouping: rows, by: { $0["order_id"] as String }).values {
                let total: Int = lines[0]["total"]
                let refunded: Int = lines[0]["refunded_amount"]
                let lineRefunds = Self.share(refunded, by: lines.map { $0["amount"] as Int }, total: total)
                for (line, lineRefund) in zip(lines, lineRefunds) {
                    let seller: String = line["seller_id"]
                    if let sellerID, seller != sellerID { continue }
                    let key = "\(seller)|\(line["currency"] as String)"
                    if balances[key] == nil {
                        keys.append(key)
                        balances[key] = SellerBalance(
                            sellerID: seller, sellerName: line["name"], sellerEmail: line["email"], currency: line["currency"])
                    }
                    let amount: Int = line["amount"]
                    let sellerAmount: Int = line["seller_amount"]
                    // The fee is not given back on a refund's share of the line: the seller bears it
                    // in proportion, like the rest of the line.
                    let sellerRefund = amount == 0 ? 0 : Self.mulDiv(sellerAmount, lineRefund, amount, roundingHalfUp: true).quotient
                    balances[key]!.gross += amount
                    balances[key]!.fees += line["fee_amount"] as Int
                    balances[key]!.refunds += lineRefund
                    if line["status"] as String == OrderStatus.disputed.rawValue {
                        balances[key]!.onHold += sellerAmount - sellerRefund
                    } else {
                        balances[key]!.owed += sellerAmount - sellerRefund
                    }
                }
            }
            return keys.map { balances[$0]! }.sorted { ($0.sellerName, $0.sellerID, $0.currency) < ($1.sellerName, $1.sellerID, $1.currency) }
        }
    }

    /// `a × b / c` without overflowing in between (amounts times amounts pass 2^63 easily).
    static func mulDiv(_ a: Int, _ b: Int, _ c: Int, roundingHalfUp: Bool = false) -> (quotient: Int, remainder: Int) {
        let product = a.multipliedFullWidth(by: b)
        let (quotient, remainder) = c.dividingFullWidth((high: product.high, low: product.low))
        if roundingHalfUp && remainder * 2 >= c { return (quotient + 1, remainder - c) }
        return (quotient, remainder)
    }

    /// Splits `amount` across `parts` (summing to `total`) in proportion, in whole units that add
    /// up to exactly `amount`: floors first, then the largest remainders get one more.
    static func share(_ amount: Int, by parts: [Int], total: Int) -> [Int] {
        guard total > 0, amount > 0 else { return parts.map { _ in 0 } }
        var shares = parts.map { mulDiv($0, amount, total).quotient }
        let remainders = parts.enumerated().map { ($0.offset, mulDiv($0.element, amount, total).remainder) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        for (index, _) in remainders.prefix(amount - shares.reduce(0, +)) { shares[index] += 1 }
        return shares
    }

    // MARK: Helpers

    enum StockHold { case unlimited, held, soldOut }

    /// Takes `quantity` units of a limited product's stock, atomically with the caller's write.
    private static func holdStock(_ productID: String, quantity: Int, in db: Database) throws -> StockHold {
        guard try Int.fetchOne(db, sql: "SELECT stock FROM products WHERE id = ?", arguments: [productID]) != nil else {
            return .unlimited
        }
        try db.execute(
            sql: "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?", arguments: [quantity, productID, quantity])
        return db.changesCount == 1 ? .held : .soldOut
    }

    /// Puts the order's held stock back on sale.
    private static func releaseStock(orderID: String, in db: Database) throws {
        try db.execute(
            sql: """
                UPDATE products SET stock = stock + (
                    SELECT SUM(quantity) FROM order_items WHERE order_id = ? AND product_id = products.id AND stock_held)
                WHERE id IN (SELECT product_id FROM order_items WHERE order_id = ? AND stock_held) AND stock IS NOT NULL
                """, arguments: [orderID, orderID])
        try db.execute(sql: "UPDATE order_items SET stock_held = 0 WHERE order_id = ?", arguments: [orderID])
    }

    /// For a late payment: holds the stock of every limited line again, or none (returns false).
    private static func holdStockAgain(orderID: String, in db: Database) throws -> Bool {
        let lines = try Row.fetchAll(
            db,
            sql: """
                SELECT i.id, i.product_id, i.quantity, p.stock FROM order_items i JOIN products p ON p.id = i.product_id
                WHERE i.order_id = ? AND NOT i.stock_held AND p.stock IS NOT NULL
                """, arguments: [orderID])
        for line in lines where (line["stock"] as Int) < (line["quantity"] as Int) { return false }
        for line in lines {
            guard try holdStock(line["product_id"], quantity: line["quantity"], in: db) == .held else { return false }
            try db.execute(sql: "UPDATE order_items SET stock_held = 1 WHERE id = ?", arguments: [line["id"] as String])
        }
        return true
    }

    private static func setStatus(_ orderID: String, _ status: OrderStatus, now: Date, in db: Database) throws {
        try db.execute(
            sql: "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?", arguments: [status.rawValue, now, orderID])
    }

    static func order(id: String, in db: Database) throws -> Order? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE id = ?", arguments: [id]) else { return nil }
        let items = try Row.fetchAll(db, sql: "SELECT * FROM order_items WHERE order_id = ? ORDER BY rowid", arguments: [id])
            .map { item in
                OrderItem(
                    id: item["id"], productID: item["product_id"], sellerID: item["seller_id"], title: item["title"],
                    kind: ProductKind(rawValue: item["kind"]) ?? .download, quantity: item["quantity"],
                    unitAmount: item["unit_amount"], amount: item["amount"], feeAmount: item["fee_amount"],
                    sellerAmount: item["seller_amount"])
            }
        return Order(
            id: row["id"], buyerID: row["buyer_id"], buyerEmail: row["buyer_email"],
            status: OrderStatus(rawValue: row["status"]) ?? .created, currency: row["currency"], total: row["total"],
            refundedAmount: row["refunded_amount"], provider: row["provider"], providerSessionID: row["provider_session_id"],
            providerPaymentID: row["provider_payment_id"], redirectURL: row["redirect_url"], items: items,
            createdAt: row["created_at"], updatedAt: row["updated_at"], expiresAt: row["expires_at"], paidAt: row["paid_at"])
    }
}

/// Access to what one order line bought.
public struct AccessGrant: Sendable, Equatable {
    public var id: String
    public var orderID: String
    public var orderItemID: String
    public var userID: String
    public var productID: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var isActive: Bool { revokedAt == nil }

    init(row: Row) {
        id = row["id"]
        orderID = row["order_id"]
        orderItemID = row["order_item_id"]
        userID = row["user_id"]
        productID = row["product_id"]
        createdAt = row["created_at"]
        revokedAt = row["revoked_at"]
    }
}

public struct RefundRecord: Sendable, Equatable {
    public var id: String
    public var orderID: String
    public var amount: Int
    public var reason: String?
    public var providerRefundID: String?
    public var requestedBy: String
    public var createdAt: Date

    init(row: Row) {
        id = row["id"]
        orderID = row["order_id"]
        amount = row["amount"]
        reason = row["reason"]
        providerRefundID = row["provider_refund_id"]
        requestedBy = row["requested_by"]
        createdAt = row["created_at"]
    }
}

/// One seller's money in one currency.
public struct SellerBalance: Sendable, Equatable {
    public var sellerID: String
    public var sellerName: String
    public var sellerEmail: String
    public var currency: String
    /// Sum of the seller's line amounts in paid-up or refunded orders.
    public var gross = 0
    public var fees = 0
    /// The seller's lines' share of refunds.
    public var refunds = 0
    /// What the store owes the seller now.
    public var owed = 0
    /// The seller's share of disputed orders, held until the dispute closes.
    public var onHold = 0
}
