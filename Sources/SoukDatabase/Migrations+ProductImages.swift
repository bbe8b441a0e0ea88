import GRDB

extension Migrations {
    static func registerProductImages(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v20-product-images") { db in
            // A product's cover (position 0) and gallery. The WebP variants live in the blob
            // store by SHA-256; `variants` lists them as JSON: [{width, height, sha256, bytes}].
            try db.create(table: "product_images") { t in
                t.primaryKey("id", .text)
                t.column("product_id", .text).notNull().references("products", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("width", .integer).notNull()
                t.column("height", .integer).notNull()
                t.column("alt", .text).notNull()
                t.column("variants", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "product_images_by_product", on: "product_images", columns: ["product_id", "position"])
        }
    }
}
