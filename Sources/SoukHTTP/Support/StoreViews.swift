import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// The values templates show for catalog objects. Every string here is escaped by the template
/// (`{{…}}`); only `description_html` and `review_body_html` (sanitised by libcmark) and `snippet` (escaped by Search,
/// with `<mark>`) are meant for `{{{…}}}`.
enum StoreViews {
    /// An `<img>`'s attributes for a product picture: the variant nearest `fallbackWidth` as
    /// `src`, every variant in `srcset`, `sizes` as the page lays it out, and the original's
    /// proportions (so the page does not jump while it loads).
    static func picture(_ image: ProductImage, sizes: String, fallbackWidth: Int = 640) -> [String: Any] {
        let fallback = image.variant(upTo: fallbackWidth)
        return [
            "image_id": image.id, "src": fallback.map(ProductImage.path) ?? "", "srcset": image.srcset, "sizes": sizes,
            "alt": image.alt, "width": fallback?.width ?? image.width, "height": fallback?.height ?? image.height,
        ]
    }

    /// A product card, with its cover when it has one.
    static func card(_ product: Product, snippet: String? = nil, cover: ProductImage?) -> [String: Any] {
        var card = card(product, snippet: snippet)
        if let cover { card["cover"] = picture(cover, sizes: "(max-width: 600px) 100vw, 280px", fallbackWidth: 320) }
        return card
    }

    static func card(_ product: Product, snippet: String? = nil) -> [String: Any] {
        var card: [String: Any] = [
            "id": product.id, "title": product.title, "slug": product.slug, "url": productURL(product),
            "seller_name": product.sellerName, "seller_url": "/sellers/\(pathComponent(product.sellerID))",
            "category": product.category, "category_url": categoryURL(product.category), "kind": product.kind.rawValue,
            "kind_label": kindLabel(product.kind),
            "is_license": product.kind == .license,
            "price_label": MoneyFormat.price(product.price), "status": product.status.rawValue,
            "is_published": product.status == .published, "is_draft": product.status == .draft,
            "is_archived": product.status == .archived,
        ]
        if !product.summary.isEmpty { card["summary"] = product.summary }
        if let snippet, !snippet.isEmpty { card["snippet"] = snippet }
        if product.ratingCount > 0 { card["rating"] = rating(product) }
        return card
    }

    /// What a buyer gets, in words.
    static func kindLabel(_ kind: ProductKind) -> String {
        switch kind {
        case .download: "Download"
        case .license: "Software with a license key"
        case .content: "Online course or content"
        }
    }

    static func rating(_ product: Product) -> String {
        String(format: "%.1f", product.ratingAverage) + " / 5 (\(product.ratingCount) rating\(product.ratingCount == 1 ? "" : "s"))"
    }

    /// A review on the product page. Keys are prefixed so a missing one never falls back to the
    /// product's (`title`) in the template. `review_body_html` is the Markdown renderer's safe HTML.
    static func review(_ review: Review) -> [String: Any] {
        [
            "review_id": review.id, "review_rating": review.rating,
            "review_stars": String(repeating: "★", count: review.rating) + String(repeating: "☆", count: 5 - review.rating),
            "review_title": review.title.map { $0 as Any } ?? false, "review_body_html": review.bodyHTML, "review_author": review.authorName,
            "review_date": DateViews.day(review.createdAt),
            "review_reply": review.sellerReply.map { $0 as Any } ?? false,
        ]
    }

    /// The bars of the rating distribution, five stars first; none without reviews.
    static func distribution(_ summary: RatingSummary) -> [[String: Any]] {
        guard summary.count > 0 else { return [] }
        return (1...5).reversed().map { stars in
            let count = summary.distribution[stars - 1]
            return [
                "stars": stars, "count": count,
                "percent": Int((Double(count) * 100 / Double(summary.count)).rounded()),
                "label": "\(stars) star\(stars == 1 ? "" : "s")",
            ]
        }
    }

    /// The buyer's review form: empty, their review to edit, or what they typed with the error.
    static func reviewForm(action: String, existing: Review?, typed: ReviewInput?, error: SoukError?) -> [String: Any] {
        let rating = typed?.rating ?? existing?.rating ?? 0
        var form: [String: Any] = [
            "action": action, "is_edit": existing != nil,
            "heading": existing == nil ? "Rate this" : "Your review",
            "title_value": typed?.title ?? existing?.title ?? "",
            "body_value": typed?.body ?? existing?.body ?? "",
            "stars": (1...5).reversed().map { stars -> [String: Any] in
                ["value": stars, "checked": stars == rating, "label": "\(stars) star\(stars == 1 ? "" : "s")"]
            },
        ]
        if let error {
            form["error"] = error.detail
            form["error_field"] = error.field ?? ""
        }
        return form
    }

    static func file(_ file: ProductFile) -> [String: Any] {
        [
            "id": file.id, "name": file.name, "version": file.version, "size_label": MoneyFormat.size(file.size),
            "size": file.size, "sha256": file.sha256, "sha256_short": String(file.sha256.prefix(12)),
            "uploaded_at": DateViews.moment(file.createdAt),
        ]
    }

    /// The product's attributes as a key/value list, values written plainly (no JSON quotes).
    static func attributes(_ json: String) -> [[String: String]] {
        guard case .object(let object)? = JSONValue.parse(json) else { return [] }
        return object.keys.sorted().map { key in ["name": key, "value": plain(object[key] ?? .null)] }
    }

    static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .bool(let bool): bool ? "yes" : "no"
        case .number(let number):
            number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .string(let string): string
        case .array(let items): items.map(plain).joined(separator: ", ")
        case .object: value.jsonText
        }
    }

    /// A list for a `{{#name}}…{{#items}}…{{/items}}…{{/name}}` section: false when empty, so the
    /// heading around the list is left out too.
    static func section(_ items: [[String: Any]]) -> Any {
        items.isEmpty ? false : ["items": items]
    }

    static func productURL(_ product: Product) -> String { "/products/\(pathComponent(product.slug))" }
    static func categoryURL(_ name: String) -> String { "/categories/\(pathComponent(name))" }

    /// Percent-encodes everything but unreserved characters, for a path segment or a query value.
    /// Over UTF-8 bytes rather than Foundation's `addingPercentEncoding` (5 % of a dashboard
    /// render, where every card builds a few links); a slug that needs no escape is returned as is.
    static func pathComponent(_ text: String) -> String {
        let utf8 = text.utf8
        guard !utf8.allSatisfy(isUnreserved) else { return text }
        var output = [UInt8]()
        output.reserveCapacity(utf8.count * 3)
        for byte in utf8 {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 unreserved: letters, digits, `-._~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// `[("q", "a b"), ("sort", "newest")]` → "q=a%20b&sort=newest" (empty values left out).
    static func queryString(_ pairs: [(String, String)]) -> String {
        pairs.filter { !$0.1.isEmpty }.map { "\(pathComponent($0.0))=\(pathComponent($0.1))" }.joined(separator: "&")
    }
}

extension Request {
    /// The query string as an HTML form sends it (`+` is a space), last value wins. Hummingbird's
    /// `queryParameters` leaves `+` alone, which is right for the API but not for GET forms.
    var formQuery: [String: String] {
        var result: [String: String] = [:]
        for pair in (uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            guard !name.isEmpty else { continue }
            result[name] = parts.count == 2 ? decode(parts[1]) : ""
        }
        return result
    }
}

extension RequestContext {
    /// A path parameter, percent-decoded (Hummingbird matches the raw path).
    func decodedParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
