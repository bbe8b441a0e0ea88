import Foundation
import GRDB
import SoukCore

/// A row of `notifications`: an in-app notice. A repeated `dedupeKey` adds nothing.
struct NotificationRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "notifications"
    /// Assigned by SQLite on insert (the stream's event id).
    var seq: Int64?
    var id: String
    var userID: String
    var type: String
    var title: String
    var body: String
    var url: String?
    var dedupeKey: String?
    var createdAt: Date
    var readAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seq, id, type, title, body, url
        case userID = "user_id"
        case dedupeKey = "dedupe_key"
        case createdAt = "created_at"
        case readAt = "read_at"
    }

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let id = Column(CodingKeys.id)
        static let userID = Column(CodingKeys.userID)
        static let createdAt = Column(CodingKeys.createdAt)
        static let readAt = Column(CodingKeys.readAt)
    }

    var notification: UserNotification {
        UserNotification(
            seq: seq ?? 0, id: id, userID: userID, type: type, title: title, body: body, url: url, createdAt: createdAt, readAt: readAt)
    }
}
