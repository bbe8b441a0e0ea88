import Foundation
import GRDB
import SoukCore

/// A row of `users`.
public struct UserRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "users"
    public var id: String
    public var email: String
    public var name: String
    public var passwordHash: String
    public var role: String
    public var sellerStatus: String?
    public var disabled: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, name, role, disabled
        case passwordHash = "password_hash"
        case sellerStatus = "seller_status"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let email = Column(CodingKeys.email)
        public static let role = Column(CodingKeys.role)
        public static let sellerStatus = Column(CodingKeys.sellerStatus)
        public static let createdAt = Column(CodingKeys.createdAt)
    }

    public var user: User {
        User(
            id: id, email: email, name: name, role: Role(rawValue: role) ?? .buyer,
            sellerStatus: sellerStatus.flatMap(SellerStatus.init(rawValue:)), disabled: disabled,
            createdAt: createdAt)
    }
}
