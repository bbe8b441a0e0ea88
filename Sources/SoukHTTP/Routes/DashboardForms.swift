import Foundation
import SoukCatalog
import SoukCore

/// The dashboard's product form: what the browser posts (every field text, so an empty box is not
/// a decoding error), how it is read (prices in major units) and how a product fills it again.
struct ProductForm: Decodable, Sendable {
    var title: String?
    var summary: String?
    var description: String?
    var kind: String?
    var category: String?
    var tags: String?
    var price: String?
    var currency: String?
    var minPrice: String?
    var stock: String?
    var downloadLimit: String?
    var activationLimit: String?
    var attributes: String?

    enum CodingKeys: String, CodingKey {
        case title, summary, description, kind, category, tags, price, currency, stock, attributes
        case minPrice = "min_price"
        case downloadLimit = "download_limit"
        case activationLimit = "activation_limit"
    }

    /// The form's fields read into typed values. Throws `validationFailed` naming the field.
    struct Fields: Sendable {
        var title: String
        var summary: String
        var description: String
        var kind: ProductKind
        var category: String
        var tags: [String]
        var price: Int
        var currency: String
        var minPrice: Int?
        var stock: Int?
        var downloadLimit: Int?
        var activationLimit: Int?
        var attributes: JSONValue
    }

    func fields(defaultCurrency: String) throws -> Fields {
        let typedCurrency = (currency ?? "").trimmingCharacters(in: .whitespaces)
        let currency = try CatalogRules.currency(typedCurrency.isEmpty ? defaultCurrency : typedCurrency)
        guard let kind = ProductKind(rawValue: kind ?? "download") else {
            throw SoukError.validation("kind", "Choose download, license or content.")
        }
        return Fields(
            title: title ?? "", summary: summary ?? "", description: description ?? "", kind: kind,
            category: category ?? "",
            tags: (tags ?? "").split(separator: ",").map(String.init),
            price: try Self.money(price, field: "price", currency: currency) ?? 0, currency: currency,
            minPrice: try Self.money(minPrice, field: "min_price", currency: currency),
            stock: try Self.count(stock, field: "stock"),
            downloadLimit: try Self.count(downloadLimit, field: "download_limit"),
            activationLimit: try Self.count(activationLimit, field: "activation_limit"),
            attributes: try Self.attributes(attributes ?? ""))
    }

    static func money(_ raw: String?, field: String, currency: String) throws -> Int? {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        guard let minor = MoneyFormat.minorUnits(raw, currency: currency) else {
            let what = field == "price" ? "price" : "minimum price"
            throw SoukError.validation(
                field, "Write the \(what) as an amount such as \(MoneyFormat.major(1999, currency: currency)).")
        }
        return minor
    }

    static func count(_ raw: String?, field: String) throws -> Int? {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        guard let value = Int(raw), value >= 0 else {
            let name = field.replacingOccurrences(of: "_", with: " ").capitalized
            throw SoukError.validation(field, "\(name) is a whole number, or empty.")
        }
        return value
    }

    /// One `name: value` per line; numbers and true/false keep their JSON type.
    static func attributes(_ text: String) throws -> JSONValue {
        var object: [String: JSONValue] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw SoukError.validation("attributes", "Write each attribute as `name: value` on its own line.")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 60 else {
                throw SoukError.validation("attributes", "Attribute names are 1 to 60 characters.")
            }
            if let number = Double(value), value.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) {
                object[name] = .number(number)
            } else if value == "true" || value == "false" {
                object[name] = .bool(value == "true")
            } else {
                object[name] = .string(value)
            }
        }
        return .object(object)
    }

    /// The values the form template shows: what was typed, or the product's.
    var values: [String: Any] {
        [
            "title": title ?? "", "summary": summary ?? "", "description": description ?? "",
            "category": category ?? "", "tags": tags ?? "", "price": price ?? "", "currency": currency ?? "",
            "min_price": minPrice ?? "", "stock": stock ?? "", "download_limit": downloadLimit ?? "",
            "activation_limit": activationLimit ?? "", "attributes": attributes ?? "",
            "kind_options": Self.kindOptions(selected: kind ?? "download"),
        ]
    }

    init(currency: String) {
        self.currency = currency
        self.kind = ProductKind.download.rawValue
    }

    init(_ product: Product) {
        let currency = product.price.currency
        title = product.title
        summary = product.summary
        description = product.description
        kind = product.kind.rawValue
        category = product.category
        tags = product.tags.joined(separator: ", ")
        price = MoneyFormat.major(product.price.amount, currency: currency)
        self.currency = currency
        minPrice = product.price.minimum.map { MoneyFormat.major($0, currency: currency) }
        stock = product.stock.map(String.init)
        downloadLimit = product.downloadLimit.map(String.init)
        activationLimit = product.activationLimit.map(String.init)
        attributes = StoreViews.attributes(product.attributesJSON).map { "\($0["name"]!): \($0["value"]!)" }
            .joined(separator: "\n")
    }

    static func kindOptions(selected: String) -> [[String: Any]] {
        let labels: [ProductKind: String] = [
            .download: "Download (files)", .license: "License (a key per sale, plus files)",
            .content: "Content (private pages for owners)",
        ]
        return ProductKind.allCases.map {
            ["value": $0.rawValue, "label": labels[$0] ?? $0.rawValue, "selected": $0.rawValue == selected]
        }
    }
}

extension ProductInput {
    init(_ fields: ProductForm.Fields) {
        self.init(title: fields.title, kind: fields.kind, category: fields.category, price: fields.price)
        summary = fields.summary
        description = fields.description
        tags = fields.tags
        currency = fields.currency
        minPrice = fields.minPrice
        stock = fields.stock
        attributes = fields.attributes
        downloadLimit = fields.downloadLimit
        activationLimit = fields.activationLimit
    }
}

extension ProductPatch {
    /// Every field of the form: an emptied box clears the value (stock, limits, minimum price).
    init(_ fields: ProductForm.Fields) {
        self.init()
        title = fields.title
        summary = fields.summary
        description = fields.description
        kind = fields.kind
        category = fields.category
        tags = fields.tags
        price = fields.price
        currency = fields.currency
        minPrice = .some(fields.minPrice)
        stock = .some(fields.stock)
        attributes = fields.attributes
        downloadLimit = .some(fields.downloadLimit)
        activationLimit = .some(fields.activationLimit)
    }
}
