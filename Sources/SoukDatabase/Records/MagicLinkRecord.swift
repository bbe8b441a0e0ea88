import Foundation
import GRDB

/// A row of `magic_links`: a single-use sign-in link sent by e-mail. Only the token's SHA-256
/// is stored.
struct MagicLinkRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "magic_links"
    var tokenHash: String
    var userID: String
    /// Where to go once signed in.
    var redirect: String
    var createdAt: Date
    var expiresAt: Date
    var usedAt: Date?
    /// When it was voided before use (password reset, disabled account, "sign out everywhere").
    var revokedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case redirect
        case tokenHash = "token_hash"
        case userID = "user_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case usedAt = "used_at"
        case revokedAt = "revoked_at"
    }
}
