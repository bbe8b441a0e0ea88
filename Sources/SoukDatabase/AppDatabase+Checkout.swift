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
        return Hex.encode(SHA256.hash(data: Data(text.utf8)))
    }
}

/// Checkout: placing orders (priced by `CheckoutDecision`) and the stock they hold.
extension AppDatabase {
    /// Turns the cart into an order, or finds the order this checkout already made (same
    /// Idempotency-Key, or the same unchanged cart still awaiting payment). Reserves limited stock
    /// and schedules the order's expiry in the same transaction. Throws `conflict` when a product
    /// is sold out or no longer on sale, `validationFailed` for an empty cart.
    public func placeOrder(_ draft: CheckoutDraft) async throws -> (order: Order, isNew: Bool) {
        let now = clock.now()
        let ids = self.ids
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            if let existing = try Self.placedOrder(draft, now: now, in: db) { return (existing, false) }
            var current: [String: Product] = [:]
            for line in draft.cart.lines { current[line.product.id] = try Self.product(id: line.product.id, includingDeleted: true, in: db) }
            let plan = try CheckoutDecision.plan(cart: draft.cart, current: current, feePercent: draft.feePercent, now: now)
            let orderID = ids.make(.order)
            // One writer at a time (WAL): the next number cannot be taken twice.
            let number = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(number), 1000) + 1 FROM orders") ?? 1001
            try OrderRecord(
                id: orderID, number: number, buyerID: draft.buyer.id, buyerEmail: draft.buyer.email, status: OrderStatus.created.rawValue,
                currency: plan.currency, total: plan.total, refundedAmount: 0, provider: draft.provider,
                providerSessionID: nil, providerPaymentID: nil, redirectURL: nil, idempotencyKey: draft.idempotencyKey,
                cartDigest: draft.digest, cartID: draft.cart.id.isEmpty ? nil : draft.cart.id, statusBeforeDispute: nil,
                createdAt: now, updatedAt: now, expiresAt: plan.expiresAt, paidAt: nil, fulfilledAt: nil
            ).insert(db)
            for item in plan.items {
                if item.holdsStock {
                    guard try Self.holdStock(item.product.id, quantity: item.quantity, in: db) else {
                        throw CheckoutDecision.soldOut(item.product)
                    }
                }
                try OrderItemRecord(
                    id: ids.make(.orderItem), orderID: orderID, productID: item.product.id, sellerID: item.product.sellerID,
                    title: item.product.title, kind: item.product.kind.rawValue, quantity: item.quantity,
                    unitAmount: item.unitAmount, amount: item.amount, feeAmount: item.feeAmount,
                    sellerAmount: item.sellerAmount, stockHeld: item.holdsStock
                ).insert(db)
            }
            try queue.enqueue(try CheckoutDecision.expiryJob(orderID: orderID, at: plan.expiresAt), in: db)
            return (try Self.order(id: orderID, in: db)!, true)
        }
    }

    /// The order this checkout made before: by Idempotency-Key, or the same unchanged cart's
    /// order still awaiting payment.
    private static func placedOrder(_ draft: CheckoutDraft, now: Date, in db: Database) throws -> Order? {
        if let key = draft.idempotencyKey,
            let id = try String.fetchOne(
                db, sql: "SELECT id FROM orders WHERE buyer_id = ? AND idempotency_key = ? AND (NOT ? OR cart_id IS ?)",
                arguments: [draft.buyer.id, key, draft.isGuest, draft.cart.id.isEmpty ? nil : draft.cart.id])
        {
            return try order(id: id, in: db)
        }
        let id = try String.fetchOne(
            db,
            sql: """
                SELECT id FROM orders
                WHERE buyer_id = ? AND cart_id = ? AND cart_digest = ? AND status = 'created' AND expires_at > ?
                ORDER BY created_at DESC LIMIT 1
                """, arguments: [draft.buyer.id, draft.cart.id, draft.digest, now])
        return try id.flatMap { try order(id: $0, in: db) }
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

    // MARK: Stock

    /// Takes `quantity` units of a limited product's stock, atomically with the caller's write.
    /// False when too few are left.
    static func holdStock(_ productID: String, quantity: Int, in db: Database) throws -> Bool {
        try db.execute(
            sql: "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?", arguments: [quantity, productID, quantity])
        return db.changesCount == 1
    }

    /// Puts the order's held stock back on sale.
    static func releaseStock(orderID: String, in db: Database) throws {
        try db.execute(
            sql: """
                UPDATE products SET stock = stock + (
                    SELECT SUM(quantity) FROM order_items WHERE order_id = ? AND product_id = products.id AND stock_held)
                WHERE id IN (SELECT product_id FROM order_items WHERE order_id = ? AND stock_held) AND stock IS NOT NULL
                """, arguments: [orderID, orderID])
        try db.execute(sql: "UPDATE order_items SET stock_held = 0 WHERE order_id = ?", arguments: [orderID])
    }

    /// The order's limited lines whose stock went back on sale, with what is left of it now.
    private static func releasedLimitedLines(orderID: String, in db: Database) throws -> [Row] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT i.id, i.product_id, i.quantity, p.stock FROM order_items i JOIN products p ON p.id = i.product_id
                WHERE i.order_id = ? AND NOT i.stock_held AND p.stock IS NOT NULL
                """, arguments: [orderID])
    }

    /// For a late payment: every limited line's stock can be held again (all lines of one product
    /// together).
    static func stockAvailableAgain(orderID: String, in db: Database) throws -> Bool {
        var wanted: [String: (quantity: Int, stock: Int)] = [:]
        for line in try releasedLimitedLines(orderID: orderID, in: db) {
            wanted[line["product_id"], default: (0, line["stock"])].quantity += line["quantity"] as Int
        }
        return wanted.values.allSatisfy { $0.quantity <= $0.stock }
    }

    /// Holds the stock of every released limited line again; throws `conflict` if any is gone
    /// (the caller checked `stockAvailableAgain` in the same transaction, so it is not).
    static func holdStockAgain(orderID: String, in db: Database) throws {
        for line in try releasedLimitedLines(orderID: orderID, in: db) {
            guard try holdStock(line["product_id"], quantity: line["quantity"], in: db) else {
                throw SoukError(.conflict, "The stock of order \(orderID) was sold while its late payment was recorded.")
            }
            try db.execute(sql: "UPDATE order_items SET stock_held = 1 WHERE id = ?", arguments: [line["id"] as String])
        }
    }
}
