import Foundation
import SoukCore
import SoukDatabase
import SoukMarkdown

/// What a seller sends to create a product.
public struct ProductInput: Sendable {
    public var title: String
    public var summary: String = ""
    public var description: String = ""
    public var kind: ProductKind
    public var category: String
    public var tags: [String] = []
    public var price: Int
    public var currency: String?
    public var minPrice: Int?
    public var stock: Int?
    public var attributes: JSONValue?
    public var downloadLimit: Int?
    public var activationLimit: Int?

    public init(title: String, kind: ProductKind, category: String, price: Int) {
        self.title = title
        self.kind = kind
        self.category = category
        self.price = price
    }
}

/// A partial update; nil leaves a field as it is. `clear…` flags set a nullable field to nil.
public struct ProductPatch: Sendable {
    public var title: String?
    public var summary: String?
    public var description: String?
    public var kind: ProductKind?
    public var category: String?
    public var tags: [String]?
    public var price: Int?
    public var currency: String?
    public var minPrice: Int??
    public var stock: Int??
    public var attributes: JSONValue?
    public var downloadLimit: Int??
    public var activationLimit: Int??
    public var status: ProductStatus?

    public init() {}
}

/// The catalog's rules: who may create, edit, publish and read products, and how their text is
/// validated and rendered. HTTP and the CLI call this; it knows nothing of either.
public struct CatalogService: Sendable {
    public let database: AppDatabase
    public let blobs: BlobStore
    public let defaultCurrency: String

    public init(database: AppDatabase, blobs: BlobStore, defaultCurrency: String) {
        self.database = database
        self.blobs = blobs
        self.defaultCurrency = defaultCurrency
    }

    /// Creates a draft. Throws `forbidden` unless `seller` may sell, `validationFailed` for bad fields.
    public func create(_ input: ProductInput, by seller: User) async throws -> Product {
        try SellerStanding.require(seller)
        let now = database.clock.now()
        let title = try CatalogRules.title(input.title)
        let description = try CatalogRules.description(input.description)
        let product = Product(
            id: database.ids.make(.product), sellerID: seller.id, sellerName: seller.name, title: title,
            slug: CatalogRules.slug(from: title), summary: try CatalogRules.summary(input.summary),
            description: description, descriptionHTML: Markdown.html(description),
            category: try CatalogRules.category(input.category), tags: try CatalogRules.tags(input.tags),
            kind: input.kind,
            price: try CatalogRules.price(
                amount: input.price, currency: input.currency ?? defaultCurrency, minimum: input.minPrice),
            stock: try CatalogRules.stock(input.stock), status: .draft,
            attributesJSON: try Self.attributes(input.attributes ?? .object([:])),
            downloadLimit: try CatalogRules.limit(input.downloadLimit, field: "download_limit"),
            activationLimit: try CatalogRules.limit(input.activationLimit, field: "activation_limit"),
            ratingAverage: 0, ratingCount: 0, salesCount: 0, createdAt: now, updatedAt: now, publishedAt: nil)
        return try await database.insertProduct(product)
    }

    /// Applies a patch. Only the owner edits, and only while in good standing (`SellerStanding`);
    /// an admin may only change the status (unpublish). Throws `notFound`, `forbidden` (someone
    /// else's product: product IDs are unguessable, so saying so leaks nothing; or a seller who is
    /// not verified), `validationFailed`.
    public func update(id: String, _ patch: ProductPatch, by user: User) async throws -> Product {
        try await change(id: id, patch, by: user, deleting: false)
    }

    /// DELETE: archives the product and removes it from the API, the store and the dashboard for
    /// good. Who may: as for archiving (its seller in good standing, or an admin). Its buyers keep
    /// it in their library. Throws `notFound` (also when already deleted), `forbidden`.
    public func delete(id: String, by user: User) async throws -> Product {
        var patch = ProductPatch()
        patch.status = .archived
        return try await change(id: id, patch, by: user, deleting: true)
    }

    private func change(id: String, _ patch: ProductPatch, by user: User, deleting: Bool) async throws -> Product {
        guard let existing = try await database.product(id: id) else {
            throw SoukError.notFound("The product \(id)")
        }
        let isOwner = existing.sellerID == user.id
        if isOwner { try SellerStanding.require(user) }
        if !isOwner {
            guard user.role == .admin else { throw SoukError(.forbidden, "Only the product's seller may change it.") }
            guard patch.isStatusOnly else {
                throw SoukError(.forbidden, "Admins may change a product's status only; its seller edits the rest.")
            }
        }
        if patch.status == .published {
            // Publishing needs the owner, and an owner who may sell; an admin re-publishing
            // someone's product is refused.
            guard isOwner else { throw SoukError(.forbidden, "Only the product's seller may publish it.") }
        }
        return try await database.updateProduct(id: id, deleting: deleting) { product in try Self.apply(patch, to: &product) }
    }

    /// The product if `user` may see it (drafts only to their seller and admins). Throws `notFound`.
    public func visibleProduct(id: String, to user: User?) async throws -> Product {
        guard let product = try await database.product(id: id), product.isVisible(to: user) else {
            throw SoukError.notFound("The product \(id)")
        }
        return product
    }

    public func visibleProduct(slug: String, to user: User?) async throws -> Product {
        guard let product = try await database.product(slug: slug), product.isVisible(to: user) else {
            throw SoukError.notFound("The product \(slug)")
        }
        return product
    }

    /// Checks the caller may upload to the product: its seller only, in good standing. Throws
    /// `notFound`, `forbidden`.
    public func productForUpload(id: String, by user: User) async throws -> Product {
        guard let product = try await database.product(id: id) else {
            throw SoukError.notFound("The product \(id)")
        }
        guard product.sellerID == user.id else { throw SoukError(.forbidden, "Only the product's seller may upload files.") }
        try SellerStanding.require(user)
        return product
    }

    /// Records an uploaded blob as the next version of `name`.
    public func attach(_ blob: StoredBlob, name: String, to product: Product) async throws -> ProductFile {
        try await database.addFile(productID: product.id, name: name, size: blob.size, sha256: blob.sha256)
    }

    /// Creates or replaces a private page of a `content` product. Owner only.
    public func putPage(productID: String, slug: String, title: String, body: String, by user: User) async throws
        -> ProductPage
    {
        guard let product = try await database.product(id: productID) else {
            throw SoukError.notFound("The product \(productID)")
        }
        guard product.sellerID == user.id else { throw SoukError(.forbidden, "Only the product's seller may edit its pages.") }
        try SellerStanding.require(user)
        guard product.kind == .content else {
            throw SoukError.validation("kind", "Only `content` products have private pages.")
        }
        let slug = try CatalogRules.pageSlug(slug)
        let title = try CatalogRules.title(title)
        let body = try CatalogRules.description(body)
        return try await database.upsertPage(
            ProductPage(productID: product.id, slug: slug, title: title, body: body, bodyHTML: Markdown.html(body),
                updatedAt: database.clock.now()))
    }

    // MARK: Rules

    static func attributes(_ value: JSONValue) throws -> String {
        guard case .object = value else {
            throw SoukError.validation("attributes", "Attributes must be a JSON object, like {\"pages\": 120}.")
        }
        let text = value.jsonText
        guard text.utf8.count <= 10_000 else {
            throw SoukError.validation("attributes", "Keep attributes under 10 kB of JSON.")
        }
        return text
    }

    static func apply(_ patch: ProductPatch, to product: inout Product) throws {
        if let title = patch.title {
            product.title = try CatalogRules.title(title)
        }
        if let summary = patch.summary { product.summary = try CatalogRules.summary(summary) }
        if let description = patch.description {
            product.description = try CatalogRules.description(description)
            product.descriptionHTML = Markdown.html(product.description)
        }
        if let kind = patch.kind { product.kind = kind }
        if let category = patch.category { product.category = try CatalogRules.category(category) }
        if let tags = patch.tags { product.tags = try CatalogRules.tags(tags) }
        if patch.price != nil || patch.currency != nil || patch.minPrice != nil {
            product.price = try CatalogRules.price(
                amount: patch.price ?? product.price.amount, currency: patch.currency ?? product.price.currency,
                minimum: patch.minPrice ?? product.price.minimum)
        }
        if let stock = patch.stock { product.stock = try CatalogRules.stock(stock) }
        if let attributes = patch.attributes { product.attributesJSON = try Self.attributes(attributes) }
        if let limit = patch.downloadLimit { product.downloadLimit = try CatalogRules.limit(limit, field: "download_limit") }
        if let limit = patch.activationLimit {
            product.activationLimit = try CatalogRules.limit(limit, field: "activation_limit")
        }
        if let status = patch.status { product.status = status }
    }
}

extension ProductPatch {
    var isStatusOnly: Bool {
        title == nil && summary == nil && description == nil && kind == nil && category == nil && tags == nil
            && price == nil && currency == nil && minPrice == nil && stock == nil && attributes == nil
            && downloadLimit == nil && activationLimit == nil
    }
}
