import Foundation
import GRDB

/// A row of `sessions`: one signed-in browser. Only the token's SHA-256 is stored.
struct SessionRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sessions"
    var id: String
    var userID: String
    var tokenHash: String
    var createdAt: Date
    var expiresAt: Date
    var ip: String?
    var userAgent: String?
    /// `password` or `link` (`SessionOrigin`): a link session is short-lived.
    var origin: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, ip, origin
        case userID = "user_id"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case userAgent = "user_agent"
    }
}
