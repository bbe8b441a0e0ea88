import GRDB

extension Migrations {
    static func registerMessages(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v15-messages") { db in
            // What an order's buyer and sellers said about it, oldest first.
            try db.create(table: "order_messages") { t in
                t.primaryKey("id", .text)
                t.column("order_id", .text).notNull().references("orders", onDelete: .cascade)
                t.column("author_id", .text).notNull().references("users", onDelete: .cascade)
                t.column("author_role", .text).notNull().check(sql: "author_role IN ('buyer', 'seller', 'admin')")
                t.column("body", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "order_messages_order", on: "order_messages", columns: ["order_id", "created_at"])
            // What admins looked at that is not theirs (an order's messages in a dispute): who,
            // what, when. Append-only.
            try db.create(table: "admin_audit") { t in
                t.primaryKey("id", .text)
                t.column("admin_id", .text).notNull().indexed().references("users", onDelete: .restrict)
                t.column("action", .text).notNull()
                t.column("subject_id", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
        }
    }
}
