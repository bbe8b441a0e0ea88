import Foundation
import Logging
import SoukCore
import SoukDatabase

/// `seller_webhook` jobs: one delivery attempt of one stored message. The attempt is logged
/// whatever its outcome; a failure throws so the queue retries it (`WebhookRetry`: backoff up to
/// 10 hours, for longer than `WebhookHealth` takes to give up on the endpoint). Every attempt
/// carries the message's id as `webhook-id`, and a fresh timestamp and signature.
public struct WebhookJobs: Sendable {
    let database: AppDatabase
    let transport: any WebhookTransport
    let logger: Logger

    public init(database: AppDatabase, transport: any WebhookTransport, logger: Logger = Logger(label: "souk.webhooks")) {
        self.database = database
        self.transport = transport
        self.logger = logger
    }

    public func register(in registry: inout JobRegistry) {
        registry.register(WebhookJobKind.deliver) { job in
            try await deliver(job.decodePayload(WebhookJobPayload.self).messageID)
        }
    }

    /// A delivery that failed; the queue retries the job.
    public struct DeliveryFailed: Error, CustomStringConvertible {
        public var description: String
    }

    public func deliver(_ messageID: String) async throws {
        // Deleted with its endpoint: nothing left to send.
        guard let (message, endpoint) = try await database.webhookMessage(id: messageID) else { return }
        guard endpoint.enabled else {
            logger.info("webhook not sent: its endpoint is disabled", metadata: ["message": "\(messageID)", "endpoint": "\(endpoint.id)"])
            return
        }
        let now = database.clock.now()
        let headers = WebhookSigner.headers(
            messageID: message.id, timestamp: Int(now.timeIntervalSince1970), body: message.payload,
            secrets: WebhookSigningKeys.secrets(for: endpoint, at: now))
        let result = await transport.send(WebhookRequest(url: endpoint.url, headers: headers, body: message.payload))
        guard let (attempt, disabled) = try await database.recordWebhookAttempt(messageID: messageID, result: result) else { return }
        let metadata: Logger.Metadata = [
            "message": "\(messageID)", "endpoint": "\(endpoint.id)", "type": "\(message.type)",
            "attempt": "\(attempt.attempt)", "status": "\(attempt.statusCode.map(String.init) ?? "none")",
            "duration_ms": "\(attempt.durationMilliseconds)",
        ]
        if result.succeeded {
            logger.info("webhook delivered", metadata: metadata)
            return
        }
        if disabled {
            // Given up on: the seller was told; retrying a disabled endpoint sends nothing.
            logger.warning("webhook endpoint disabled after failing for 3 days", metadata: metadata)
            return
        }
        let reason = result.error ?? "the endpoint answered HTTP \(result.statusCode ?? 0)"
        logger.notice("webhook not delivered; the job will retry", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
        throw DeliveryFailed(description: "webhook \(messageID) attempt \(attempt.attempt): \(reason)")
    }
}
