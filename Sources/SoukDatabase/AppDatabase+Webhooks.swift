import Foundation
import GRDB
import SoukCore

/// The job kind that delivers one webhook message (see `WebhookJobs` in SoukDelivery).
public enum WebhookJobKind {
    public static let deliver = "seller_webhook"
}

/// Payload of `seller_webhook` jobs.
public struct WebhookJobPayload: Codable, Sendable, Equatable {
    public var messageID: String
    public init(messageID: String) { self.messageID = messageID }
    enum CodingKeys: String, CodingKey { case messageID = "message_id" }
}

/// Seller webhooks: endpoints, the messages stored for them, and the log of delivery attempts.
///
/// Emission follows the outbox rule: `emitWebhook` runs inside the transaction of the fact it
/// reports, storing one message and queueing one delivery job per receiving endpoint, so a fact
/// rolled back sends nothing and a committed one always has its deliveries queued.
extension AppDatabase {
    // MARK: Emission (in the caller's transaction)

    /// Tells `sellerID`'s endpoints subscribed to `type` (`WebhookFanout`) of a fact.
    static func emitWebhook(
        _ type: WebhookEventType, sellerID: String, data: some Encodable, now: Date, ids: any IDGenerator, in db: Database
    ) throws {
        // Cached statements here: every paid order asks, in the payment's transaction, and most
        // sellers have no endpoint.
        let endpoints = try WebhookEndpointRecord.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM webhook_endpoints WHERE seller_id = ? ORDER BY created_at"),
            arguments: [sellerID]
        ).map(\.endpoint)
        let recipients = WebhookFanout.recipients(of: type, sellerID: sellerID, among: endpoints)
        guard !recipients.isEmpty else { return }
        let payload = try WebhookPayload.encode(type: type, at: now, data: data)
        for endpoint in recipients {
            try storeMessage(type: type.rawValue, payload: payload, endpointID: endpoint.id, now: now, ids: ids, in: db)
        }
    }

    /// An order event for each seller with lines in it, each told of their own lines.
    static func emitOrderWebhook(
        _ type: WebhookEventType, orderID: String, refund: RefundEntry? = nil, now: Date, ids: any IDGenerator,
        in db: Database
    ) throws {
        // The order is read again (it has just changed) only if one of its sellers has an endpoint.
        let anyEndpoint = try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM order_items i JOIN webhook_endpoints e ON e.seller_id = i.seller_id
                    WHERE i.order_id = ?)
                    """), arguments: [orderID]) ?? false
        guard anyEndpoint, let order = try Self.order(id: orderID, in: db) else { return }
        var sellers: [String] = []
        for item in order.items where !sellers.contains(item.sellerID) { sellers.append(item.sellerID) }
        for sellerID in sellers {
            let data = WebhookOrderData(
                order: order, sellerID: sellerID,
                refund: refund.map { ($0.id, $0.amount, $0.reason, $0.requestedBy) })
            try emitWebhook(type, sellerID: sellerID, data: data, now: now, ids: ids, in: db)
        }
    }

    /// A fact about a product (its license keys, its reviews, itself) for its seller.
    static func emitProductWebhook(
        _ type: WebhookEventType, productID: String, data: some Encodable, now: Date, ids: any IDGenerator, in db: Database
    ) throws {
        guard let sellerID = try String.fetchOne(db, sql: "SELECT seller_id FROM products WHERE id = ?", arguments: [productID])
        else { return }
        try emitWebhook(type, sellerID: sellerID, data: data, now: now, ids: ids, in: db)
    }

    @discardableResult
    private static func storeMessage(
        type: String, payload: String, endpointID: String, now: Date, ids: any IDGenerator, in db: Database
    ) throws -> WebhookMessage {
        let record = WebhookMessageRecord(
            id: ids.make(.message), endpointID: endpointID, type: type, payload: payload, createdAt: now)
        try record.insert(db)
        try JobQueue.enqueue(
            JobRequest(
                kind: WebhookJobKind.deliver, payload: WebhookJobPayload(messageID: record.id),
                dedupeKey: "webhook:\(record.id)", maxAttempts: WebhookRetry.maxAttempts),
            now: now, ids: ids, in: db)
        return record.message
    }

    // MARK: Endpoints

    public func insertWebhookEndpoint(_ endpoint: WebhookEndpoint, limit: Int) async throws -> WebhookEndpoint {
        try await writer.write { db in
            let count = try WebhookEndpointRecord.filter(WebhookEndpointRecord.Columns.sellerID == endpoint.sellerID).fetchCount(db)
            guard count < limit else {
                throw SoukError(.conflict, "You already have \(limit) webhook endpoints; delete one before adding another.")
            }
            try WebhookEndpointRecord(endpoint).insert(db)
            return endpoint
        }
    }

    /// The seller's endpoints, oldest first.
    public func webhookEndpoints(sellerID: String) async throws -> [WebhookEndpoint] {
        try await writer.read { db in
            try WebhookEndpointRecord.filter(WebhookEndpointRecord.Columns.sellerID == sellerID)
                .order(WebhookEndpointRecord.Columns.createdAt, WebhookEndpointRecord.Columns.id).fetchAll(db).map(\.endpoint)
        }
    }

    /// Endpoints failing now or turned off by Souk for failing, longest failing first, with their
    /// seller's e-mail and newest attempt (the admins' page). A page of `limit` from `offset`.
    public func failingWebhookEndpoints(limit: Int, offset: Int) async throws -> [FailingWebhookEndpoint] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.*, u.email AS seller_email,
                        d.status_code AS last_status_code, d.error AS last_error, d.created_at AS last_attempt_at
                    FROM webhook_endpoints e
                    JOIN users u ON u.id = e.seller_id
                    LEFT JOIN webhook_deliveries d ON d.id = (
                        SELECT id FROM webhook_deliveries WHERE endpoint_id = e.id ORDER BY created_at DESC, id DESC LIMIT 1)
                    WHERE e.failing_since IS NOT NULL OR e.disabled_reason IS NOT NULL
                    ORDER BY e.failing_since IS NULL, e.failing_since, e.updated_at DESC, e.id
                    LIMIT ? OFFSET ?
                    """, arguments: [max(0, limit), max(0, offset)])
            return try rows.map { row in
                FailingWebhookEndpoint(
                    endpoint: try WebhookEndpointRecord(row: row).endpoint, sellerEmail: row["seller_email"],
                    lastStatusCode: row["last_status_code"], lastError: row["last_error"], lastAttemptAt: row["last_attempt_at"])
            }
        }
    }

    public func webhookEndpoint(id: String) async throws -> WebhookEndpoint? {
        try await writer.read { db in try WebhookEndpointRecord.fetchOne(db, key: id)?.endpoint }
    }

    /// Loads an endpoint, applies `change` and saves it in one transaction. Throws `notFound`.
    public func updateWebhookEndpoint(id: String, _ change: @escaping @Sendable (inout WebhookEndpoint, Date) throws -> Void)
        async throws -> WebhookEndpoint
    {
        let now = clock.now()
        return try await writer.write { db in
            guard var endpoint = try WebhookEndpointRecord.fetchOne(db, key: id)?.endpoint else {
                throw SoukError.notFound("The webhook endpoint \(id)")
            }
            try change(&endpoint, now)
            endpoint.id = id
            endpoint.updatedAt = now
            try WebhookEndpointRecord(endpoint).update(db)
            return endpoint
        }
    }

    /// Deletes the endpoint with its messages and log; their queued jobs find nothing and end.
    public func deleteWebhookEndpoint(id: String) async throws {
        try await writer.write { db in
            _ = try WebhookEndpointRecord.deleteOne(db, key: id)
        }
    }

    // MARK: Messages

    /// Stores a `webhook.test` message for the endpoint and queues its delivery.
    public func queueTestWebhook(endpointID: String) async throws -> WebhookMessage {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            let payload = try WebhookPayload.encode(type: .test, at: now, data: WebhookTestData(endpointID: endpointID))
            return try Self.storeMessage(type: WebhookEventType.test.rawValue, payload: payload, endpointID: endpointID, now: now, ids: ids, in: db)
        }
    }

    /// Queues one more delivery of a stored message, with the same id and body. A delivery of it
    /// still waiting in the queue is run now instead of adding another. Throws `notFound` when the
    /// message is not the endpoint's.
    public func resendWebhookMessage(id: String, endpointID: String) async throws -> WebhookMessage {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            guard let message = try WebhookMessageRecord.fetchOne(db, key: id), message.endpointID == endpointID else {
                throw SoukError.notFound("The message \(id) of this endpoint")
            }
            try db.execute(
                sql: """
                    UPDATE jobs SET run_at = ?, updated_at = ? WHERE kind = ? AND state = 'queued'
                    AND json_extract(payload, '$.message_id') = ?
                    """, arguments: [now, now, WebhookJobKind.deliver, id])
            if db.changesCount == 0 {
                let running = try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM jobs WHERE kind = ? AND state = 'running' AND json_extract(payload, '$.message_id') = ?",
                    arguments: [WebhookJobKind.deliver, id]) ?? false
                guard !running else {
                    throw SoukError(.conflict, "The message \(id) is being delivered right now; look at its log in a moment.")
                }
                try JobQueue.enqueue(
                    JobRequest(
                        kind: WebhookJobKind.deliver, payload: WebhookJobPayload(messageID: id),
                        dedupeKey: "webhook_resend:\(id):\(ids.make(.job))", maxAttempts: WebhookRetry.maxAttempts),
                    now: now, ids: ids, in: db)
            }
            return message.message
        }
    }

    /// A message and its endpoint, for a delivery job; nil once either is gone.
    public func webhookMessage(id: String) async throws -> (WebhookMessage, WebhookEndpoint)? {
        try await writer.read { db in
            guard let message = try WebhookMessageRecord.fetchOne(db, key: id),
                let endpoint = try WebhookEndpointRecord.fetchOne(db, key: message.endpointID)
            else { return nil }
            return (message.message, endpoint.endpoint)
        }
    }

    // MARK: Attempts

    /// Stores an attempt (numbered after the message's earlier ones) and the endpoint's health
    /// after it (`WebhookHealth`); an endpoint failing for too long is disabled and its seller
    /// notified, in the same transaction. Returns the attempt and whether the endpoint was just
    /// disabled; nil when the message is gone (its endpoint deleted during the attempt).
    public func recordWebhookAttempt(messageID: String, result: WebhookAttemptResult) async throws
        -> (attempt: WebhookDeliveryAttempt, disabled: Bool)?
    {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            guard let message = try WebhookMessageRecord.fetchOne(db, key: messageID),
                var endpoint = try WebhookEndpointRecord.fetchOne(db, key: message.endpointID)?.endpoint
            else { return nil }
            let previous = try Int.fetchOne(
                db, sql: "SELECT MAX(attempt) FROM webhook_deliveries WHERE message_id = ?", arguments: [messageID]) ?? 0
            let record = WebhookDeliveryRecord(
                id: ids.make(.webhookDelivery), messageID: messageID, endpointID: endpoint.id, attempt: previous + 1,
                statusCode: result.statusCode, durationMs: result.durationMilliseconds,
                responseExcerpt: result.responseExcerpt, error: result.error, succeeded: result.succeeded, createdAt: now)
            try record.insert(db)
            let change = WebhookHealth.after(succeeded: result.succeeded, failingSince: endpoint.failingSince, now: now)
            var disabled = false
            if change.failingSince != endpoint.failingSince || (change.disable && endpoint.enabled) {
                endpoint.failingSince = change.failingSince
                if change.disable && endpoint.enabled, let since = change.failingSince {
                    endpoint.enabled = false
                    endpoint.disabledReason = WebhookHealth.disabledReason
                    disabled = true
                    try Self.notify(WebhookHealth.notice(for: endpoint, failingSince: since), now: now, ids: ids, in: db)
                }
                endpoint.updatedAt = now
                try WebhookEndpointRecord(endpoint).update(db)
            }
            return (record.attempt(eventType: message.type), disabled)
        }
    }

    /// The endpoint's attempts, newest first, after the attempt `cursor` (an attempt id).
    public func webhookDeliveries(endpointID: String, after cursor: String? = nil, limit: Int = 50) async throws
        -> [WebhookDeliveryAttempt]
    {
        try await writer.read { db in
            var sql = """
                SELECT d.*, m.type AS event_type FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
                WHERE d.endpoint_id = ?
                """
            var arguments: StatementArguments = [endpointID]
            if let cursor {
                guard let anchor = try WebhookDeliveryRecord.fetchOne(db, key: cursor), anchor.endpointID == endpointID else {
                    throw SoukError.validation("cursor", "cursor is not a position in this delivery log.")
                }
                sql += " AND (d.created_at, d.id) < (?, ?)"
                arguments += [anchor.createdAt, anchor.id]
            }
            sql += " ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
            arguments += [max(1, limit)]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                try WebhookDeliveryRecord(row: row).attempt(eventType: row["event_type"])
            }
        }
    }
}
