import Foundation
import GRDB
import SoukCore

/// A row of `product_images`: a product's cover (position 0) or a gallery picture.
struct ProductImageRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "product_images"
    var id: String
    var productID: String
    var position: Int
    var width: Int
    var height: Int
    var alt: String
    /// JSON: `[ProductImage.Variant]`, narrowest first.
    var variants: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, position, width, height, alt, variants
        case productID = "product_id"
        case createdAt = "created_at"
    }

    init(_ image: ProductImage) throws {
        id = image.id
        productID = image.productID
        position = image.position
        width = image.width
        height = image.height
        alt = image.alt
        variants = String(decoding: try JSONEncoder().encode(image.variants), as: UTF8.self)
        createdAt = image.createdAt
    }

    var image: ProductImage {
        ProductImage(
            id: id, productID: productID, position: position, width: width, height: height, alt: alt,
            variants: (try? JSONDecoder().decode([ProductImage.Variant].self, from: Data(variants.utf8))) ?? [],
            createdAt: createdAt)
    }
}
