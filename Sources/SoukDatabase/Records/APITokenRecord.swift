import Foundation
import GRDB
import SoukCore

/// A row of `api_tokens`: a personal access token. Only the token's SHA-256 is stored.
struct APITokenRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "api_tokens"
    var id: String
    var userID: String
    var name: String
    var tokenHash: String
    /// Space-separated `TokenScope` values.
    var scopes: String
    var createdAt: Date
    var lastUsedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, scopes
        case userID = "user_id"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }
}

extension APITokenRecord {
    var accessToken: AccessToken {
        AccessToken(
            id: id, userID: userID, name: name,
            scopes: scopes.split(separator: " ").compactMap { TokenScope(rawValue: String($0)) }, createdAt: createdAt,
            lastUsedAt: lastUsedAt)
    }
}
