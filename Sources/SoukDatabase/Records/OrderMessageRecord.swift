import Foundation
import GRDB
import SoukCore

/// A row of `order_messages`.
struct OrderMessageRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "order_messages"
    var id: String
    var orderID: String
    var authorID: String
    var authorRole: String
    var body: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, body
        case orderID = "order_id"
        case authorID = "author_id"
        case authorRole = "author_role"
        case createdAt = "created_at"
    }
}

/// A row of `admin_audit`: an admin read or did something on another user's behalf.
struct AdminAuditRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "admin_audit"
    var id: String
    var adminID: String
    var action: String
    var subjectID: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, action
        case adminID = "admin_id"
        case subjectID = "subject_id"
        case createdAt = "created_at"
    }
}
