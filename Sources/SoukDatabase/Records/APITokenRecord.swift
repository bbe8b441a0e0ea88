import Foundation
import GRDB

/// A row of `api_tokens`: a personal access token. Only the token's SHA-256 is stored.
public struct APITokenRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "api_tokens"
    public var id: String
    public var userID: String
    public var name: String
    public var tokenHash: String
    /// Space-separated `TokenScope` values.
    public var scopes: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name, scopes
        case userID = "user_id"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }
}
