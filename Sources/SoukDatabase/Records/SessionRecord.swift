import Foundation
import GRDB

/// A row of `sessions`: one signed-in browser. Only the token's SHA-256 is stored.
public struct SessionRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sessions"
    public var id: String
    public var userID: String
    public var tokenHash: String
    public var createdAt: Date
    public var expiresAt: Date
    public var ip: String?
    public var userAgent: String?
    /// `password` or `link` (`SessionOrigin`): a link session is short-lived.
    public var origin: String

    enum CodingKeys: String, CodingKey {
        case id, ip, origin
        case userID = "user_id"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case userAgent = "user_agent"
    }
}
