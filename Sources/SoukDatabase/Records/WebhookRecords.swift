import Foundation
import GRDB
import SoukCore

/// A row of `webhook_endpoints`.
struct WebhookEndpointRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "webhook_endpoints"
    var id: String
    var sellerID: String
    var url: String
    var description: String
    /// JSON array of event type names.
    var events: String
    var enabled: Bool
    var disabledReason: String?
    var secret: String
    var previousSecret: String?
    var previousSecretExpiresAt: Date?
    var failingSince: Date?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, url, description, events, enabled, secret
        case sellerID = "seller_id"
        case disabledReason = "disabled_reason"
        case previousSecret = "previous_secret"
        case previousSecretExpiresAt = "previous_secret_expires_at"
        case failingSince = "failing_since"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let sellerID = Column(CodingKeys.sellerID)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    init(_ endpoint: WebhookEndpoint) {
        id = endpoint.id
        sellerID = endpoint.sellerID
        url = endpoint.url
        description = endpoint.description
        events = String(decoding: (try? JSONEncoder().encode(endpoint.events.map(\.rawValue))) ?? Data("[]".utf8), as: UTF8.self)
        enabled = endpoint.enabled
        disabledReason = endpoint.disabledReason
        secret = endpoint.secret
        previousSecret = endpoint.previousSecret
        previousSecretExpiresAt = endpoint.previousSecretExpiresAt
        failingSince = endpoint.failingSince
        createdAt = endpoint.createdAt
        updatedAt = endpoint.updatedAt
    }

    var endpoint: WebhookEndpoint {
        let names = (try? JSONDecoder().decode([String].self, from: Data(events.utf8))) ?? []
        return WebhookEndpoint(
            id: id, sellerID: sellerID, url: url, description: description,
            // A type a later version dropped is skipped, not fatal.
            events: names.compactMap(WebhookEventType.init(rawValue:)), enabled: enabled, disabledReason: disabledReason,
            secret: secret, previousSecret: previousSecret, previousSecretExpiresAt: previousSecretExpiresAt,
            failingSince: failingSince, createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// A row of `webhook_messages`.
struct WebhookMessageRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "webhook_messages"
    var id: String
    var endpointID: String
    var type: String
    var payload: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, type, payload
        case endpointID = "endpoint_id"
        case createdAt = "created_at"
    }

    var message: WebhookMessage {
        WebhookMessage(id: id, endpointID: endpointID, type: type, payload: payload, createdAt: createdAt)
    }
}

/// A row of `webhook_deliveries`: one attempt.
struct WebhookDeliveryRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "webhook_deliveries"
    var id: String
    var messageID: String
    var endpointID: String
    var attempt: Int
    var statusCode: Int?
    var durationMs: Int
    var responseExcerpt: String
    var error: String?
    var succeeded: Bool
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, attempt, error, succeeded
        case messageID = "message_id"
        case endpointID = "endpoint_id"
        case statusCode = "status_code"
        case durationMs = "duration_ms"
        case responseExcerpt = "response_excerpt"
        case createdAt = "created_at"
    }

    func attempt(eventType: String) -> WebhookDeliveryAttempt {
        WebhookDeliveryAttempt(
            id: id, messageID: messageID, endpointID: endpointID, eventType: eventType, attempt: attempt,
            statusCode: statusCode, durationMilliseconds: durationMs, responseExcerpt: responseExcerpt, error: error,
            succeeded: succeeded, createdAt: createdAt)
    }
}
