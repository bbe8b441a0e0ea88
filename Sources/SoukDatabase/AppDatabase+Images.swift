import Foundation
import GRDB
import SoukCore

/// Product images: the cover (position 0) and the gallery.
extension AppDatabase {
    /// At most this many images per product.
    public static let maximumImagesPerProduct = 12

    /// Adds an image whose variants are already in the blob store: as the cover (first, the
    /// others move down one) or at the end of the gallery. Throws `notFound` for a product that
    /// is missing or deleted, `conflict` past `maximumImagesPerProduct`.
    public func addImage(
        productID: String, width: Int, height: Int, alt: String, variants: [ProductImage.Variant], asCover: Bool
    ) async throws -> ProductImage {
        let now = clock.now()
        let id = ids.make(.image)
        return try await writer.write { db in
            guard try Self.product(id: productID, in: db) != nil else { throw SoukError.notFound("The product \(productID)") }
            let count = try ProductImageRecord.filter(Column("product_id") == productID).fetchCount(db)
            guard count < Self.maximumImagesPerProduct else {
                throw SoukError(
                    .conflict,
                    "The product \(productID) has \(count) images, the most it may have. Delete one to add another.")
            }
            if asCover {
                try db.execute(
                    sql: "UPDATE product_images SET position = position + 1 WHERE product_id = ?", arguments: [productID])
            }
            let image = ProductImage(
                id: id, productID: productID, position: asCover ? 0 : count, width: width, height: height, alt: alt,
                variants: variants, createdAt: now)
            try ProductImageRecord(image).insert(db)
            try Self.touchProduct(productID, now: now, in: db)
            return image
        }
    }

    /// A product's images, cover first.
    public func images(productID: String) async throws -> [ProductImage] {
        try await writer.read { db in
            try ProductImageRecord.filter(Column("product_id") == productID).order(Column("position")).fetchAll(db)
                .map(\.image)
        }
    }

    /// The covers of several products at once (a page of cards), by product id.
    public func covers(productIDs: [String]) async throws -> [String: ProductImage] {
        guard !productIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            let records = try ProductImageRecord
                .filter(productIDs.contains(Column("product_id")) && Column("position") == 0).fetchAll(db)
            return Dictionary(records.map { ($0.productID, $0.image) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Removes an image of a product; the ones after it move up (the next becomes the cover).
    /// Throws `notFound`. The variants stay in the blob store: another image may share them.
    public func deleteImage(id: String, productID: String) async throws {
        let now = clock.now()
        try await writer.write { db in
            guard try Self.product(id: productID, in: db) != nil,
                let record = try ProductImageRecord.fetchOne(db, key: id), record.productID == productID
            else { throw SoukError.notFound("The image \(id)") }
            try record.delete(db)
            try db.execute(
                sql: "UPDATE product_images SET position = position - 1 WHERE product_id = ? AND position > ?",
                arguments: [productID, record.position])
            try Self.touchProduct(productID, now: now, in: db)
        }
    }

    /// A product's pictures changed: its `updated_at` says so (caches and ETags follow it).
    private static func touchProduct(_ productID: String, now: Date, in db: Database) throws {
        try db.execute(sql: "UPDATE products SET updated_at = ? WHERE id = ?", arguments: [now, productID])
    }
}
