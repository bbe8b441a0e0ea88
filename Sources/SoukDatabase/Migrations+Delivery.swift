import GRDB

extension Migrations {
    static func registerDelivery(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-delivery") { db in
            // One key per unit bought of a `license` product, issued by the fulfil job.
            try db.create(table: "license_keys") { t in
                t.primaryKey("id", .text)
                t.column("key", .text).notNull().unique()
                t.column("grant_id", .text).notNull().indexed().references("grants", onDelete: .cascade)
                t.column("order_id", .text).notNull().indexed().references("orders", onDelete: .cascade)
                t.column("product_id", .text).notNull().indexed().references("products", onDelete: .restrict)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                // Which unit of the line (0…quantity-1): issuing twice cannot make a second key.
                t.column("unit", .integer).notNull()
                // `active`, `disabled` (by the seller) or `revoked` (refund, lost dispute). Expiry
                // and "inactive" (no activations yet) are derived when read.
                t.column("status", .text).notNull().check(sql: "status IN ('active', 'disabled', 'revoked')")
                t.column("activation_limit", .integer)  // NULL: unlimited
                t.column("expires_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.uniqueKey(["grant_id", "unit"])
            }
            try db.create(table: "license_activations") { t in
                t.primaryKey("id", .text)
                t.column("license_id", .text).notNull().indexed().references("license_keys", onDelete: .cascade)
                t.column("instance_name", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("deactivated_at", .datetime)
            }
            // Every counted download (a whole file, or a resume from its first byte), for limits
            // and the seller's log.
            try db.create(table: "downloads") { t in
                t.primaryKey("id", .text)
                t.column("grant_id", .text).notNull().references("grants", onDelete: .cascade)
                t.column("file_id", .text).notNull().indexed().references("product_files", onDelete: .cascade)
                t.column("user_id", .text).notNull()
                t.column("ip", .text)
                t.column("user_agent", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "downloads_grant_file", on: "downloads", columns: ["grant_id", "file_id"])
            // Single-use sign-in links sent by e-mail (receipts, file update notices).
            try db.create(table: "magic_links") { t in
                t.primaryKey("token_hash", .text)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("redirect", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("used_at", .datetime)
            }
            try db.create(table: "notifications") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull().references("users", onDelete: .cascade)
                t.column("type", .text).notNull()
                t.column("title", .text).notNull()
                t.column("body", .text).notNull()
                t.column("url", .text)
                t.column("dedupe_key", .text).unique()
                t.column("created_at", .datetime).notNull()
                t.column("read_at", .datetime)
            }
            try db.create(index: "notifications_user", on: "notifications", columns: ["user_id", "created_at"])
            // When every delivery step of an order ran (whatever refunds did to its status since).
            try db.alter(table: "orders") { t in t.add(column: "fulfilled_at", .datetime) }
        }
    }
}

extension Migrations {
    /// A product's keys newest first, a page at a time (`AppDatabase.licenseKeysPage`): the
    /// index on the product alone made each page sort every key of a product sold thousands of times.
    static func registerLicenseKeyPaging(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v34-license-key-paging") { db in
            try db.execute(
                sql: """
                    CREATE INDEX license_keys_product_created ON license_keys (product_id, created_at, id);
                    DROP INDEX license_keys_on_product_id;
                    """)
        }
    }
}

extension Migrations {
    /// A buyer's purchases newest first, a page of the library at a time: the library's order
    /// (newest, then by id) read along an index instead of sorting every grant of the buyer.
    static func registerLibraryPaging(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v35-library-paging") { db in
            try db.execute(
                sql: """
                    CREATE INDEX grants_user_created ON grants (user_id, created_at DESC, id);
                    DROP INDEX grants_on_user_id;
                    """)
        }
    }
}
