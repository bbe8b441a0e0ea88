import Foundation
import GRDB
import SoukCore

/// A row of `users`.
struct UserRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"
    var id: String
    var email: String
    var name: String
    var passwordHash: String
    var role: String
    var sellerStatus: String?
    var sellerStatusReason: String?
    var disabled: Bool
    var createdAt: Date
    var updatedAt: Date
    var timeZone: String?
    var slug: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, email, name, role, disabled, slug
        case timeZone = "time_zone"
        case passwordHash = "password_hash"
        case sellerStatus = "seller_status"
        case sellerStatusReason = "seller_status_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let email = Column(CodingKeys.email)
        static let role = Column(CodingKeys.role)
        static let sellerStatus = Column(CodingKeys.sellerStatus)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    var user: User {
        User(
            id: id, email: email, name: name, role: Role(rawValue: role) ?? .buyer,
            sellerStatus: sellerStatus.flatMap(SellerStatus.init(rawValue:)), disabled: disabled,
            createdAt: createdAt, sellerStatusReason: sellerStatusReason, timeZone: timeZone, slug: slug)
    }
}
