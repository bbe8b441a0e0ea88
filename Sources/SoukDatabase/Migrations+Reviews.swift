import GRDB

extension Migrations {
    static func registerReviews(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13-reviews") { db in
            // One review per buyer and product: writing again replaces it (same id). Visible (shown
            // and counted in products.rating_avg / rating_count) while neither hidden by a
            // moderator nor withdrawn (the order that allowed it was fully refunded or its dispute
            // lost). Withdrawn, not deleted: the buyer's words stay on record.
            try db.create(table: "reviews") { t in
                t.primaryKey("id", .text)
                t.column("product_id", .text).notNull().references("products", onDelete: .cascade)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("rating", .integer).notNull().check(sql: "rating BETWEEN 1 AND 5")
                t.column("title", .text)
                t.column("body", .text).notNull()
                t.column("body_html", .text).notNull()
                t.column("seller_reply", .text)
                t.column("seller_reply_at", .datetime)
                t.column("hidden_at", .datetime)
                t.column("withdrawn_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.uniqueKey(["product_id", "user_id"])
            }
            // The product page's list: newest first.
            try db.create(index: "reviews_product_created", on: "reviews", columns: ["product_id", "created_at"])
        }
    }
}
