import GRDB

extension Migrations {
    static func registerAdminListIndexes(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v17-admin-list-indexes") { db in
            // The admin pages list accounts, sellers by status, reviews and orders newest first,
            // a page at a time. With these indexes a page reads its rows in order and stops,
            // instead of sorting a whole table (a store may have many users, reviews and orders).
            // `id` breaks ties in every such ORDER BY, so it is part of each index too.
            try db.create(index: "users_created", on: "users", columns: ["created_at", "id"])
            try db.create(index: "users_role_created", on: "users", columns: ["role", "created_at", "id"])
            try db.create(index: "users_role_status_created", on: "users", columns: ["role", "seller_status", "created_at", "id"])
            try db.create(index: "reviews_created", on: "reviews", columns: ["created_at", "id"])
            try db.create(index: "orders_created", on: "orders", columns: ["created_at", "id"])
        }
    }
}
