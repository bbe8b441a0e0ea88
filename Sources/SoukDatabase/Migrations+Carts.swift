import GRDB

extension Migrations {
    static func registerCarts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-carts") { db in
            // One cart per signed-in user, or per guest cookie (stored as the SHA-256 of its value).
            try db.create(table: "carts") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).unique().references("users", onDelete: .cascade)
                t.column("guest_token_hash", .text).unique()
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull().indexed()
                t.check(sql: "user_id IS NOT NULL OR guest_token_hash IS NOT NULL")
            }
            try db.create(table: "cart_items") { t in
                t.column("cart_id", .text).notNull().references("carts", onDelete: .cascade)
                t.column("product_id", .text).notNull().indexed().references("products", onDelete: .cascade)
                t.column("quantity", .integer).notNull().check(sql: "quantity BETWEEN 1 AND 100")
                // The unit price the buyer chose (pay what you want) or the price when added; the
                // order snapshots prices again at checkout.
                t.column("unit_amount", .integer).notNull().check(sql: "unit_amount >= 0")
                t.column("added_at", .datetime).notNull()
                t.primaryKey(["cart_id", "product_id"])
            }
        }
    }
}
