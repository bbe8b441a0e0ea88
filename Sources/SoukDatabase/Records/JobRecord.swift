import Foundation
import GRDB

/// A row of `jobs`: one unit of background work and where it stands.
struct JobRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "jobs"
    var id: String
    var kind: String
    /// JSON text.
    var payload: String
    var dedupeKey: String?
    /// A `JobState` raw value.
    var state: String
    var attempts: Int
    var maxAttempts: Int
    var runAt: Date
    var leaseOwner: String?
    var leaseExpiresAt: Date?
    var lastError: String?
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, payload, state, attempts
        case dedupeKey = "dedupe_key"
        case maxAttempts = "max_attempts"
        case runAt = "run_at"
        case leaseOwner = "lease_owner"
        case leaseExpiresAt = "lease_expires_at"
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case finishedAt = "finished_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let kind = Column(CodingKeys.kind)
        static let dedupeKey = Column(CodingKeys.dedupeKey)
        static let state = Column(CodingKeys.state)
        static let runAt = Column(CodingKeys.runAt)
        static let leaseOwner = Column(CodingKeys.leaseOwner)
        static let leaseExpiresAt = Column(CodingKeys.leaseExpiresAt)
        static let createdAt = Column(CodingKeys.createdAt)
        static let updatedAt = Column(CodingKeys.updatedAt)
    }
}
