import Foundation
import GRDB
import SoukCore

/// A row of `orders`. Its status changes only through `AppDatabase.setStatus` (an UPDATE
/// guarded by the status read), never by saving a record.
struct OrderRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "orders"
    var id: String
    /// The store's order number (`Order.number`), given when the order is placed.
    var number: Int?
    var buyerID: String
    var buyerEmail: String
    /// An `OrderStatus` raw value.
    var status: String
    var currency: String
    var total: Int
    var refundedAmount: Int
    /// `stripe`, `paypal` or `test`.
    var provider: String
    var providerSessionID: String?
    var providerPaymentID: String?
    var redirectURL: String?
    /// The buyer's Idempotency-Key.
    var idempotencyKey: String?
    /// A digest of the cart and provider (`CheckoutDraft.digest`).
    var cartDigest: String
    /// The cart checked out.
    var cartID: String?
    /// The status a dispute interrupted (an `OrderStatus` raw value).
    var statusBeforeDispute: String?
    var createdAt: Date
    var updatedAt: Date
    var expiresAt: Date
    var paidAt: Date?
    /// When every delivery step ran.
    var fulfilledAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, number, status, currency, total, provider
        case buyerID = "buyer_id"
        case buyerEmail = "buyer_email"
        case refundedAmount = "refunded_amount"
        case providerSessionID = "provider_session_id"
        case providerPaymentID = "provider_payment_id"
        case redirectURL = "redirect_url"
        case idempotencyKey = "idempotency_key"
        case cartDigest = "cart_digest"
        case cartID = "cart_id"
        case statusBeforeDispute = "status_before_dispute"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
        case paidAt = "paid_at"
        case fulfilledAt = "fulfilled_at"
    }

    /// The order with its lines (in the order they were placed).
    func order(items: [OrderItemRecord]) -> Order {
        Order(
            id: id, buyerID: buyerID, buyerEmail: buyerEmail, status: OrderStatus(rawValue: status) ?? .created,
            currency: currency, total: total, refundedAmount: refundedAmount, provider: provider,
            providerSessionID: providerSessionID, providerPaymentID: providerPaymentID, redirectURL: redirectURL,
            items: items.map(\.item), createdAt: createdAt, updatedAt: updatedAt, expiresAt: expiresAt, paidAt: paidAt, number: number ?? 0)
    }
}

/// A row of `order_items`: one product bought, its price snapshotted at checkout.
struct OrderItemRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "order_items"
    var id: String
    var orderID: String
    var productID: String
    var sellerID: String
    var title: String
    /// A `ProductKind` raw value.
    var kind: String
    var quantity: Int
    var unitAmount: Int
    var amount: Int
    var feeAmount: Int
    var sellerAmount: Int
    /// True while this line holds units of the product's limited stock (stored as 0/1).
    var stockHeld: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, kind, quantity, amount
        case orderID = "order_id"
        case productID = "product_id"
        case sellerID = "seller_id"
        case unitAmount = "unit_amount"
        case feeAmount = "fee_amount"
        case sellerAmount = "seller_amount"
        case stockHeld = "stock_held"
    }

    enum Columns {
        static let orderID = Column(CodingKeys.orderID)
    }

    var item: OrderItem {
        OrderItem(
            id: id, productID: productID, sellerID: sellerID, title: title, kind: ProductKind(rawValue: kind) ?? .download,
            quantity: quantity, unitAmount: unitAmount, amount: amount, feeAmount: feeAmount, sellerAmount: sellerAmount)
    }
}
