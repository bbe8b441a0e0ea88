import Foundation
import GRDB

/// A row of `password_resets`: a link that sets a new password once, within an hour ("forgot
/// password"). Only the token's SHA-256 is stored.
struct PasswordResetRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "password_resets"
    var tokenHash: String
    var userID: String
    var createdAt: Date
    var expiresAt: Date
    /// When it set a password, or was voided with the account's other credentials.
    var usedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case tokenHash = "token_hash"
        case userID = "user_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case usedAt = "used_at"
    }
}
