import Foundation
import SoukCore
@testable import SoukDatabase
import SoukHTTP
import Testing

@testable import SoukCLI

@Suite("The in-memory search engine agrees with FTS5 and follows other processes' writes")
struct SearchEnginesTests {
    static let queryMix: [String] = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/queries.txt")
        return ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }()

    func seededPath() async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-eng-\(UUID().uuidString)").path
        let data = DataDirectory(path)
        _ = try data.prepare()
        let database = try data.openDatabase()
        _ = try await DemoSeeder(database: database, currency: "USD").seed(products: 3000, sellers: 5, seed: 11) { _ in }
        return data.databasePath
    }

    @Test("Same matches, facets and (for every sort but relevance) the same order, on the benchmark's query mix")
    func enginesAgree() async throws {
        let path = try await seededPath()
        let memory = try AppDatabase(path: path, searchEngine: .memory)
        let fts = try AppDatabase(path: path, searchEngine: .fts5)
        #expect(Self.queryMix.count > 40)
        for line in Self.queryMix {
            var query = try ProductQuery(apiParameters: SearchQueryString.parse(line))
            query.limit = 100
            let a = try await memory.search(query)
            let b = try await fts.search(query)
            #expect(a.categoryFacets == b.categoryFacets, "facets differ for \(line)")
            if query.effectiveSort == .relevance {
                #expect(a.hits.count == b.hits.count, "match counts differ for \(line)")
            } else {
                #expect(a.hits.map(\.product.id) == b.hits.map(\.product.id), "order differs for \(line)")
            }
        }
    }

    @Test("Relevance: a title match ranks first in both engines")
    func relevance() async throws {
        let path = try await seededPath()
        for engine in SearchEngineKind.allCases {
            let database = try AppDatabase(path: path, searchEngine: engine)
            var query = ProductQuery()
            query.text = "handbook"
            let hits = try await database.search(query).hits
            #expect(hits.first?.product.title.lowercased().contains("handbook") == true, "\(engine)")
            #expect(hits.first?.snippet != nil)
        }
    }

    @Test("A write by another process (souk product unpublish, a seller suspended) shows in the next search")
    func followsOtherProcesses() async throws {
        let path = try await seededPath()
        let server = try AppDatabase(path: path, searchEngine: .memory)
        let cli = try AppDatabase(path: path, searchEngine: .fts5)
        var query = ProductQuery()
        query.limit = 100
        let before = try await server.search(query)
        let first = try #require(before.hits.first?.product)

        _ = try await CatalogAdmin(database: cli).unpublish(first.id)
        let after = try await server.search(query)
        #expect(!after.hits.map(\.product.id).contains(first.id))
        #expect(after.categoryFacets.values.reduce(0, +) == before.categoryFacets.values.reduce(0, +) - 1)

        let seller = try #require(try await cli.user(id: first.sellerID))
        _ = try await cli.setSellerStatus(email: seller.email, .suspended)
        var bySeller = ProductQuery()
        bySeller.sellerID = seller.id
        #expect(try await server.search(bySeller).hits.isEmpty)
        _ = try await cli.setSellerStatus(email: seller.email, .verified)
        #expect(!(try await server.search(bySeller).hits.isEmpty))
    }

    @Test("Search does not depend on products.rowid, which a VACUUM may renumber")
    func rowidsMayChange() async throws {
        let path = try await seededPath()
        var query = ProductQuery()
        query.text = "handbook"
        query.limit = 100
        let before = try await AppDatabase(path: path, searchEngine: .fts5).search(query)
        #expect(!before.hits.isEmpty)
        // What a VACUUM is allowed to do to a table with a TEXT primary key:
        let writer = try AppDatabase(path: path, searchEngine: .fts5)
        try await writer.writer.write { db in
            try db.execute(sql: "UPDATE products SET rowid = rowid + 1000000")
            try db.execute(sql: "UPDATE products SET rowid = 2000000 - rowid")
        }
        for engine in SearchEngineKind.allCases {
            let after = try await AppDatabase(path: path, searchEngine: engine).search(query)
            #expect(
                Set(after.hits.map(\.product.id)) == Set(before.hits.map(\.product.id)), "\(engine) finds the same products")
            #expect(after.hits.allSatisfy { $0.product.title.lowercased().contains("handbook") || $0.snippet != nil })
        }
    }
}
