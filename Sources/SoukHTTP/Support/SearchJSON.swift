import Foundation
import SoukCore
import SoukDatabase
import Synchronization

/// The search API's answer, assembled from each product's JSON as last encoded: encoding twenty
/// products field by field (`JSONEncoder`, snake-case keys, dates) took more than half of every
/// search over HTTP, for products that rarely change between two searches. The answer is the
/// JSON `APIJSON.encode(SearchBody(…))` writes, byte for byte but for the order of facet names
/// (a test holds it to that).
final class SearchJSON: Sendable {
    /// 32 MB: about 10,000 products of the demo catalog (see `BoundedCache`).
    static let budget = 32 << 20
    /// Each product's `ProductBody` without a snippet, kept with the product it was made from
    /// and where a snippet goes in it: used again only for an equal product (every field), so an
    /// edit is never served stale.
    private let encoded = Mutex(BoundedCache<String, Kept>(budget: budget))

    /// A class: taking one out of the cache retains one object, not each field of its product.
    private final class Kept: Sendable {
        let product: Product
        let json: [UInt8]
        /// Where `"status":` starts: keys are sorted, so `"snippet"` goes just before it (the
        /// last `"status":` of the object; a nested one can only be in "attributes", before it;
        /// inside a string a quote is escaped). Nil if absent (then no snippet is added).
        let snippetAt: Int?

        init(product: Product, json: [UInt8], snippetAt: Int?) {
            self.product = product
            self.json = json
            self.snippetAt = snippetAt
        }
    }

    func body(_ results: SearchResults) throws -> [UInt8] {
        var out = Array(#"{"data":["#.utf8)
        for (index, hit) in results.hits.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let kept = try productJSON(hit.product)
            if let snippet = hit.snippet, let at = kept.snippetAt {
                out += kept.json[..<at]
                out += Array(#""snippet":"#.utf8)
                JSONText.appendString(snippet, to: &out)
                out.append(UInt8(ascii: ","))
                out += kept.json[at...]
            } else {
                out += kept.json
            }
        }
        // Facet names in Unicode order (`JSONEncoder` orders them its own way: the same object).
        out += Array(#"],"facets":{"category":"#.utf8)
        JSONText.appendObject(results.categoryFacets, to: &out)
        out += Array(#"},"next_cursor":"#.utf8)
        if let cursor = results.nextCursor { JSONText.appendString(cursor, to: &out) } else { out += Array("null".utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Whether two strings are one buffer (a small string, stored inline, counts as one).
    private static func sameStorage(_ a: String, _ b: String) -> Bool {
        let first = a.utf8.withContiguousStorageIfAvailable { $0.baseAddress }
        let second = b.utf8.withContiguousStorageIfAvailable { $0.baseAddress }
        return a.utf8.count < 16 || (first != nil && first == second)
    }

    private func productJSON(_ product: Product) throws -> Kept {
        if let kept = encoded.withLock({ $0[product.id] }), kept.product == product {
            // Strings compare by identity first, by content (normalised) only when they are two
            // copies. Kept products read by an earlier search compared by content on every hit
            // (a twentieth of a search over HTTP): keep the product as searches now hand it out.
            if !Self.sameStorage(kept.product.description, product.description) {
                let fresh = Kept(product: product, json: kept.json, snippetAt: kept.snippetAt)
                encoded.withLock { $0.insert(fresh, for: product.id, cost: 256 + 2 * fresh.json.count) }
                return fresh
            }
            return kept
        }
        let json = Array(try APIJSON.encode(ProductBody(product)))
        let kept = Kept(product: product, json: json, snippetAt: json.lastRange(of: Array(#""status":"#.utf8)))
        // The JSON, and the product it was made from: about as many bytes again.
        encoded.withLock { $0.insert(kept, for: product.id, cost: 256 + 2 * json.count) }
        return kept
    }
}

extension Array where Element == UInt8 {
    /// Where the last occurrence of `needle` starts.
    func lastRange(of needle: [UInt8]) -> Int? {
        guard needle.count <= count else { return nil }
        var start = count - needle.count
        while start >= 0 {
            if self[start] == needle[0] && self[start..<start + needle.count].elementsEqual(needle) { return start }
            start -= 1
        }
        return nil
    }
}
