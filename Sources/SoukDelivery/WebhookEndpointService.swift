import Foundation
import SoukCore
import SoukDatabase

/// An endpoint with its secret, the one time the seller sees it (creation, rotation).
public struct WebhookEndpointWithSecret: Sendable {
    public var endpoint: WebhookEndpoint
    public var secret: String
}

/// What a seller may change on an endpoint; nil leaves a field as it is.
public struct WebhookEndpointPatch: Sendable {
    public var url: String?
    public var events: [String]?
    public var enabled: Bool?
    public var description: String?

    public init(url: String? = nil, events: [String]? = nil, enabled: Bool? = nil, description: String? = nil) {
        self.url = url
        self.events = events
        self.enabled = enabled
        self.description = description
    }
}

/// The rules of seller webhook endpoints: who may see and change them (the seller in good
/// standing, `SellerAccess`; an admin may read and act on any; anyone else is told it does not
/// exist), valid URLs and events, secrets, test events, resends and the delivery log.
public struct WebhookEndpointService: Sendable {
    let database: AppDatabase
    let allowPrivate: Bool

    public init(database: AppDatabase, allowPrivate: Bool) {
        self.database = database
        self.allowPrivate = allowPrivate
    }

    /// Creates an enabled endpoint for `seller` (a verified seller or an admin). Throws
    /// `validationFailed` for a bad URL, events or description, `conflict` past the limit.
    public func create(url rawURL: String?, events rawEvents: [String]?, description: String?, by seller: User) async throws
        -> WebhookEndpointWithSecret
    {
        try SellerStanding.require(seller)
        let url = try validURL(rawURL)
        let events = try WebhookEndpointRules.events(rawEvents)
        let text = try WebhookEndpointRules.description(description)
        let now = database.clock.now()
        let secret = WebhookSecret.generate()
        let endpoint = WebhookEndpoint(
            id: database.ids.make(.webhookEndpoint), sellerID: seller.id, url: url, description: text, events: events,
            enabled: true, disabledReason: nil, secret: secret, previousSecret: nil, previousSecretExpiresAt: nil,
            failingSince: nil, createdAt: now, updatedAt: now)
        let stored = try await database.insertWebhookEndpoint(endpoint, limit: WebhookEndpointRules.maxEndpointsPerSeller)
        return WebhookEndpointWithSecret(endpoint: stored, secret: secret)
    }

    /// Every seller's endpoints that are failing or were turned off for failing (admins only).
    public func failing(for user: User, limit: Int, offset: Int) async throws -> [FailingWebhookEndpoint] {
        guard user.role == .admin else { throw SoukError(.forbidden, "Only admins see every seller's failing webhooks.") }
        return try await database.failingWebhookEndpoints(limit: limit, offset: offset)
    }

    /// The caller's endpoints (an admin's own, like any seller's).
    public func list(for user: User) async throws -> [WebhookEndpoint] {
        if user.role == .seller { try SellerStanding.require(user) }
        guard user.role != .buyer else { throw SoukError(.forbidden, "Only sellers have webhook endpoints.") }
        return try await database.webhookEndpoints(sellerID: user.id)
    }

    /// The endpoint if `user` manages it; `notFound` otherwise (IDs of others' endpoints leak nothing).
    public func endpoint(_ id: String, for user: User) async throws -> WebhookEndpoint {
        guard let endpoint = try await database.webhookEndpoint(id: id) else {
            if user.role == .seller { try SellerStanding.require(user) }
            throw SoukError.notFound("The webhook endpoint \(id)")
        }
        try SellerAccess.require(sellerID: endpoint.sellerID, user: user, notFound: "The webhook endpoint \(id)")
        return endpoint
    }

    public func update(_ id: String, _ patch: WebhookEndpointPatch, by user: User) async throws -> WebhookEndpoint {
        _ = try await endpoint(id, for: user)
        let url = try patch.url.map(validURL)
        let events = try patch.events.map(WebhookEndpointRules.events)
        let description = try patch.description.map { try WebhookEndpointRules.description($0) }
        return try await database.updateWebhookEndpoint(id: id) { endpoint, _ in
            if let url { endpoint.url = url }
            if let events { endpoint.events = events }
            if let description { endpoint.description = description }
            if let enabled = patch.enabled, enabled != endpoint.enabled {
                endpoint.enabled = enabled
                // Turned back on: a fresh start for the 3-day rule.
                endpoint.disabledReason = nil
                endpoint.failingSince = nil
            }
        }
    }

    public func delete(_ id: String, by user: User) async throws {
        _ = try await endpoint(id, for: user)
        try await database.deleteWebhookEndpoint(id: id)
    }

    /// A new secret; the old one keeps signing beside it for `WebhookSigningKeys.overlap`.
    public func rotateSecret(_ id: String, by user: User) async throws -> WebhookEndpointWithSecret {
        _ = try await endpoint(id, for: user)
        let secret = WebhookSecret.generate()
        let rotated = try await database.updateWebhookEndpoint(id: id) { endpoint, now in
            endpoint = WebhookSigningKeys.rotate(endpoint, to: secret, at: now)
        }
        return WebhookEndpointWithSecret(endpoint: rotated, secret: secret)
    }

    /// Queues a `webhook.test` message to the endpoint (an enabled one: a disabled endpoint is sent nothing).
    public func sendTest(_ id: String, by user: User) async throws -> WebhookMessage {
        let endpoint = try await endpoint(id, for: user)
        try requireEnabled(endpoint)
        return try await database.queueTestWebhook(endpointID: id)
    }

    /// Queues the message again, with the same `webhook-id` and body.
    public func resend(_ messageID: String, endpoint id: String, by user: User) async throws -> WebhookMessage {
        let endpoint = try await endpoint(id, for: user)
        try requireEnabled(endpoint)
        return try await database.resendWebhookMessage(id: messageID, endpointID: id)
    }

    /// The delivery log, newest first, `limit` attempts after the attempt `cursor`.
    public func deliveries(_ id: String, for user: User, after cursor: String?, limit: Int) async throws
        -> [WebhookDeliveryAttempt]
    {
        _ = try await endpoint(id, for: user)
        return try await database.webhookDeliveries(endpointID: id, after: cursor, limit: limit)
    }

    private func requireEnabled(_ endpoint: WebhookEndpoint) throws {
        guard endpoint.enabled else {
            throw SoukError(.conflict, "The webhook endpoint \(endpoint.id) is disabled; enable it first.")
        }
    }

    private func validURL(_ raw: String?) throws -> String {
        let text = raw ?? ""
        _ = try WebhookURLRules.target(text, allowPrivate: allowPrivate)
        return text
    }
}
