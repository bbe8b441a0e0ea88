import Foundation
import GRDB
import SoukCore

/// A row of `products`.
struct ProductRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "products"
    var id: String
    var sellerID: String
    var title: String
    var slug: String
    var summary: String
    var description: String
    var descriptionHTML: String
    var category: String
    var tags: String
    var kind: String
    var price: Int
    var currency: String
    var minPrice: Int?
    var stock: Int?
    var status: String
    var attributes: String
    var downloadLimit: Int?
    var activationLimit: Int?
    var ratingAvg: Double
    var ratingCount: Int
    var salesCount: Int
    var createdAt: Date
    var updatedAt: Date
    var publishedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, slug, summary, description, category, tags, kind, price, currency, stock, status, attributes
        case sellerID = "seller_id"
        case descriptionHTML = "description_html"
        case minPrice = "min_price"
        case downloadLimit = "download_limit"
        case activationLimit = "activation_limit"
        case ratingAvg = "rating_avg"
        case ratingCount = "rating_count"
        case salesCount = "sales_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case publishedAt = "published_at"
    }

    /// Columns of `products` the record never writes: `search_id`, the stable key of the search
    /// indexes, is assigned by the `products_assign_search_id` trigger (saving a record that
    /// carried it would overwrite it; search reads it by name); `deleted_at` is set once, by
    /// `AppDatabase.updateProduct(deleting:)`, and read by name, so no save can undo a deletion.
    static let databaseManagedColumns: Set<String> = ["search_id", "deleted_at"]

    /// The columns `init(row:)` reads, in order; select them first (then anything else).
    static let selectColumns = """
        p.id, p.seller_id, p.title, p.slug, p.summary, p.description, p.description_html, p.category, p.tags, \
        p.kind, p.price, p.currency, p.min_price, p.stock, p.status, p.attributes, p.download_limit, \
        p.activation_limit, p.rating_avg, p.rating_count, p.sales_count, p.created_at, p.updated_at, p.published_at
        """
    static let columnCount = 24

    /// Reads a row selected with `selectColumns`, by position: this runs for every search hit,
    /// and lookups by name (case-insensitive) or Codable cost several times more.
    init(row: Row) {
        id = row[0]
        sellerID = row[1]
        title = row[2]
        slug = row[3]
        summary = row[4]
        description = row[5]
        descriptionHTML = row[6]
        category = row[7]
        tags = row[8]
        kind = row[9]
        price = row[10]
        currency = row[11]
        minPrice = row[12]
        stock = row[13]
        status = row[14]
        attributes = row[15]
        downloadLimit = row[16]
        activationLimit = row[17]
        ratingAvg = row[18]
        ratingCount = row[19]
        salesCount = row[20]
        createdAt = row[21]
        updatedAt = row[22]
        publishedAt = row[23]
    }

    init(_ product: Product) {
        id = product.id
        sellerID = product.sellerID
        title = product.title
        slug = product.slug
        summary = product.summary
        description = product.description
        descriptionHTML = product.descriptionHTML
        category = product.category
        tags = Self.encodeTags(product.tags)
        kind = product.kind.rawValue
        price = product.price.amount
        currency = product.price.currency
        minPrice = product.price.minimum
        stock = product.stock
        status = product.status.rawValue
        attributes = product.attributesJSON
        downloadLimit = product.downloadLimit
        activationLimit = product.activationLimit
        ratingAvg = product.ratingAverage
        ratingCount = product.ratingCount
        salesCount = product.salesCount
        createdAt = product.createdAt
        updatedAt = product.updatedAt
        publishedAt = product.publishedAt
    }

    func product(sellerName: String) -> Product {
        Product(
            id: id, sellerID: sellerID, sellerName: sellerName, title: title, slug: slug, summary: summary,
            description: description, descriptionHTML: descriptionHTML, category: category,
            tags: Self.decodeTags(tags), kind: ProductKind(rawValue: kind) ?? .download,
            price: Price(amount: price, currency: currency, minimum: minPrice), stock: stock,
            status: ProductStatus(rawValue: status) ?? .draft, attributesJSON: attributes, downloadLimit: downloadLimit,
            activationLimit: activationLimit, ratingAverage: ratingAvg, ratingCount: ratingCount, salesCount: salesCount,
            createdAt: createdAt, updatedAt: updatedAt, publishedAt: publishedAt)
    }

    static func encodeTags(_ tags: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(tags)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func decodeTags(_ text: String) -> [String] {
        JSONText.plainStringArray(text) ?? (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}

/// A row of `product_files`: one version of one named file.
struct ProductFileRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "product_files"
    var id: String
    var productID: String
    var name: String
    var version: Int
    var size: Int64
    var sha256: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, version, size, sha256
        case productID = "product_id"
        case createdAt = "created_at"
    }

    var file: ProductFile {
        ProductFile(id: id, productID: productID, name: name, version: version, size: size, sha256: sha256, createdAt: createdAt)
    }
}

/// A row of `product_pages`.
struct ProductPageRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "product_pages"
    var productID: String
    var slug: String
    var title: String
    var body: String
    var bodyHTML: String
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case slug, title, body
        case productID = "product_id"
        case bodyHTML = "body_html"
        case updatedAt = "updated_at"
    }

    var page: ProductPage {
        ProductPage(productID: productID, slug: slug, title: title, body: body, bodyHTML: bodyHTML, updatedAt: updatedAt)
    }
}
