import GRDB

extension Migrations {
    static func registerProductDeletion(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v18-product-deletion") { db in
            // DELETE /api/v1/products/{id}: archived and gone for good, but the row stays, since
            // orders, grants, licenses and reviews refer to it and buyers keep what they bought.
            try db.alter(table: "products") { t in t.add(column: "deleted_at", .datetime) }
        }
    }
}
