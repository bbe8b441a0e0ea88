import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// A product as the API shows it.
struct ProductBody: Encodable, Sendable {
    var id: String
    var sellerID: String
    var sellerName: String
    var title: String
    var slug: String
    var summary: String
    var description: String
    var descriptionHTML: String
    var category: String
    var tags: [String]
    var kind: String
    var price: Int
    var currency: String
    @Nullable var minPrice: Int?
    var payWhatYouWant: Bool
    var free: Bool
    @Nullable var stock: Int?
    var status: String
    var attributes: JSONValue
    @Nullable var downloadLimit: Int?
    @Nullable var activationLimit: Int?
    var ratingAverage: Double
    var ratingCount: Int
    var salesCount: Int
    var createdAt: String
    var updatedAt: String
    @Nullable var publishedAt: String?
    var url: String
    var snippet: String?

    init(_ product: Product, snippet: String? = nil) {
        id = product.id
        sellerID = product.sellerID
        sellerName = product.sellerName
        title = product.title
        slug = product.slug
        summary = product.summary
        description = product.description
        descriptionHTML = product.descriptionHTML
        category = product.category
        tags = product.tags
        kind = product.kind.rawValue
        price = product.price.amount
        currency = product.price.currency
        minPrice = product.price.minimum
        payWhatYouWant = product.price.isPayWhatYouWant
        free = product.price.isFree
        stock = product.stock
        status = product.status.rawValue
        attributes = JSONValue.parse(product.attributesJSON) ?? .object([:])
        downloadLimit = product.downloadLimit
        activationLimit = product.activationLimit
        ratingAverage = product.ratingAverage
        ratingCount = product.ratingCount
        salesCount = product.salesCount
        createdAt = Timestamp.rfc3339(product.createdAt)
        updatedAt = Timestamp.rfc3339(product.updatedAt)
        publishedAt = product.publishedAt.map(Timestamp.rfc3339)
        url = "/products/\(product.slug)"
        self.snippet = snippet
    }
}

/// A file version as the API shows it.
struct FileBody: Encodable, Sendable {
    var id: String
    var name: String
    var size: Int64
    var sha256: String
    var version: Int
    var createdAt: String

    init(_ file: ProductFile) {
        id = file.id
        name = file.name
        size = file.size
        sha256 = file.sha256
        version = file.version
        createdAt = Timestamp.rfc3339(file.createdAt)
    }
}

struct PageBody: Encodable, Sendable {
    var slug: String
    var title: String
    var body: String
    var bodyHTML: String
    var updatedAt: String

    init(_ page: ProductPage) {
        slug = page.slug
        title = page.title
        body = page.body
        bodyHTML = page.bodyHTML
        updatedAt = Timestamp.rfc3339(page.updatedAt)
    }
}

/// `GET /api/v1/products`: a page of results with the category facet.
struct SearchBody: Encodable, Sendable {
    struct Facets: Encodable, Sendable { var category: [String: Int] }
    var data: [ProductBody]
    @Nullable var nextCursor: String?
    var facets: Facets
}

extension ProductQuery {
    /// Reads the search parameters (README: Search); a malformed one is a 400 naming it.
    init(parameters: [String: String]) throws {
        self.init()
        func int(_ name: String) throws -> Int? {
            guard let raw = parameters[name], !raw.isEmpty else { return nil }
            guard let value = Int(raw), value >= 0 else {
                throw SoukError(.badRequest, "`\(name)` must be a whole number of minor units, 0 or more.", field: name)
            }
            return value
        }
        text = parameters["q"].flatMap { $0.isEmpty ? nil : $0 }
        category = parameters["category"].flatMap { $0.isEmpty ? nil : $0 }
        if let raw = parameters["kind"], !raw.isEmpty {
            guard let kind = ProductKind(rawValue: raw) else {
                throw SoukError(.badRequest, "`kind` must be download, license or content.", field: "kind")
            }
            self.kind = kind
        }
        minPrice = try int("min_price")
        maxPrice = try int("max_price")
        if let raw = parameters["min_rating"], !raw.isEmpty {
            guard let rating = Double(raw), (0...5).contains(rating) else {
                throw SoukError(.badRequest, "`min_rating` must be a number from 0 to 5.", field: "min_rating")
            }
            minRating = rating
        }
        sellerID = parameters["seller"].flatMap { $0.isEmpty ? nil : $0 }
        if let raw = parameters["free"], !raw.isEmpty {
            guard let free = ["true": true, "1": true, "false": false, "0": false][raw.lowercased()] else {
                throw SoukError(.badRequest, "`free` must be true or false.", field: "free")
            }
            freeOnly = free
        }
        if let raw = parameters["sort"], !raw.isEmpty {
            guard let sort = Sort(rawValue: raw) else {
                throw SoukError(
                    .badRequest, "`sort` must be one of \(Sort.allCases.map(\.rawValue).joined(separator: ", ")).",
                    field: "sort")
            }
            self.sort = sort
        }
        if let raw = parameters["limit"], !raw.isEmpty {
            guard let limit = Int(raw), (1...100).contains(limit) else {
                throw SoukError(.badRequest, "`limit` must be from 1 to 100.", field: "limit")
            }
            self.limit = limit
        }
        cursor = parameters["cursor"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension Request {
    /// The query string as a dictionary (the last value of a repeated name wins).
    var queryDictionary: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in uri.queryParameters { result[String(name)] = String(value) }
        return result
    }
}
