import GRDB

/// The schema's history. Append-only: never edit a migration that has shipped, add a new one.
/// Migrations use raw column names, never app types, so old migrations keep compiling as types change.
enum Migrations {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-accounts") { db in
            try db.create(table: "users") { t in
                t.primaryKey("id", .text)
                t.column("email", .text).notNull().unique().collate(.nocase)
                t.column("name", .text).notNull()
                t.column("password_hash", .text).notNull()
                t.column("role", .text).notNull().check(sql: "role IN ('buyer', 'seller', 'admin')")
                t.column("seller_status", .text)
                    .check(sql: "seller_status IS NULL OR seller_status IN ('pending', 'verified', 'rejected', 'suspended')")
                t.column("disabled", .boolean).notNull().defaults(to: false)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "sessions") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                // SHA-256 of the cookie value: a stolen database yields no usable session.
                t.column("token_hash", .text).notNull().unique()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("ip", .text)
                t.column("user_agent", .text)
            }
            try db.create(table: "api_tokens") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("token_hash", .text).notNull().unique()
                t.column("scopes", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("last_used_at", .datetime)
            }
        }
        return migrator
    }()
}
