import Foundation
import GRDB

/// A row of `carts`: one per signed-in user (`userID`) or guest cookie (`guestTokenHash`, the
/// SHA-256 of its value).
struct CartRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "carts"
    var id: String
    var userID: String?
    var guestTokenHash: String?
    var createdAt: Date
    var updatedAt: Date
    var expiresAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case userID = "user_id"
        case guestTokenHash = "guest_token_hash"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
    }
}

/// A row of `cart_items`: a product in a cart, with the unit price the buyer chose (pay what you
/// want) or the price when added.
struct CartItemRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "cart_items"
    var cartID: String
    var productID: String
    var quantity: Int
    var unitAmount: Int
    var addedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case quantity
        case cartID = "cart_id"
        case productID = "product_id"
        case unitAmount = "unit_amount"
        case addedAt = "added_at"
    }

    enum Columns {
        static let cartID = Column(CodingKeys.cartID)
        static let productID = Column(CodingKeys.productID)
        static let addedAt = Column(CodingKeys.addedAt)
    }
}
