import Foundation
import GRDB

/// A row of `email_preferences`: one notification type a user no longer wants by e-mail.
struct EmailPreferenceRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "email_preferences"
    var userID: String
    var type: String
    var mutedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case userID = "user_id"
        case mutedAt = "muted_at"
    }
}
