import Foundation

/// What product details are acceptable. Each rule returns the normalised value or throws
/// `validationFailed` naming the field.
public enum CatalogRules {
    public static let maxTitle = 140
    public static let maxSummary = 300
    public static let maxDescription = 100_000
    public static let maxTags = 20
    public static let maxPrice = 100_000_000  // one million in a two-decimal currency

    public static func title(_ raw: String) throws -> String {
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= maxTitle, !title.contains(where: \.isNewline) else {
            throw SoukError.validation("title", "Give the product a title of 1 to \(maxTitle) characters on one line.")
        }
        return title
    }

    public static func summary(_ raw: String) throws -> String {
        let summary = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard summary.count <= maxSummary else {
            throw SoukError.validation("summary", "Keep the summary under \(maxSummary) characters.")
        }
        return summary
    }

    public static func description(_ raw: String) throws -> String {
        guard raw.count <= maxDescription else {
            throw SoukError.validation("description", "Keep the description under \(maxDescription) characters.")
        }
        return raw
    }

    public static func category(_ raw: String) throws -> String {
        let category = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !category.isEmpty, category.count <= 60, !category.contains(where: { $0.isNewline || $0 == "/" }) else {
            throw SoukError.validation("category", "Give a category of 1 to 60 characters (no slashes).")
        }
        return category
    }

    public static func tags(_ raw: [String]) throws -> [String] {
        var seen = Set<String>()
        let tags = raw.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }.filter {
            !$0.isEmpty && seen.insert($0).inserted
        }
        guard tags.count <= maxTags, tags.allSatisfy({ $0.count <= 40 && !$0.contains(where: \.isNewline) }) else {
            throw SoukError.validation("tags", "Use at most \(maxTags) tags of up to 40 characters each.")
        }
        return tags
    }

    public static func currency(_ raw: String) throws -> String {
        let currency = raw.uppercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw SoukError.validation("currency", "Use a three-letter ISO 4217 currency code such as USD.")
        }
        return currency
    }

    public static func price(amount: Int, currency: String, minimum: Int?) throws -> Price {
        guard (0...maxPrice).contains(amount) else {
            throw SoukError.validation("price", "The price is in minor units (cents) from 0 to \(maxPrice).")
        }
        if let minimum {
            guard (0...maxPrice).contains(minimum) else {
                throw SoukError.validation("min_price", "The minimum price is in minor units from 0 to \(maxPrice).")
            }
            guard minimum <= amount else {
                throw SoukError.validation("min_price", "The minimum price cannot exceed the suggested price.")
            }
        }
        return Price(amount: amount, currency: try self.currency(currency), minimum: minimum)
    }

    public static func stock(_ value: Int?) throws -> Int? {
        guard let value else { return nil }
        guard (0...10_000_000).contains(value) else {
            throw SoukError.validation("stock", "Stock is a number of units from 0 to 10,000,000, or absent for unlimited.")
        }
        return value
    }

    public static func limit(_ value: Int?, field: String) throws -> Int? {
        guard let value else { return nil }
        guard (0...1_000_000).contains(value) else {
            throw SoukError.validation(field, "\(field) is a count from 0 (unlimited) to 1,000,000.")
        }
        return value
    }

    /// `title` as a URL slug: lower-case ASCII letters, digits and dashes.
    public static func slug(from title: String) -> String {
        let folded = title.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
        var slug = ""
        for scalar in folded.unicodeScalars {
            if scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar)) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty && !slug.hasSuffix("-") {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "product" : String(slug.prefix(80))
    }

    /// A page slug from the URL: the same alphabet, 1 to 80 characters.
    public static func pageSlug(_ raw: String) throws -> String {
        guard !raw.isEmpty, raw.count <= 80,
            raw.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
        else {
            throw SoukError.validation("slug", "Page slugs use lower-case letters, digits and dashes (1 to 80).")
        }
        return raw
    }

    /// The name a file is stored and offered under, whatever the client sent: the last path
    /// component, without control characters or characters that are special in headers or shells.
    public static func fileName(_ raw: String) throws -> String {
        let lastComponent = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var name = String(
            lastComponent.unicodeScalars.filter { scalar in
                !CharacterSet.controlCharacters.contains(scalar) && !"\"<>|:*?;%".unicodeScalars.contains(scalar)
            })
        name = name.trimmingCharacters(in: .whitespaces)
        while name.hasPrefix(".") { name.removeFirst() }
        guard !name.isEmpty else {
            throw SoukError.validation("filename", "Give the file a name, e.g. ?filename=book.pdf.")
        }
        return String(name.suffix(200))
    }
}
