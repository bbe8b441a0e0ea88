import Foundation
import GRDB

/// A row of `payment_events`: one provider event, recorded in the transaction of its effect.
struct PaymentEventRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "payment_events"
    var provider: String
    var eventID: String
    var type: String
    var orderID: String?
    /// What it did: `applied`, `ignored`, `refund_queued`, `mismatched` or `duplicate`.
    var outcome: String
    var detail: String?
    var receivedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case provider, type, outcome, detail
        case eventID = "event_id"
        case orderID = "order_id"
        case receivedAt = "received_at"
    }
}
