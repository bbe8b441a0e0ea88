import Foundation
import GRDB

/// A row of `email_changes`: an address a user asked to change to, confirmed from that inbox.
struct EmailChangeRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "email_changes"
    var id: String
    var userID: String
    var newEmail: String
    /// Set when the confirmation e-mail is written.
    var tokenHash: String?
    var createdAt: Date
    var expiresAt: Date
    var usedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case userID = "user_id"
        case newEmail = "new_email"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case usedAt = "used_at"
    }
}
