import Foundation
import SoukCore
import Synchronization
import Testing

@testable import SoukDatabase

/// The in-memory index picks a strategy per query (score every match, read impact-ordered
/// postings with early termination, read the slots sorted by a key). These tests pin each
/// strategy on and compare it with scoring every match, page by page, on a random catalog with
/// plenty of ties, before and after edits, removals and a seller's suspension.
@Suite("In-memory search index: every strategy gives the same pages")
struct MemorySearchIndexTests {
    static let vocabulary = [
        "learn", "guide", "design", "build", "simple", "swift", "handbook", "template", "temple", "tempo",
        "notion", "guitar", "course", "deep", "desert", "deluxe", "kintsugi", "sourdough", "icon", "set",
    ]
    static let categories = ["Books", "Courses", "Music", "Fonts"]
    /// Categories few products are in: kept as slot lists where the common ones are bitsets.
    static let rareCategories = (1...30).map { "Rare \($0)" }

    /// Four products in five in a common category.
    static func category(_ random: inout Generator) -> String {
        (Int.random(in: 0..<5, using: &random) == 0 ? rareCategories : categories).randomElement(using: &random)!
    }
    static let kinds = ["download", "license", "content"]
    static let sellers = ["usr_a", "usr_b", "usr_c", "usr_d", "usr_e"]

    /// Scores every match (no bitsets, no impact order, no sorted reads): the reference.
    static let everyMatch = MemorySearchIndex.Tuning(
        denseShare: .infinity, impactMinimum: .max, directLimit: .max, directLookups: .max, walkFactor: 0,
        filterListShare: 0)
    /// Always reads ranked lists, whatever the number of matches, and filters from lists.
    static let rankedReads = MemorySearchIndex.Tuning(
        denseShare: 0, impactMinimum: 0, directLimit: 0, directLookups: 0, impactBudgetShare: .infinity,
        walkFactor: .infinity, filterListShare: .infinity, loadDenseMinimum: 0, countPatterns: 0)
    /// Switches between strategies at small sizes, so one query mix crosses every line.
    static let mixed = MemorySearchIndex.Tuning(
        denseShare: 0.05, impactMinimum: 40, directLimit: 60, directLookups: 400, impactBudgetShare: 0.2,
        slotScoresAbove: 100, walkFactor: 1, filterListShare: 0.5, loadDenseMinimum: 4, countPatterns: 3)
    /// Starts the threshold algorithm for several words, gives up at once, and scores every
    /// match by slot.
    static let givesUp = MemorySearchIndex.Tuning(
        denseShare: 0, impactMinimum: 0, directLimit: 0, directLookups: 0, impactBudgetShare: 0,
        slotScoresAbove: 0, walkFactor: 1, loadDenseMinimum: 0)

    typealias Generator = SplitMix64

    static func text(_ words: Int, _ random: inout Generator) -> String {
        // Skewed: the first words of the vocabulary are in most products, the last in few.
        (0..<words).map { _ in
            let u = Double.random(in: 0..<1, using: &random)
            return vocabulary[Int(u * u * Double(vocabulary.count))]
        }.joined(separator: " ")
    }

    static func product(_ rowid: Int64, _ random: inout Generator) -> IndexedProduct {
        IndexedProduct(
            rowid: rowid, sellerID: sellers.randomElement(using: &random)!, sellerListed: true,
            fields: [
                text(Int.random(in: 1...4, using: &random), &random), text(5, &random),
                text(Int.random(in: 5...30, using: &random), &random), text(2, &random),
                categories.randomElement(using: &random)!, "seller",
            ],
            category: category(&random), kind: kinds.randomElement(using: &random)!,
            priceFloor: [0, 300, 500, 900, 1200][Int.random(in: 0..<5, using: &random)],
            rating: [0, 3.5, 4, 4.5, 5][Int.random(in: 0..<5, using: &random)],
            sales: [0, 0, 1, 7, 100][Int.random(in: 0..<5, using: &random)],
            published: Double([1000, 2000, 3000][Int.random(in: 0..<3, using: &random)]))
    }

    static func query(_ index: MemorySearchIndex, _ random: inout Generator) -> IndexQuery {
        var groups: [[String]] = []
        for _ in 0..<[0, 1, 1, 1, 2, 2, 3][Int.random(in: 0..<7, using: &random)] {
            let word = vocabulary.randomElement(using: &random)!
            if Bool.random(using: &random) {
                groups.append([word])
            } else {
                groups.append(index.completions(of: String(word.prefix(Int.random(in: 1...3, using: &random)))))
            }
        }
        let sorts: [(IndexQuery.Key, Bool)] = [
            (.relevance, false), (.published, true), (.price, false), (.price, true), (.rating, true), (.sales, true),
        ]
        var (key, descending) = sorts.randomElement(using: &random)!
        if groups.isEmpty && key == .relevance { (key, descending) = (.published, true) }
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Int.random(in: 0..<4, using: &random) == 0 ? value() : nil }
        return IndexQuery(
            groups: groups, category: maybe(category(&random)),
            kind: maybe(kinds.randomElement(using: &random)!), minPrice: maybe(300), maxPrice: maybe(900),
            minRating: maybe(4), sellerID: maybe(sellers.randomElement(using: &random)!),
            freeOnly: Int.random(in: 0..<10, using: &random) == 0, key: key, descending: descending, after: nil,
            limit: Int.random(in: 1...25, using: &random), facets: true)
    }

    /// Every row of a query, page after page through the cursor; and the first page's facets.
    static func pages(_ index: MemorySearchIndex, _ query: IndexQuery) -> (rows: [Int64], keys: [Double], facets: [String: Int]) {
        var query = query
        var rows: [Int64] = [], keys: [Double] = []
        var facets: [String: Int]?
        while true {
            let result = index.run(query)
            if facets == nil { facets = result.facets }
            rows += result.rows.map(\.rowid)
            keys += result.rows.map(\.key)
            guard result.hasMore, let last = result.rows.last, rows.count < 5000 else { break }
            query.after = (last.key, last.rowid)
        }
        return (rows, keys, facets ?? [:])
    }

    func indexes(_ products: [IndexedProduct]) -> [MemorySearchIndex] {
        [Self.everyMatch, Self.rankedReads, Self.mixed, Self.givesUp].map { tuning in
            let index = MemorySearchIndex(tuning: tuning)
            index.rebuild(products)
            return index
        }
    }

    /// Async and yielding between queries: this is CPU work, and other suites' tests (timeouts
    /// measured on a clock) must not wait for a free thread behind it.
    func expectSamePages(_ indexes: [MemorySearchIndex], queries: Int, seed: UInt64) async {
        var random = Generator(seed: seed)
        var nonEmpty = 0
        for _ in 0..<queries {
            await Task.yield()
            let query = Self.query(indexes[0], &random)
            let reference = Self.pages(indexes[0], query)
            if !reference.rows.isEmpty { nonEmpty += 1 }
            // No repeats across pages.
            #expect(Set(reference.rows).count == reference.rows.count)
            for other in indexes.dropFirst() {
                let found = Self.pages(other, query)
                #expect(found.rows == reference.rows, "rows differ for \(query.groups) \(query.key) limit \(query.limit)")
                #expect(found.keys == reference.keys)
                #expect(found.facets == reference.facets)
            }
            // The pages together are the whole ordered result.
            var whole = query
            whole.limit = 10_000
            #expect(indexes[0].run(whole).rows.map(\.rowid) == reference.rows)
        }
        #expect(nonEmpty > queries / 2, "the mix should mostly find something")
    }

    @Test("Same pages, keys and facets from every strategy")
    func strategiesAgree() async {
        var random = Generator(seed: 7)
        let products = (1...2000).map { Self.product(Int64($0), &random) }
        await expectSamePages(indexes(products), queries: 250, seed: 1)
    }

    @Test("Still the same after edits, removals and a seller's suspension, applied one by one, in batches or at once")
    func strategiesAgreeAfterChanges() async {
        var random = Generator(seed: 9)
        let products = (1...1500).map { Self.product(Int64($0 * 2), &random) }
        let all = indexes(products)
        // Edits keep their rowid but move to a new slot (out of rowid order); new products come
        // between existing rowids; some products leave.
        var changes: [(Int64, IndexedProduct?)] = []
        for _ in 0..<300 {
            let rowid = Int64(Int.random(in: 1...3001, using: &random))
            changes.append((rowid, Int.random(in: 0..<4, using: &random) == 0 ? nil : Self.product(rowid, &random)))
        }
        // One index takes them one by one, one in batches (a refresh), one all at once.
        for (rowid, product) in changes { all[0].upsert(rowid: rowid, product) }
        for start in stride(from: 0, to: changes.count, by: 37) {
            all[1].apply(Array(changes[start..<min(start + 37, changes.count)]).map { (rowid: $0.0, product: $0.1) })
        }
        all[2].apply(changes.map { (rowid: $0.0, product: $0.1) })
        all[3].apply(changes.map { (rowid: $0.0, product: $0.1) })
        for index in all { index.setSeller("usr_c", listed: false) }
        await expectSamePages(all, queries: 200, seed: 2)
        var bySeller = Self.query(all[0], &random)
        bySeller.groups = []
        bySeller.sellerID = "usr_c"
        for index in all { #expect(index.run(bySeller).rows.isEmpty) }
        for index in all { index.setSeller("usr_c", listed: true) }
        await expectSamePages(all, queries: 80, seed: 3)

        // A new word grows past the lines for a bitset and an impact order between rebuilds.
        var newcomers: [IndexedProduct] = []
        for offset in 0..<150 {
            var product = Self.product(Int64(4000 + offset), &random)
            product.fields[Int.random(in: 0...2, using: &random)] += " quokka"
            newcomers.append(product)
        }
        for product in newcomers { all[0].upsert(rowid: product.rowid, product) }
        for index in all.dropFirst() { index.apply(newcomers.map { (rowid: $0.rowid, product: $0) }) }
        for groups in [[["quokka"]], [all[0].completions(of: "quo")], [["quokka"], ["learn"]]] {
            for (key, descending) in [(IndexQuery.Key.relevance, false), (.price, false), (.sales, true)] {
                let query = IndexQuery(groups: groups, key: key, descending: descending, limit: 7, facets: true)
                let reference = Self.pages(all[0], query)
                #expect(reference.rows.count > 20)
                for other in all.dropFirst() {
                    let found = Self.pages(other, query)
                    #expect(found.rows == reference.rows && found.keys == reference.keys && found.facets == reference.facets)
                }
            }
        }
        for index in all { Self.expectCompact(index) }
    }

    @Test("Words in every product (and a prefix of them) rank the same by every strategy, 64 products at a time or one by one")
    func wordsInEveryProduct() async {
        var random = Generator(seed: 11)
        // Every product holds "learn" and most hold "learner" or "learning", in counts and
        // fields that vary, so their weights differ from product to product.
        let products = (1...640).map { rowid in
            var product = Self.product(Int64(rowid), &random)
            product.fields[0] += " learn"
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                product.fields[Int.random(in: 1...2, using: &random)] += [" learner", " learning"].randomElement(using: &random)!
            }
            return product
        }
        let all = indexes(products)
        let prefix = all[0].completions(of: "lear")
        #expect(prefix.count >= 3)
        for groups in [[["learn"]], [prefix], [["learn"], prefix], [prefix, ["guide"]]] {
            for limit in [1, 10, 25] {
                let query = IndexQuery(groups: groups, key: .relevance, descending: false, limit: limit, facets: true)
                let reference = Self.pages(all[0], query)
                #expect(!reference.rows.isEmpty)
                for other in all.dropFirst() {
                    let found = Self.pages(other, query)
                    #expect(found.rows == reference.rows && found.keys == reference.keys, "\(groups) limit \(limit)")
                }
            }
        }
    }

    /// A word with a bitset keeps no slot list (the bitset is its slot list); the others keep
    /// one slot per weight.
    static func expectCompact(_ index: MemorySearchIndex) {
        for term in index.postingWeights.indices {
            let kept = index.termBits[term] == nil ? index.postingWeights[term].count : 0
            #expect(index.postingSlots[term].count == kept)
        }
    }

    @Test("A rebuild loads aside while searches read the old index, then takes a few bytes per posting")
    func rebuildAside() async throws {
        var random = Generator(seed: 11)
        let before = (1...300).map { Self.product(Int64($0), &random) }
        let after = (1...20_000).map { Self.product(Int64($0), &random) }
        let index = MemorySearchIndex()
        index.rebuild(before)
        let everything = IndexQuery(groups: [], key: .published, descending: true, limit: 100, facets: true)
        let facetsBefore = index.run(everything).facets
        #expect(facetsBefore.values.reduce(0, +) == 300)

        // Halfway through the load, a search from another thread answers at once, from the old index.
        var during: [String: Int]?
        index.rebuild { add in
            for (offset, product) in after.enumerated() {
                add(product)
                guard offset == after.count / 2 else { continue }
                let answered = DispatchSemaphore(value: 0)
                let found = Mutex<[String: Int]?>(nil)
                Thread.detachNewThread {
                    found.withLock { $0 = index.run(everything).facets }
                    answered.signal()
                }
                #expect(answered.wait(timeout: .now() + 10) == .success, "a search waited for the rebuild")
                during = found.withLock { $0 }
            }
        }
        #expect(during == facetsBefore)
        #expect(index.run(everything).facets.values.reduce(0, +) == 20_000)
        Self.expectCompact(index)

        // Frequent words are bitsets with two-byte weights: well under the 12 bytes a
        // posting took as a slot, a weight and an impact entry of four bytes each.
        let footprint = index.footprint
        #expect(footprint.products == 20_000 && footprint.postings > 200_000)
        let perPosting = Double(footprint.postingSlots + footprint.postingWeights + footprint.impactOrder + footprint.bitsets)
            / Double(footprint.postings)
        #expect(perPosting < 7, "\(perPosting) bytes per posting")
    }

    @Test("A word's count in a field saturates at 31: more repeats weigh no more")
    func repeatsSaturate() {
        let index = MemorySearchIndex()
        // Descriptions of the same length (200 words), so only the counts differ.
        func product(_ rowid: Int64, repeats: Int) -> IndexedProduct {
            let description = (Array(repeating: "swift", count: repeats) + Array(repeating: "filler", count: 200 - repeats))
            return IndexedProduct(
                rowid: rowid, sellerID: "usr_a", sellerListed: true,
                fields: ["Bread", "", description.joined(separator: " "), "", "Books", ""],
                category: "Books", kind: "download", priceFloor: 100, rating: 4, sales: 1, published: 1)
        }
        index.rebuild([product(1, repeats: 200), product(2, repeats: 40), product(3, repeats: 20)])
        let rows = index.run(IndexQuery(groups: [["swift"]], key: .relevance, descending: false, limit: 10, facets: false)).rows
        #expect(rows.map(\.rowid) == [1, 2, 3])
        #expect(rows[0].key == rows[1].key && rows[1].key < rows[2].key)
    }

    @Test("A load keeps words frequent so far as bitsets: a word in the first products only, rare at the end, ranks and pages as the reference does")
    func denseWhileLoading() async {
        var random = Generator(seed: 11)
        var products = (1...400).map { Self.product(Int64($0), &random) }
        // "earlybird" is in each of the first 16 products (a bitset from its 4th posting), then
        // in none: 16 of 400 is under the 5 % line, so it ends as a list.
        for index in 0..<16 { products[index].fields[2] += " earlybird" + String(repeating: " earlybird", count: index % 3) }
        let loading = Self.mixed  // words become bitsets from their 4th posting
        let reference = MemorySearchIndex(tuning: Self.everyMatch)
        reference.rebuild(products)
        let loaded = MemorySearchIndex(tuning: loading)
        loaded.rebuild(products)
        #expect(loaded.termBits[Int(loaded.termIDs["earlybird"]!)] == nil)
        #expect(loaded.postingSlots[Int(loaded.termIDs["earlybird"]!)].count == 16)
        // "learn" is frequent from the start to the end: a bitset all along.
        #expect(loaded.termBits[Int(loaded.termIDs["learn"]!)] != nil)
        for words in [["earlybird"], ["earlybird", "learn"], ["learn"], ["guide", "learn"]] {
            let query = IndexQuery(groups: words.map { [$0] }, key: .relevance, descending: false, limit: 500, facets: true)
            let expected = reference.run(query), found = loaded.run(query)
            #expect(found.rows.map(\.rowid) == expected.rows.map(\.rowid), "\(words)")
            #expect(found.rows.map(\.key) == expected.rows.map(\.key), "\(words)")
            #expect(found.facets == expected.facets)
        }
        await expectSamePages([reference, loaded], queries: 60, seed: 12)
    }

    @Test("A seller's standing follows whichever arrives first: a product row or the seller change")
    func sellerStanding() {
        var random = Generator(seed: 5)
        var products = (1...40).map { Self.product(Int64($0), &random) }
        for index in products.indices { products[index].sellerID = index < 10 ? "usr_s" : "usr_o" }
        for tuning in [Self.everyMatch, Self.rankedReads] {
            let index = MemorySearchIndex(tuning: tuning)
            index.rebuild(products)
            let bySeller = IndexQuery(groups: [], sellerID: "usr_s", key: .published, descending: true, limit: 50, facets: true)
            func listed() -> Int { index.run(bySeller).rows.count }
            #expect(listed() == 10)
            // Suspended, and in the same batch one of their products is edited (its row says unlisted).
            var edited = products[0]
            edited.sellerListed = false
            index.upsert(rowid: edited.rowid, edited)
            index.setSeller("usr_s", listed: false)
            #expect(listed() == 0)
            #expect(index.run(bySeller).facets.isEmpty)
            // Reinstated: the edited row arrives before the seller change.
            edited.sellerListed = true
            index.upsert(rowid: edited.rowid, edited)
            #expect(listed() == 10)
            index.setSeller("usr_s", listed: true)
            #expect(listed() == 10)
            // A rebuild forgets every standing it held.
            index.setSeller("usr_s", listed: false)
            index.rebuild(products)
            #expect(listed() == 10)
        }
    }

    @Test("Relevance ranks a title match first; an unknown word or category finds nothing")
    func basics() {
        let index = MemorySearchIndex(tuning: Self.rankedReads)
        func product(_ rowid: Int64, title: String, description: String, category: String = "Books") -> IndexedProduct {
            IndexedProduct(
                rowid: rowid, sellerID: "usr_a", sellerListed: true, fields: [title, "", description, "", category, ""],
                category: category, kind: "download", priceFloor: 100, rating: 4, sales: 1, published: 1)
        }
        index.rebuild([
            product(1, title: "Bread", description: "swift swift swift swift"),
            product(2, title: "Swift Handbook", description: "a book"),
            product(3, title: "Fonts", description: "nothing here", category: "Fonts"),
        ])
        let result = index.run(
            IndexQuery(groups: [["swift"]], key: .relevance, descending: false, limit: 10, facets: true))
        #expect(result.rows.map(\.rowid) == [2, 1])
        #expect(result.facets == ["Books": 2])
        #expect(index.run(IndexQuery(groups: [["nowhere"]], key: .relevance, descending: false, limit: 10, facets: true)).rows.isEmpty)
        let unknownCategory = index.run(
            IndexQuery(groups: [], category: "Nope", key: .published, descending: true, limit: 10, facets: true))
        #expect(unknownCategory.rows.isEmpty)
        #expect(unknownCategory.facets == ["Books": 2, "Fonts": 1])
    }
}
