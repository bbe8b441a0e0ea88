import Foundation
import GRDB
import SoukCore

/// A row of `grants`: access to what one order line bought. Revoked, never deleted.
struct GrantRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "grants"
    var id: String
    var orderID: String
    var orderItemID: String
    var userID: String
    var productID: String
    var createdAt: Date
    var revokedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case orderID = "order_id"
        case orderItemID = "order_item_id"
        case userID = "user_id"
        case productID = "product_id"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let orderID = Column(CodingKeys.orderID)
        static let userID = Column(CodingKeys.userID)
        static let productID = Column(CodingKeys.productID)
        static let createdAt = Column(CodingKeys.createdAt)
        static let revokedAt = Column(CodingKeys.revokedAt)
    }

    var grant: AccessGrant {
        AccessGrant(
            id: id, orderID: orderID, orderItemID: orderItemID, userID: userID, productID: productID, createdAt: createdAt,
            revokedAt: revokedAt)
    }
}
