import Foundation

/// A job a decision asks for, as a value: the storage layer enqueues it in the transaction of
/// the change it follows from (the outbox rule), so the job commits or rolls back with it.
public struct JobRequest: Sendable, Equatable {
    public var kind: String
    /// The payload as JSON (keys sorted, so equal payloads compare equal).
    public var payloadJSON: String
    /// With a key already present in the queue (in any state), nothing is added.
    public var dedupeKey: String?
    /// Nil: now.
    public var runAt: Date?
    /// Nil: the queue's default. A job whose retries must span longer (a webhook delivery) says so.
    public var maxAttempts: Int?

    public init(
        kind: String, payload: some Encodable, dedupeKey: String? = nil, runAt: Date? = nil, maxAttempts: Int? = nil
    ) throws {
        self.kind = kind
        self.payloadJSON = try Self.encode(payload)
        self.dedupeKey = dedupeKey
        self.runAt = runAt
        self.maxAttempts = maxAttempts
    }

    public static func encode(_ payload: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(payload), as: UTF8.self)
    }
}
