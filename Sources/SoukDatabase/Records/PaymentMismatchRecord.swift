import Foundation
import GRDB
import SoukCore

/// A row of `payment_mismatches`: a payment that did not match its order, until it is refunded.
struct PaymentMismatchRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "payment_mismatches"
    var id: String
    var provider: String
    var eventID: String
    var orderID: String
    var paymentID: String
    var checkoutID: String?
    var amount: Int?
    var currency: String?
    var claimedOrderID: String?
    var reason: String
    /// A `PaymentMismatch.RefundState` raw value.
    var refundState: String
    var refundID: String?
    var lastError: String?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, provider, amount, currency, reason
        case eventID = "event_id"
        case orderID = "order_id"
        case paymentID = "payment_id"
        case checkoutID = "checkout_id"
        case claimedOrderID = "claimed_order_id"
        case refundState = "refund_state"
        case refundID = "refund_id"
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let orderID = Column(CodingKeys.orderID)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    var mismatch: PaymentMismatch {
        PaymentMismatch(
            id: id, provider: provider, eventID: eventID, orderID: orderID,
            payment: Payment(
                id: paymentID, checkoutID: checkoutID, amount: amount, currency: currency, claimedOrderID: claimedOrderID),
            reason: reason, refundState: PaymentMismatch.RefundState(rawValue: refundState) ?? .queued, refundID: refundID,
            lastError: lastError, createdAt: createdAt)
    }
}
