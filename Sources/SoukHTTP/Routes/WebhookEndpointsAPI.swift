import Foundation
import Hummingbird
import SoukCore
import SoukDelivery

/// Seller webhook endpoints over the API: `POST/GET /api/v1/webhook-endpoints`,
/// `GET/PATCH/DELETE /api/v1/webhook-endpoints/{id}`, `…/{id}/rotate-secret`, `…/{id}/test`,
/// `…/{id}/deliveries` and `…/{id}/messages/{msg_id}/resend`. The rules are
/// `WebhookEndpointService`'s; the secret appears only in the answers to create and rotate.
struct WebhookEndpointsAPI: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.post("api/v1/webhook-endpoints", use: create)
        router.get("api/v1/webhook-endpoints", use: list)
        router.get("api/v1/webhook-endpoints/:id", use: show)
        router.patch("api/v1/webhook-endpoints/:id", use: update)
        router.delete("api/v1/webhook-endpoints/:id", use: delete)
        router.post("api/v1/webhook-endpoints/:id/rotate-secret", use: rotate)
        router.post("api/v1/webhook-endpoints/:id/test", use: test)
        router.get("api/v1/webhook-endpoints/:id/deliveries", use: deliveries)
        router.post("api/v1/webhook-endpoints/:id/messages/:msg_id/resend", use: resend)
    }

    struct EndpointBody: Encodable, Sendable {
        var id: String
        var url: String
        var description: String
        var events: [String]
        var enabled: Bool
        @Nullable var disabledReason: String?
        /// Only when just created or rotated.
        var secret: String?
        var createdAt: String
        var updatedAt: String

        init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
            id = endpoint.id
            url = endpoint.url
            description = endpoint.description
            events = endpoint.events.map(\.rawValue)
            enabled = endpoint.enabled
            disabledReason = endpoint.disabledReason
            self.secret = secret
            createdAt = Timestamp.rfc3339(endpoint.createdAt)
            updatedAt = Timestamp.rfc3339(endpoint.updatedAt)
        }
    }

    struct DeliveryBody: Encodable, Sendable {
        var id: String
        var messageId: String
        var eventType: String
        var attempt: Int
        @Nullable var statusCode: Int?
        var durationMs: Int
        var responseExcerpt: String
        @Nullable var error: String?
        var succeeded: Bool
        var createdAt: String

        init(_ attempt: WebhookDeliveryAttempt) {
            id = attempt.id
            messageId = attempt.messageID
            eventType = attempt.eventType
            self.attempt = attempt.attempt
            statusCode = attempt.statusCode
            durationMs = attempt.durationMilliseconds
            responseExcerpt = attempt.responseExcerpt
            error = attempt.error
            succeeded = attempt.succeeded
            createdAt = Timestamp.rfc3339(attempt.createdAt)
        }
    }

    struct MessageBody: Encodable, Sendable {
        var messageId: String
        var type: String
        var status: String
    }

    struct SecretBody: Encodable, Sendable {
        var id: String
        var secret: String
        var previousSecretExpiresAt: String?
    }

    struct CreateBody: Decodable {
        var url: String?
        var events: [String]?
        var description: String?
    }

    struct PatchBody: Decodable {
        var url: String?
        var events: [String]?
        var enabled: Bool?
        var description: String?
    }

    @Sendable func create(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let seller = try context.require(.verifiedSeller)
        let input = try await request.decodeJSON(CreateBody.self, limit: services.maxBodyBytes)
        let created = try await services.webhooks.create(
            url: input.url, events: input.events, description: input.description, by: seller)
        context.logger.info(
            "webhook endpoint created", metadata: ["endpoint": "\(created.endpoint.id)", "seller": "\(seller.id)"])
        return try JSONResponse(
            status: .created, body: EndpointBody(created.endpoint, secret: created.secret),
            location: "/api/v1/webhook-endpoints/\(created.endpoint.id)")
            .response(from: request, context: context)
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let endpoints = try await services.webhooks.list(for: user)
        return try JSONResponse(body: ListBody(data: endpoints.map { EndpointBody($0) }, nextCursor: nil))
            .response(from: request, context: context)
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let endpoint = try await services.webhooks.endpoint(try context.parameters.require("id"), for: user)
        return try JSONResponse(body: EndpointBody(endpoint)).response(from: request, context: context)
    }

    @Sendable func update(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let id = try context.parameters.require("id")
        let input = try await request.decodeJSON(PatchBody.self, limit: services.maxBodyBytes)
        let endpoint = try await services.webhooks.update(
            id, WebhookEndpointPatch(url: input.url, events: input.events, enabled: input.enabled, description: input.description),
            by: user)
        return try JSONResponse(body: EndpointBody(endpoint)).response(from: request, context: context)
    }

    @Sendable func delete(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let id = try context.parameters.require("id")
        try await services.webhooks.delete(id, by: user)
        context.logger.info("webhook endpoint deleted", metadata: ["endpoint": "\(id)", "by": "\(user.id)"])
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let rotated = try await services.webhooks.rotateSecret(try context.parameters.require("id"), by: user)
        context.logger.info("webhook secret rotated", metadata: ["endpoint": "\(rotated.endpoint.id)", "by": "\(user.id)"])
        return try JSONResponse(
            body: SecretBody(
                id: rotated.endpoint.id, secret: rotated.secret,
                previousSecretExpiresAt: rotated.endpoint.previousSecretExpiresAt.map(Timestamp.rfc3339))
        ).response(from: request, context: context)
    }

    @Sendable func test(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let message = try await services.webhooks.sendTest(try context.parameters.require("id"), by: user)
        return try JSONResponse(status: .accepted, body: MessageBody(messageId: message.id, type: message.type, status: "queued"))
            .response(from: request, context: context)
    }

    @Sendable func resend(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let message = try await services.webhooks.resend(
            try context.parameters.require("msg_id"), endpoint: try context.parameters.require("id"), by: user)
        return try JSONResponse(status: .accepted, body: MessageBody(messageId: message.id, type: message.type, status: "queued"))
            .response(from: request, context: context)
    }

    @Sendable func deliveries(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let query = request.uri.queryParameters
        let limit = try query.get("limit").map { raw -> Int in
            guard let value = Int(raw), (1...100).contains(value) else {
                throw SoukError.validation("limit", "limit must be an integer from 1 to 100.")
            }
            return value
        } ?? 50
        // One more than asked: whether there is a next page.
        let attempts = try await services.webhooks.deliveries(
            try context.parameters.require("id"), for: user, after: query.get("cursor"), limit: limit + 1)
        let page = Array(attempts.prefix(limit))
        let next = attempts.count > limit ? page.last?.id : nil
        return try JSONResponse(body: ListBody(data: page.map(DeliveryBody.init), nextCursor: next))
            .response(from: request, context: context)
    }
}
