import Foundation
import GRDB
import SoukCore

/// A row of `test_checkout_sessions`: the built-in test provider's hosted checkout.
struct TestCheckoutSessionRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "test_checkout_sessions"
    var id: String
    var orderID: String
    var paymentID: String
    var amount: Int
    var currency: String
    /// JSON `[TestCheckoutSession.Line]`.
    var lines: String
    var buyerEmail: String
    var successURL: String
    var cancelURL: String
    /// A `TestCheckoutSession.Status` raw value.
    var status: String
    var refundedAmount: Int
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, amount, currency, lines, status
        case orderID = "order_id"
        case paymentID = "payment_id"
        case buyerEmail = "buyer_email"
        case successURL = "success_url"
        case cancelURL = "cancel_url"
        case refundedAmount = "refunded_amount"
        case createdAt = "created_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let orderID = Column(CodingKeys.orderID)
    }

    var session: TestCheckoutSession {
        let decoded = (try? JSONDecoder().decode([TestCheckoutSession.Line].self, from: Data(lines.utf8))) ?? []
        return TestCheckoutSession(
            id: id, orderID: orderID, paymentID: paymentID, amount: amount, currency: currency, lines: decoded,
            buyerEmail: buyerEmail, successURL: successURL, cancelURL: cancelURL,
            status: TestCheckoutSession.Status(rawValue: status) ?? .open, refundedAmount: refundedAmount,
            createdAt: createdAt)
    }
}
