import GRDB

extension Migrations {
    static func registerOrders(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-orders") { db in
            try db.create(table: "orders") { t in
                t.primaryKey("id", .text)
                t.column("buyer_id", .text).notNull().indexed().references("users", onDelete: .restrict)
                t.column("buyer_email", .text).notNull()
                t.column("status", .text).notNull().check(
                    sql: """
                        status IN ('created', 'paid', 'fulfilled', 'completed', 'expired', 'payment_failed',
                                   'refunded', 'partially_refunded', 'disputed', 'canceled')
                        """)
                t.column("currency", .text).notNull()
                t.column("total", .integer).notNull().check(sql: "total >= 0")
                t.column("refunded_amount", .integer).notNull().defaults(to: 0)
                    .check(sql: "refunded_amount >= 0 AND refunded_amount <= total")
                t.column("provider", .text).notNull().check(sql: "provider IN ('stripe', 'paypal', 'test')")
                t.column("provider_session_id", .text)
                t.column("provider_payment_id", .text)
                t.column("redirect_url", .text)
                // The buyer's Idempotency-Key, and a digest of the cart and provider: the same key,
                // or the same unchanged cart, finds this order again instead of making another.
                t.column("idempotency_key", .text)
                t.column("cart_digest", .text).notNull()
                // The cart checked out (signed-in or guest): its bought lines leave it on payment.
                t.column("cart_id", .text)
                // The status a dispute interrupted, restored when the dispute is won.
                t.column("status_before_dispute", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("paid_at", .datetime)
                t.uniqueKey(["buyer_id", "idempotency_key"])
            }
            try db.create(index: "orders_provider_session", on: "orders", columns: ["provider", "provider_session_id"], unique: true)
            try db.create(index: "orders_provider_payment", on: "orders", columns: ["provider", "provider_payment_id"])
            try db.create(index: "orders_buyer_digest", on: "orders", columns: ["buyer_id", "cart_digest", "status"])

            try db.create(table: "order_items") { t in
                t.primaryKey("id", .text)
                t.column("order_id", .text).notNull().indexed().references("orders", onDelete: .cascade)
                t.column("product_id", .text).notNull().indexed().references("products", onDelete: .restrict)
                t.column("seller_id", .text).notNull().indexed().references("users", onDelete: .restrict)
                t.column("title", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("quantity", .integer).notNull().check(sql: "quantity >= 1")
                t.column("unit_amount", .integer).notNull().check(sql: "unit_amount >= 0")
                t.column("amount", .integer).notNull()
                t.column("fee_amount", .integer).notNull()
                t.column("seller_amount", .integer).notNull()
                // 1 while this line holds units of the product's limited stock.
                t.column("stock_held", .boolean).notNull().defaults(to: false)
                t.check(sql: "amount = unit_amount * quantity AND fee_amount + seller_amount = amount")
            }

            // Access to what a line bought: downloads, keys, private pages. Revoked, never deleted.
            try db.create(table: "grants") { t in
                t.primaryKey("id", .text)
                t.column("order_id", .text).notNull().indexed().references("orders", onDelete: .cascade)
                t.column("order_item_id", .text).notNull().unique().references("order_items", onDelete: .cascade)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("product_id", .text).notNull().indexed().references("products", onDelete: .restrict)
                t.column("created_at", .datetime).notNull()
                t.column("revoked_at", .datetime)
            }

            // Every provider event, recorded in the transaction of its effect: a duplicate cannot
            // be applied twice.
            try db.create(table: "payment_events") { t in
                t.column("provider", .text).notNull()
                t.column("event_id", .text).notNull()
                t.column("type", .text).notNull()
                t.column("order_id", .text).indexed()
                // What it did: `applied`, `ignored` (illegal for the order's state, or unknown type).
                t.column("outcome", .text).notNull()
                t.column("detail", .text)
                t.column("received_at", .datetime).notNull()
                t.primaryKey(["provider", "event_id"])
            }

            try db.create(table: "refunds") { t in
                t.primaryKey("id", .text)
                t.column("order_id", .text).notNull().indexed().references("orders", onDelete: .cascade)
                t.column("amount", .integer).notNull().check(sql: "amount > 0")
                t.column("reason", .text)
                t.column("provider_refund_id", .text)
                // Who asked: a user id, or `provider` (a refund made in the provider's dashboard),
                // or `system` (an automatic refund for a late payment without stock).
                t.column("requested_by", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }

            // The built-in test provider's hosted checkout sessions.
            try db.create(table: "test_checkout_sessions") { t in
                t.primaryKey("id", .text)
                t.column("order_id", .text).notNull().unique().references("orders", onDelete: .cascade)
                t.column("payment_id", .text).notNull().unique()
                t.column("amount", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("lines", .text).notNull()  // JSON [{title, quantity, unit_amount}]
                t.column("buyer_email", .text).notNull()
                t.column("success_url", .text).notNull()
                t.column("cancel_url", .text).notNull()
                // open → paid | pending (pay later) | declined | expired
                t.column("status", .text).notNull()
                t.column("refunded_amount", .integer).notNull().defaults(to: 0)
                t.column("created_at", .datetime).notNull()
            }
        }
    }
}
