import Foundation
import GRDB
import SoukCore

/// A row of `refunds`: money given back on an order. (`RefundRow`, because the public value it
/// becomes is named `RefundRecord`.)
struct RefundRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "refunds"
    var id: String
    var orderID: String
    var amount: Int
    var reason: String?
    var providerRefundID: String?
    /// A user id, `provider` (made in the provider's dashboard) or `system`.
    var requestedBy: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, amount, reason
        case orderID = "order_id"
        case providerRefundID = "provider_refund_id"
        case requestedBy = "requested_by"
        case createdAt = "created_at"
    }

    enum Columns {
        static let orderID = Column(CodingKeys.orderID)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    var refund: RefundRecord {
        RefundRecord(
            id: id, orderID: orderID, amount: amount, reason: reason, providerRefundID: providerRefundID,
            requestedBy: requestedBy, createdAt: createdAt)
    }
}

/// A row of `refund_attempts`: one refund asked of a provider, with its idempotency key.
struct RefundAttemptRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "refund_attempts"
    var idempotencyKey: String
    var orderID: String
    var amount: Int
    /// `pending`, `refused` or `succeeded`.
    var state: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case amount, state
        case idempotencyKey = "idempotency_key"
        case orderID = "order_id"
        case createdAt = "created_at"
    }
}
