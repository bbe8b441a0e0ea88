import GRDB

extension Migrations {
    static func registerPasswordResets(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v19-password-resets") { db in
            // "Forgot password": links that set a new password once, within an hour. Only the
            // token's SHA-256 is stored, as for sessions and sign-in links.
            try db.create(table: "password_resets") { t in
                t.primaryKey("token_hash", .text)
                t.column("user_id", .text).notNull().references("users", onDelete: .cascade).indexed()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("used_at", .datetime)
            }
        }
    }
}
