import Foundation
import GRDB

/// A row of `jobs`: one unit of background work and where it stands.
public struct JobRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "jobs"
    public var id: String
    public var kind: String
    /// JSON text.
    public var payload: String
    public var dedupeKey: String?
    /// A `JobState` raw value.
    public var state: String
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    enum CodingKeys: String, CodingKey {
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

    public enum Columns {
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
