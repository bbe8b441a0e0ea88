import GRDB

extension Migrations {
    static func registerPaymentMismatches(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10-payment-mismatches") { db in
            // A signed payment event that did not match its order (another checkout, amount or
            // currency): nothing was granted; the payment is kept here for the operator and given
            // back by a `mismatch_refund` job.
            try db.create(table: "payment_mismatches") { t in
                t.primaryKey("id", .text)
                t.column("provider", .text).notNull()
                t.column("event_id", .text).notNull()
                t.column("order_id", .text).notNull().indexed().references("orders", onDelete: .cascade)
                t.column("payment_id", .text).notNull()
                t.column("checkout_id", .text)
                t.column("amount", .integer)
                t.column("currency", .text)
                t.column("claimed_order_id", .text)
                t.column("reason", .text).notNull()
                t.column("refund_state", .text).notNull().check(sql: "refund_state IN ('queued', 'refunded', 'failed')")
                t.column("refund_id", .text)
                t.column("last_error", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                // One record per payment: the same payment reported again (another event, the
                // success page) is the same mismatch.
                t.uniqueKey(["provider", "payment_id"])
            }
        }
    }
}
