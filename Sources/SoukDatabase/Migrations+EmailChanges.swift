import GRDB

extension Migrations {
    static func registerEmailChanges(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v21-email-changes") { db in
            // A new e-mail address waiting for its owner to confirm it from that inbox. The link's
            // token is made when the e-mail is written (only its SHA-256 is kept here).
            try db.create(table: "email_changes") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("new_email", .text).notNull()
                t.column("token_hash", .text).unique()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("used_at", .datetime)
            }
        }
        migrator.registerMigration("v22-seller-product-pages") { db in
            // The dashboard pages through a seller's products newest first: without this index
            // SQLite sorts all of a large seller's products for every page.
            try db.create(index: "products_by_seller_created", on: "products", columns: ["seller_id", "created_at"])
        }
    }
}
