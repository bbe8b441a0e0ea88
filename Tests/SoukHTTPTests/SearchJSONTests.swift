import Foundation
import SoukCore
@testable import SoukDatabase
@testable import SoukHTTP
import Testing

@Suite("The search API's answer assembled from kept product JSON")
struct SearchJSONTests {
    func product(_ number: Int, attributes: String = "{}", title: String? = nil, sales: Int = 0) -> Product {
        Product(
            id: "prod_\(number)", sellerID: "usr_1", sellerName: "Ada \"The\" Seller", title: title ?? "Guide \(number)",
            slug: "guide-\(number)", summary: "A <b>summary</b> — ünïcode 🎉", description: "Line one\nLine \"two\"\\",
            descriptionHTML: "<p>Line one</p>", category: "Books", tags: ["a", "b/c"], kind: .download,
            price: Price(amount: 1200, currency: "USD", minimum: number % 2 == 0 ? 500 : nil),
            stock: number % 3 == 0 ? nil : 7, status: .published, attributesJSON: attributes,
            downloadLimit: nil, activationLimit: 3, ratingAverage: 4.5, ratingCount: 2, salesCount: sales,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000), updatedAt: Date(timeIntervalSince1970: 1_800_000_100),
            publishedAt: number % 4 == 0 ? nil : Date(timeIntervalSince1970: 1_800_000_050))
    }

    func expected(_ results: SearchResults) throws -> [UInt8] {
        Array(try APIJSON.encode(SearchBody(
            data: results.hits.map { ProductBody($0.product, snippet: $0.snippet) }, nextCursor: results.nextCursor,
            facets: .init(category: results.categoryFacets))))
    }

    @Test("Byte for byte what JSONEncoder writes: snippets, nested \"status\" keys, nulls, cursor, facets (names in the same order either way)")
    func sameBytes() throws {
        let json = SearchJSON()
        let hits = [
            ProductHit(product: product(1, attributes: #"{"status":"x","nested":{"status":1}}"#), snippet: "<mark>Guide</mark> \"1\""),
            ProductHit(product: product(2), snippet: nil),
            ProductHit(product: product(3, attributes: #"{"zeta":[true,null]}"#), snippet: "…a &amp; b…"),
            ProductHit(product: product(4), snippet: ""),
        ]
        for results in [
            SearchResults(hits: hits, nextCursor: "eyJrIjoxfQ", categoryFacets: ["Books": 4, "Zines \"x\"": 1]),
            SearchResults(hits: [], nextCursor: nil, categoryFacets: [:]),
            SearchResults(hits: Array(hits.prefix(1)), nextCursor: nil, categoryFacets: ["Books": 1]),
        ] {
            // Twice: the second answer comes from the kept JSON.
            for _ in 0..<2 { #expect(try json.body(results) == (try expected(results))) }
        }
    }

    @Test("Facet names in any case and script: the same object as JSONEncoder's, names in Unicode order")
    func facetOrder() throws {
        let facets = ["zines": 1, "Books": 4, "art": 2, "Émaux": 3, "10 things": 5, "9 lives": 6]
        let results = SearchResults(hits: [ProductHit(product: product(5), snippet: "a \u{1}b")], nextCursor: "x", categoryFacets: facets)
        let body = try SearchJSON().body(results)
        let mine = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? NSDictionary)
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(try expected(results))) as? NSDictionary)
        #expect(mine == theirs)
        #expect(String(decoding: body, as: UTF8.self).contains(#""facets":{"category":{"10 things":5,"9 lives":6,"Books":4,"art":2,"zines":1,"Émaux":3}}"#))
    }

    @Test("A changed product is encoded again, never served as it was")
    func changedProduct() throws {
        let json = SearchJSON()
        let before = SearchResults(hits: [ProductHit(product: product(7), snippet: nil)], nextCursor: nil, categoryFacets: [:])
        let after = SearchResults(
            hits: [ProductHit(product: product(7, title: "Guide 7, second edition", sales: 12), snippet: nil)], nextCursor: nil,
            categoryFacets: [:])
        #expect(try json.body(before) == (try expected(before)))
        let changed = try json.body(after)
        #expect(changed == (try expected(after)))
        #expect(String(decoding: changed, as: UTF8.self).contains("second edition"))
    }
}
