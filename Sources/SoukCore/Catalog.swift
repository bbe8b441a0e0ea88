import Foundation

public enum ProductKind: String, Sendable, Codable, CaseIterable {
    /// Files to download.
    case download
    /// A license key per unit bought (plus any files).
    case license
    /// Private pages readable by owners (a course, a members' area).
    case content
}

/// draft → published → archived (and back to published). Only published products are listed.
public enum ProductStatus: String, Sendable, Codable, CaseIterable {
    case draft, published, archived
}

/// A price in minor units. `minimum` set means pay-what-you-want from that minimum (`amount` is
/// then the suggested price); a fixed price of 0 means free.
public struct Price: Sendable, Equatable, Codable {
    public var amount: Int
    public var currency: String
    public var minimum: Int?

    public init(amount: Int, currency: String, minimum: Int? = nil) {
        self.amount = amount
        self.currency = currency
        self.minimum = minimum
    }

    public var isPayWhatYouWant: Bool { minimum != nil }
    /// The least a buyer may pay.
    public var floor: Int { minimum ?? amount }
    public var isFree: Bool { floor == 0 }
}

public struct Product: Sendable, Equatable {
    public var id: String
    public var sellerID: String
    public var sellerName: String
    public var title: String
    public var slug: String
    public var summary: String
    /// Markdown source.
    public var description: String
    /// Sanitised HTML rendered from `description` when it was saved.
    public var descriptionHTML: String
    public var category: String
    public var tags: [String]
    public var kind: ProductKind
    public var price: Price
    /// Units left for sale; nil = unlimited.
    public var stock: Int?
    public var status: ProductStatus
    /// Free-form JSON object (pages, format, platform, version…), kept as its JSON text.
    public var attributesJSON: String
    /// Downloads per file per purchase; nil = the store default, 0 = unlimited.
    public var downloadLimit: Int?
    /// Activations per license key (license products).
    public var activationLimit: Int?
    public var ratingAverage: Double
    public var ratingCount: Int
    public var salesCount: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var publishedAt: Date?
    /// Whether the seller may currently sell (enabled, verified): a suspended seller's products
    /// leave the store, not only its listings.
    public var sellerListed: Bool
    /// Set by DELETE: the product is archived and gone from the API, the store and the dashboard
    /// for good (its buyers keep it in their library, its orders keep referring to it).
    public var deletedAt: Date? = nil

    public init(
        id: String, sellerID: String, sellerName: String, title: String, slug: String, summary: String,
        description: String, descriptionHTML: String, category: String, tags: [String], kind: ProductKind,
        price: Price, stock: Int?, status: ProductStatus, attributesJSON: String, downloadLimit: Int?,
        activationLimit: Int?, ratingAverage: Double, ratingCount: Int, salesCount: Int, createdAt: Date,
        updatedAt: Date, publishedAt: Date?, sellerListed: Bool = true
    ) {
        self.id = id
        self.sellerID = sellerID
        self.sellerName = sellerName
        self.title = title
        self.slug = slug
        self.summary = summary
        self.description = description
        self.descriptionHTML = descriptionHTML
        self.category = category
        self.tags = tags
        self.kind = kind
        self.price = price
        self.stock = stock
        self.status = status
        self.attributesJSON = attributesJSON
        self.downloadLimit = downloadLimit
        self.activationLimit = activationLimit
        self.ratingAverage = ratingAverage
        self.ratingCount = ratingCount
        self.salesCount = salesCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.publishedAt = publishedAt
        self.sellerListed = sellerListed
    }

    /// May `user` see this product? Published ones are public; drafts and archived ones only to
    /// their seller and admins; deleted ones to nobody.
    public func isVisible(to user: User?) -> Bool {
        guard deletedAt == nil else { return false }
        return (status == .published && sellerListed) || user?.id == sellerID || user?.role == .admin
    }
}

/// A picture of a product: the first is its cover (cards, the product page, the library), the
/// others its gallery. Stored as WebP copies at a few widths, named by their SHA-256.
public struct ProductImage: Sendable, Equatable {
    public struct Variant: Sendable, Equatable, Codable {
        public var width: Int
        public var height: Int
        public var sha256: String
        public var bytes: Int

        public init(width: Int, height: Int, sha256: String, bytes: Int) {
            self.width = width
            self.height = height
            self.sha256 = sha256
            self.bytes = bytes
        }
    }

    public var id: String
    public var productID: String
    /// 0 for the cover, then the gallery's order.
    public var position: Int
    /// The uploaded original's size (the variants are never wider).
    public var width: Int
    public var height: Int
    /// Words for people who cannot see it; the product's title when the seller gives none.
    public var alt: String
    /// Narrowest first.
    public var variants: [Variant]
    public var createdAt: Date

    public init(
        id: String, productID: String, position: Int, width: Int, height: Int, alt: String, variants: [Variant],
        createdAt: Date
    ) {
        self.id = id
        self.productID = productID
        self.position = position
        self.width = width
        self.height = height
        self.alt = alt
        self.variants = variants
        self.createdAt = createdAt
    }

    /// Where a variant is served: content-addressed, so it may be cached for ever.
    public static func path(of variant: Variant) -> String { "/images/\(variant.sha256).webp" }

    /// The widest variant at most `width` wide (the narrowest if all are wider).
    public func variant(upTo width: Int) -> Variant? {
        variants.last { $0.width <= width } ?? variants.first
    }

    /// `srcset` for an `<img>`: every variant with its width.
    public var srcset: String { variants.map { "\(Self.path(of: $0)) \($0.width)w" }.joined(separator: ", ") }
}

/// A version of a file attached to a product.
public struct ProductFile: Sendable, Equatable {
    public var id: String
    public var productID: String
    public var name: String
    public var version: Int
    public var size: Int64
    public var sha256: String
    public var createdAt: Date

    public init(id: String, productID: String, name: String, version: Int, size: Int64, sha256: String, createdAt: Date) {
        self.id = id
        self.productID = productID
        self.name = name
        self.version = version
        self.size = size
        self.sha256 = sha256
        self.createdAt = createdAt
    }
}

/// A private page of a `content` product.
public struct ProductPage: Sendable, Equatable {
    public var productID: String
    public var slug: String
    public var title: String
    public var body: String
    public var bodyHTML: String
    public var updatedAt: Date

    public init(productID: String, slug: String, title: String, body: String, bodyHTML: String, updatedAt: Date) {
        self.productID = productID
        self.slug = slug
        self.title = title
        self.body = body
        self.bodyHTML = bodyHTML
        self.updatedAt = updatedAt
    }
}
