import GRDB

extension Migrations {
    static func registerRefundAttempts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-refund-attempts") { db in
            // One row per refund Souk asks a provider for, holding its idempotency key: a retry
            // after a lost answer reuses the key (no second refund); a refusal frees the amount
            // for a fresh attempt with a new key.
            try db.create(table: "refund_attempts") { t in
                t.primaryKey("idempotency_key", .text)
                t.column("order_id", .text).notNull().indexed().references("orders", onDelete: .cascade)
                t.column("amount", .integer).notNull()
                t.column("state", .text).notNull().check(sql: "state IN ('pending', 'refused', 'succeeded')")
                t.column("created_at", .datetime).notNull()
            }
        }
    }
}
