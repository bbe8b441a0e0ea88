import Foundation
import GRDB
import SoukCore
import Synchronization

/// Keeps a `MemorySearchIndex` in step with the database and answers `ProductQuery`s with it.
///
/// Built from the database on first use; before each search it reads the `search_changes` feed
/// (one indexed query, usually empty) and applies what changed — including changes made by other
/// processes such as `souk product unpublish` — so results never lag the catalog. The feed is
/// read only when a write may have landed since the last reading: this process committed to the
/// catalog or the WAL file changed (see `TrustedReading`), and at least once a second.
final class MemorySearch: Sendable {
    let index = MemorySearchIndex()
    /// The last change applied; nil until built. Held while refreshing so changes apply in order.
    private let applied = Mutex<Int64?>(nil)
    /// The last reading of the feed, trusted while the database cannot have changed.
    private let feedReading = TrustedReading<Bool>()
    /// True once the index was first built.
    private let built = Atomic<Bool>(false)
    /// True while the server builds the index in the background: searches go to FTS5 meanwhile.
    let warming = Atomic<Bool>(false)
    var isBuilt: Bool { built.load(ordering: .acquiring) }
    /// Past this many pending changes a rebuild is cheaper than replaying them.
    static let rebuildThreshold = 2000
    /// True while a caller rebuilds the index (see `readChanges`).
    let rebuilding = Atomic<Bool>(false)
    /// Thrown by `refresh` while another caller rebuilds the index: FTS5, which is never behind
    /// the catalog, answers instead, so no search waits tens of seconds behind a large rebuild.
    struct Rebuilding: Error {}
    /// The products of recent hits as read from the database (see `RecentHits`).
    private let recentHits = Mutex(RecentHits())

    /// Listed products per category, from the index alone (no product row is read).
    func categoryCounts(in database: AppDatabase) async throws -> [String: Int] {
        try await refresh(database)
        guard
            let counted = index.answer(
                IndexQuery(groups: [], key: .published, descending: true, after: nil, limit: 0, facets: true))
        else { throw Rebuilding() }
        return counted.facets
    }

    func search(_ query: ProductQuery, in database: AppDatabase) async throws -> SearchResults {
        try await refresh(database)
        let plan = ProductSearchQuery(query)
        var after: (key: Double, rowid: Int64)?
        if let cursor = query.cursor {
            let position = try SearchCursor(cursor, for: plan.fingerprint)
            guard let key = position.key.storage.doubleValue else { throw SearchCursor.foreign }
            after = (key, position.rowid)
        }
        let limit = max(1, min(query.limit, 100))
        var groups: [[String]] = []
        var exactWords = Set<String>()
        var prefix: String?
        if let text = query.text, let (words, lastIsPrefix) = SearchIndex.queryWords(text) {
            for (position, raw) in words.enumerated() {
                let word = SearchText.words(raw).joined()
                // The word as typed comes first in its group: other forms count for less.
                let forms = SearchText.otherForms(of: word)
                exactWords.formUnion([word] + forms)
                if position == words.count - 1 && lastIsPrefix {
                    prefix = word
                    let completions = index.completions(of: word).filter { $0 != word && !forms.contains($0) }
                    groups.append([word] + forms + completions)
                } else {
                    groups.append([word] + forms)
                }
            }
        } else if query.hasText {
            // Only punctuation or symbols: nothing can match.
            groups.append([])
        }
        let (key, descending): (IndexQuery.Key, Bool) =
            switch plan.sort {
            case .relevance: (.relevance, false)
            case .newest: (.published, true)
            case .priceAscending: (.price, false)
            case .priceDescending: (.price, true)
            case .rating: (.rating, true)
            case .popular: (.sales, true)
            }
        let answer = index.answer(
            IndexQuery(
                groups: groups, category: query.category, kind: query.kind?.rawValue, minPrice: query.minPrice,
                maxPrice: query.maxPrice, minRating: query.minRating, sellerID: query.sellerID, freeOnly: query.freeOnly,
                key: key, descending: descending, after: after, limit: limit, facets: query.includeFacets))
        guard let result = answer else { throw Rebuilding() }

        let rowids = result.rows.map(\.rowid)
        var products: [Int64: ListedHit] = [:]
        var missing: [Int64] = []
        recentHits.withLock { cache in
            for rowid in rowids {
                if let hit = cache.products[rowid] { products[rowid] = hit } else { missing.append(rowid) }
            }
        }
        if !missing.isEmpty {
            let (read, feed) = try await database.writer.read { [missing] db in
                (try Self.listedHits(db, rowids: missing), try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM search_changes") ?? 0)
            }
            products.merge(read) { _, new in new }
            recentHits.withLock { cache in cache.keep(read, readAt: feed) }
        }
        let searchedFor = !exactWords.isEmpty || prefix != nil
        let hits = rowids.compactMap { rowid -> ProductHit? in
            guard let (product, text) = products[rowid].map({ ($0.product, $0.text) }) else { return nil }
            let snippet = searchedFor
                ? SearchText.snippet(text, words: exactWords, prefix: prefix)
                    ?? SearchText.snippet(product.title, words: exactWords, prefix: prefix) : nil
            return ProductHit(product: product, snippet: snippet)
        }
        var nextCursor: String?
        if result.hasMore, let last = result.rows.last {
            nextCursor = SearchCursor(key: last.key.databaseValue, rowid: last.rowid, fingerprint: plan.fingerprint).encoded
        }
        return SearchResults(hits: hits, nextCursor: nextCursor, categoryFacets: result.facets)
    }

    /// Builds the index if needed, then applies pending changes.
    func refresh(_ database: AppDatabase) async throws {
        // A rebuild that let the old index go and did not finish (an error, a cancelled task):
        // build again now, whatever the change feed says.
        if index.isRetired {
            guard !rebuilding.load(ordering: .acquiring) else { throw Rebuilding() }
            return try await readChanges(database)
        }
        _ = try await feedReading.value(in: database.storePageChanges) {
            try await readChanges(database)
            return true
        }
    }

    private func readChanges(_ database: AppDatabase) async throws {
        let needsRebuild = try await database.writer.read { db in
            guard !self.rebuilding.load(ordering: .acquiring) else { throw Rebuilding() }
            let latest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM search_changes") ?? 0
            return try self.applied.withLock { applied -> Bool in
                guard let since = applied, !self.index.isRetired else { return true }
                guard latest > since else { return false }
                let changes = try SearchChangeRecord.fetchAll(
                    db, sql: "SELECT * FROM search_changes WHERE seq > ? ORDER BY seq LIMIT ?",
                    arguments: [since, Self.rebuildThreshold + 1])
                // Replayed edits leave dead slots behind; once they outnumber the live ones, start afresh.
                if changes.count > Self.rebuildThreshold || self.index.deadCount > max(1000, self.index.liveCount) {
                    return true
                }
                let productRowIDs = Set(changes.compactMap(\.productRowID))
                self.recentHits.withLock {
                    $0.forget(productRowIDs, sellers: Set(changes.compactMap(\.sellerID)), through: latest)
                }
                let current = try Self.listedProducts(db, rowids: Array(productRowIDs))
                let byRowID = Dictionary(current.map { ($0.rowid, $0) }, uniquingKeysWith: { $1 })
                self.index.apply(productRowIDs.map { ($0, byRowID[$0]) })
                for sellerID in Set(changes.compactMap(\.sellerID)) {
                    let listed = try Bool.fetchOne(
                        db, sql: "SELECT \(Self.sellerListedSQL) FROM users u WHERE u.id = ?", arguments: [sellerID]) ?? false
                    self.index.setSeller(sellerID, listed: listed)
                }
                applied = latest
                return false
            }
        }
        guard needsRebuild else { return }
        // One caller rebuilds, holding no lock another search waits on: the others answer with
        // FTS5 meanwhile (see `Rebuilding`).
        guard rebuilding.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { throw Rebuilding() }
        guard isBuilt else {
            // The first build: its caller (the server's warm-up) waits for it.
            defer { rebuilding.store(false, ordering: .releasing) }
            return try await rebuild(database)
        }
        // A later one (a burst of changes) runs on its own: the search that found it needed
        // answers with FTS5 like the others, instead of waiting the whole build (21 s at 1M).
        Task.detached { [self] in
            defer { rebuilding.store(false, ordering: .releasing) }
            try? await rebuild(database)  // a failure leaves the index retired: the next search starts again
        }
        throw Rebuilding()
    }

    /// Builds the index afresh from one read's snapshot; the caller holds `rebuilding`.
    private func rebuild(_ database: AppDatabase) async throws {
        try await database.writer.read { db in
            let latest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM search_changes") ?? 0
            // Searches answer with FTS5 until the new index is in, so the old one only held
            // memory meanwhile: let it go first (at 1M products a rebuild peaked at 1,036 MB
            // with both). Kept hits go with it: the products changed.
            self.index.retire()
            self.recentHits.withLock { $0.forgetAll(through: latest) }
            let fresh = try MemorySearchIndex.loaded(tuning: self.index.tuning) { add in
                try Self.listedProducts(db, rowids: nil, each: add)
            }
            self.applied.withLock { applied in
                self.index.replace(with: fresh)
                // Changes committed since this read's snapshot (past `latest`) are applied next time.
                applied = latest
                self.built.store(true, ordering: .releasing)
            }
        }
    }

    /// See `AppDatabase.replaySearchChanges`: every `step`-th listed product, re-applied as edits.
    func replay(count: Int, in database: AppDatabase) async throws -> Duration {
        let products = try await database.writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT MAX(search_id) FROM products") ?? 0
            let step = max(1, total / max(1, count))
            let rowids = try Int64.fetchAll(
                db, sql: "SELECT search_id FROM products WHERE search_id % ? = 0 LIMIT ?", arguments: [step, count])
            return try Self.listedProducts(db, rowids: rowids)
        }
        let start = ContinuousClock.now
        index.apply(products.map { ($0.rowid, $0) })
        return ContinuousClock.now - start
    }

    static let sellerListedSQL = ProductSearchQuery.sellerListed

    /// Listed products among `rowids`, with the plain text their snippets come from. Listing is
    /// checked here, not in WHERE, so SQLite keeps to rowid lookups instead of scanning the status
    /// index; a product unpublished since the index answered is left out.
    ///
    /// The rowids go in as one JSON array, so every page of hits, whatever its size, runs the same
    /// statement, compiled once per connection: compiling it again for each search (GRDB's
    /// authorizer runs once per column read) took a sixth of the time of reading a page of
    /// products no search had shown lately. Rows are read in place, by position, not copied.
    private static func listedHits(_ db: Database, rowids: [Int64]) throws -> [Int64: ListedHit] {
        let statement = try db.cachedStatement(sql: listedHitsSQL)
        let rows = try Row.fetchCursor(statement, arguments: ["[" + rowids.map(String.init).joined(separator: ",") + "]"])
        var found: [Int64: ListedHit] = [:]
        let sellerName = ProductRecord.columnCount, rowid = sellerName + 1, listed = sellerName + 2
        while let row = try rows.next() {
            guard row[listed] as Bool else { continue }
            let product = ProductRecord(row: row).product(sellerName: row[sellerName])
            let text = [product.summary, SearchText.withoutMarkdown(product.description)].filter { !$0.isEmpty }
            found[row[rowid]] = ListedHit(product: product, text: text.joined(separator: " — "))
        }
        return found
    }

    private static let listedHitsSQL = """
        SELECT \(ProductRecord.selectColumns), u.name, p.search_id, \(ProductSearchQuery.listed)
        FROM products p JOIN users u ON u.id = p.seller_id
        WHERE p.search_id IN (SELECT value FROM json_each(?))
        """

    /// Published products among `rowids` as the index wants them.
    private static func listedProducts(_ db: Database, rowids: [Int64]) throws -> [IndexedProduct] {
        var products: [IndexedProduct] = []
        try listedProducts(db, rowids: rowids) { products.append($0) }
        return products
    }

    /// Published products (all, or those among `rowids`) as the index wants them, one at a time.
    private static func listedProducts(_ db: Database, rowids: [Int64]?, each: (IndexedProduct) -> Void) throws {
        var sql = """
            SELECT p.search_id AS rid, p.seller_id, p.title, p.summary, p.description, p.tags, p.category, p.kind,
                   COALESCE(p.min_price, p.price) AS floor, p.rating_avg, p.sales_count, p.published_at,
                   u.name AS seller_name, \(sellerListedSQL) AS seller_listed
            FROM products p JOIN users u ON u.id = p.seller_id WHERE p.status = 'published'
            """
        var arguments = StatementArguments()
        if let rowids {
            guard !rowids.isEmpty else { return }
            sql += " AND p.search_id IN (\(Array(repeating: "?", count: rowids.count).joined(separator: ",")))"
            arguments = StatementArguments(rowids)
        }
        // In search_id order: slots then follow the sort tie-breaker (see MemorySearchIndex.evaluate).
        sql += " ORDER BY p.search_id"
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let tags = ProductRecord.decodeTags(row["tags"]).joined(separator: " ")
            let published: Date? = row["published_at"]
            each(IndexedProduct(
                rowid: row["rid"], sellerID: row["seller_id"], sellerListed: row["seller_listed"],
                fields: [row["title"], row["summary"], row["description"], tags, row["category"], row["seller_name"]],
                category: row["category"], kind: row["kind"], priceFloor: row["floor"], rating: row["rating_avg"],
                sales: row["sales_count"], published: published?.timeIntervalSince1970 ?? -1e300))
        }
    }
}

extension DatabaseValue.Storage {
    var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int64(let value): Double(value)
        default: nil
        }
    }
}

/// A listed product as a search shows it, and the plain text its snippet is cut from. A class:
/// every search hands the kept ones around, and copying a `Product` retains each of its fields.
final class ListedHit: Sendable {
    let product: Product
    let text: String
    /// About the bytes it holds: its texts and a fixed share for the rest.
    let bytes: Int

    init(product: Product, text: String) {
        self.product = product
        self.text = text
        bytes = 512 + text.utf8.count + product.description.utf8.count + product.descriptionHTML.utf8.count
            + product.title.utf8.count + product.summary.utf8.count + product.attributesJSON.utf8.count
            + product.tags.reduce(0) { $0 + 16 + $1.utf8.count }
    }
}

/// The products of recent hits, so a search need not read and decode rows it read a moment ago
/// (reading them took half of a search). An entry goes when the change feed names its product or
/// its seller; every entry goes when the index is rebuilt.
///
/// Rows read from a snapshot older than the last change applied are not kept: that change may
/// concern them and have been applied (and forgotten) before they arrived.
struct RecentHits {
    /// 32 MB: about 13,000 products of the demo catalog, the hits of a few hundred searches.
    static let budget = 32 << 20
    private(set) var products = BoundedCache<Int64, ListedHit>(budget: budget)
    /// The last entry of the change feed whose products were forgotten.
    private var forgottenThrough: Int64 = 0

    mutating func keep(_ read: [Int64: ListedHit], readAt feed: Int64) {
        guard feed >= forgottenThrough else { return }
        for (rowid, hit) in read { products.insert(hit, for: rowid, cost: hit.bytes) }
    }

    mutating func forget(_ rowids: Set<Int64>, sellers: Set<String>, through feed: Int64) {
        for rowid in rowids { products.removeValue(forKey: rowid) }
        if !sellers.isEmpty { products.removeAll { sellers.contains($0.product.sellerID) } }
        forgottenThrough = max(forgottenThrough, feed)
    }

    mutating func forgetAll(through feed: Int64) {
        products.removeAll()
        forgottenThrough = max(forgottenThrough, feed)
    }
}
