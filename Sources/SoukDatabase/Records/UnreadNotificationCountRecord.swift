import GRDB

/// How many of a person's notifications are unread, kept by triggers
/// (`v33-unread-notification-counts`): what the bell shows.
struct UnreadNotificationCountRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "unread_notification_counts"
    var userID: String
    var count: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", count
    }
}
