import Foundation

/// What a seller's webhook endpoint may subscribe to. The raw value is the event's `type` in the
/// payload (dotted, like the notification types).
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    case orderPaid = "order.paid"
    case orderRefunded = "order.refunded"
    case orderDisputed = "order.disputed"
    case licenseActivated = "license.activated"
    case licenseDeactivated = "license.deactivated"
    case reviewCreated = "review.created"
    case productUpdated = "product.updated"
    /// Sent on request only ("send test event"), to whatever the endpoint subscribed to.
    case test = "webhook.test"

    /// The events an endpoint may choose (the test event is never subscribed to).
    public static let subscribable: [WebhookEventType] = allCases.filter { $0 != .test }
}

/// A seller's webhook endpoint as the domain sees it.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var sellerID: String
    public var url: String
    public var description: String
    public var events: [WebhookEventType]
    public var enabled: Bool
    /// Why it was turned off by Souk (failing for too long); nil when enabled or turned off by hand.
    public var disabledReason: String?
    /// The current `whsec_…` secret. Stored as is: Souk must sign with it, so it cannot be hashed.
    public var secret: String
    /// The secret before the last rotation, still signing (beside the new one) until it expires.
    public var previousSecret: String?
    public var previousSecretExpiresAt: Date?
    /// The first failed attempt since the last success; nil while the endpoint answers.
    public var failingSince: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, sellerID: String, url: String, description: String, events: [WebhookEventType], enabled: Bool,
        disabledReason: String?, secret: String, previousSecret: String?, previousSecretExpiresAt: Date?,
        failingSince: Date?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.sellerID = sellerID
        self.url = url
        self.description = description
        self.events = events
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.failingSince = failingSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One stored event for one endpoint: its id is the `webhook-id` every attempt carries.
public struct WebhookMessage: Sendable, Equatable {
    public var id: String
    public var endpointID: String
    public var type: String
    /// The exact JSON body sent (and signed) on every attempt.
    public var payload: String
    public var createdAt: Date

    public init(id: String, endpointID: String, type: String, payload: String, createdAt: Date) {
        self.id = id
        self.endpointID = endpointID
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
    }
}

/// One attempt to deliver a message, as the delivery log shows it.
public struct WebhookDeliveryAttempt: Sendable, Equatable {
    public var id: String
    public var messageID: String
    public var endpointID: String
    public var eventType: String
    /// 1 for the first attempt; retries and resends count on.
    public var attempt: Int
    /// The HTTP status the endpoint answered; nil when no answer came (refused address, timeout…).
    public var statusCode: Int?
    public var durationMilliseconds: Int
    public var responseExcerpt: String
    public var error: String?
    public var succeeded: Bool
    public var createdAt: Date

    public init(
        id: String, messageID: String, endpointID: String, eventType: String, attempt: Int, statusCode: Int?,
        durationMilliseconds: Int, responseExcerpt: String, error: String?, succeeded: Bool, createdAt: Date
    ) {
        self.id = id
        self.messageID = messageID
        self.endpointID = endpointID
        self.eventType = eventType
        self.attempt = attempt
        self.statusCode = statusCode
        self.durationMilliseconds = durationMilliseconds
        self.responseExcerpt = responseExcerpt
        self.error = error
        self.succeeded = succeeded
        self.createdAt = createdAt
    }
}

/// What an attempt came to, before it is stored.
public struct WebhookAttemptResult: Sendable, Equatable {
    public var statusCode: Int?
    public var durationMilliseconds: Int
    public var responseExcerpt: String
    public var error: String?

    public init(statusCode: Int?, durationMilliseconds: Int, responseExcerpt: String, error: String?) {
        self.statusCode = statusCode
        self.durationMilliseconds = durationMilliseconds
        self.responseExcerpt = responseExcerpt
        self.error = error
    }

    /// Standard Webhooks: any 2xx is a delivery; everything else (3xx included: redirects are
    /// not followed) is a failure to retry.
    public var succeeded: Bool { error == nil && (statusCode.map { (200..<300).contains($0) } ?? false) }
}

/// An endpoint that is failing, or that Souk turned off for failing, as the admins' page lists it.
public struct FailingWebhookEndpoint: Sendable, Equatable {
    public var endpoint: WebhookEndpoint
    public var sellerEmail: String
    /// The newest attempt: its status code (nil when no answer came), error and time.
    public var lastStatusCode: Int?
    public var lastError: String?
    public var lastAttemptAt: Date?

    public init(
        endpoint: WebhookEndpoint, sellerEmail: String, lastStatusCode: Int?, lastError: String?, lastAttemptAt: Date?
    ) {
        self.endpoint = endpoint
        self.sellerEmail = sellerEmail
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.lastAttemptAt = lastAttemptAt
    }
}
