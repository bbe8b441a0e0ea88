import Foundation
import GRDB
import SoukCore

/// A row of `license_keys`: one key per unit bought of a `license` product.
struct LicenseKeyRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "license_keys"
    var id: String
    var key: String
    var grantID: String
    var orderID: String
    var productID: String
    var userID: String
    /// Which unit of the line (0…quantity-1).
    var unit: Int
    /// A `LicenseKey.StoredStatus` raw value.
    var status: String
    /// Seats; nil (or 0, see `LicenseKey.init`): unlimited.
    var activationLimit: Int?
    var expiresAt: Date?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, key, unit, status
        case grantID = "grant_id"
        case orderID = "order_id"
        case productID = "product_id"
        case userID = "user_id"
        case activationLimit = "activation_limit"
        case expiresAt = "expires_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func licenseKey(activations: [LicenseActivationRecord]) -> LicenseKey {
        LicenseKey(
            id: id, key: key, grantID: grantID, orderID: orderID, productID: productID, userID: userID,
            storedStatus: LicenseKey.StoredStatus(rawValue: status) ?? .disabled, activationLimit: activationLimit,
            expiresAt: expiresAt, createdAt: createdAt, activations: activations.map(\.activation))
    }
}

/// A row of `license_activations`: one instance a key is activated on, until deactivated.
struct LicenseActivationRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "license_activations"
    var id: String
    var licenseID: String
    var instanceName: String
    var createdAt: Date
    var deactivatedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case licenseID = "license_id"
        case instanceName = "instance_name"
        case createdAt = "created_at"
        case deactivatedAt = "deactivated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let licenseID = Column(CodingKeys.licenseID)
        static let createdAt = Column(CodingKeys.createdAt)
        static let deactivatedAt = Column(CodingKeys.deactivatedAt)
    }

    var activation: LicenseActivation {
        LicenseActivation(id: id, instanceName: instanceName, createdAt: createdAt)
    }
}
