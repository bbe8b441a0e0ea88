import GRDB

extension Migrations {
    static func registerWebhooks(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v16-webhooks") { db in
            // A seller's endpoint. The secret is kept as is: Souk signs with it, so it cannot be
            // hashed like a password (it is shown to the seller only at creation and rotation).
            try db.create(table: "webhook_endpoints") { t in
                t.primaryKey("id", .text)
                t.column("seller_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("url", .text).notNull()
                t.column("description", .text).notNull().defaults(to: "")
                t.column("events", .text).notNull()  // JSON array of event types
                t.column("enabled", .boolean).notNull().defaults(to: true)
                t.column("disabled_reason", .text)
                t.column("secret", .text).notNull()
                t.column("previous_secret", .text)
                t.column("previous_secret_expires_at", .datetime)
                t.column("failing_since", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            // One event for one endpoint, stored once: its id is the `webhook-id` of every attempt.
            try db.create(table: "webhook_messages") { t in
                t.primaryKey("id", .text)
                t.column("endpoint_id", .text).notNull().references("webhook_endpoints", onDelete: .cascade)
                t.column("type", .text).notNull()
                t.column("payload", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "webhook_messages_endpoint", on: "webhook_messages", columns: ["endpoint_id", "created_at"])
            // Every attempt, for the seller's delivery log.
            try db.create(table: "webhook_deliveries") { t in
                t.primaryKey("id", .text)
                t.column("message_id", .text).notNull().references("webhook_messages", onDelete: .cascade)
                t.column("endpoint_id", .text).notNull().references("webhook_endpoints", onDelete: .cascade)
                t.column("attempt", .integer).notNull().check(sql: "attempt >= 1")
                t.column("status_code", .integer)
                t.column("duration_ms", .integer).notNull()
                t.column("response_excerpt", .text).notNull().defaults(to: "")
                t.column("error", .text)
                t.column("succeeded", .boolean).notNull()
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["message_id", "attempt"])
            }
            try db.create(
                index: "webhook_deliveries_endpoint", on: "webhook_deliveries", columns: ["endpoint_id", "created_at", "id"])
        }
    }
}
