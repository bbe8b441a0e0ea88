import Foundation
import GRDB
import SoukCore

/// Maintains the FTS5 index of listed products.
enum SearchIndex {
    /// Small words no query requires; "s" is what an apostrophe leaves of a possessive
    /// ("Maker's" is the words "maker" and "s").
    static let stopWords: Set<String> = [
        "a", "an", "and", "or", "not", "the", "of", "for", "to", "in", "on", "with", "near", "by", "at", "s",
    ]

    /// Makes the index agree with the product row: indexed if published, absent otherwise.
    /// Called inside every transaction that writes a product.
    static func sync(productID: String, in db: Database) throws {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT p.search_id AS rid, p.status, p.title, p.summary, p.description, p.tags, p.category, u.name AS seller_name
                    FROM products p JOIN users u ON u.id = p.seller_id WHERE p.id = ?
                    """, arguments: [productID])
        else { return }
        let rowid: Int64 = row["rid"]
        try db.execute(sql: "DELETE FROM product_search WHERE rowid = ?", arguments: [rowid])
        guard row["status"] == ProductStatus.published.rawValue else { return }
        let tags = ProductRecord.decodeTags(row["tags"]).joined(separator: " ")
        try db.execute(
            sql: """
                INSERT INTO product_search (rowid, title, summary, description, tags, category, seller_name)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [rowid, row["title"], row["summary"], row["description"], tags, row["category"], row["seller_name"]])
    }

    /// A seller's name is indexed with each of their products: after a rename, every product of
    /// theirs is indexed again, here (FTS5) and, through the change feed, in memory.
    static func syncSeller(_ sellerID: String, in db: Database) throws {
        for productID in try String.fetchAll(db, sql: "SELECT id FROM products WHERE seller_id = ?", arguments: [sellerID]) {
            try sync(productID: productID, in: db)
        }
        try db.execute(sql: "UPDATE products SET search_id = search_id WHERE seller_id = ?", arguments: [sellerID])
    }

    /// Keeps the change feed (filled by triggers, read by `MemorySearch`) from growing without
    /// bound: an index further behind than this rebuilds anyway.
    static func pruneChanges(in db: Database) throws {
        try db.execute(sql: "DELETE FROM search_changes WHERE seq <= (SELECT MAX(seq) FROM search_changes) - 10000")
    }

    /// The words of what a user typed: letters and digits only (so `AND`, `NEAR`, `*`, quotes and
    /// parentheses are just text), at most 8, small words like "and" dropped, and whether the last
    /// one is a prefix still being typed. Nil when nothing searchable remains.
    static func queryWords(_ text: String) -> (words: [String], lastIsPrefix: Bool)? {
        var words: [String] = []
        var current = ""
        for character in text.prefix(500) {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        words = Array(words.prefix(8).map { String($0.prefix(40)).lowercased() })
        guard !words.isEmpty else { return nil }
        // A one-letter prefix would expand to every indexed word with that letter: too costly
        // for what it finds. From two letters on, the prefix index answers it.
        let lastIsPrefix = (text.last.map { $0.isLetter || $0.isNumber } ?? false) && words.last!.count >= 2
        // Words like "and" or "the" would otherwise be required in every result ("swift and
        // rust" would miss a "Swift & Rust" bundle). The last word stays while it may be a prefix
        // being typed ("an" → "android").
        let kept = words.enumerated().filter { index, word in
            !stopWords.contains(word) || (index == words.count - 1 && lastIsPrefix)
        }.map(\.element)
        if kept.isEmpty { return (words, false) }
        return (kept, lastIsPrefix && kept.last == words.last)
    }

    /// What a user typed as a safe FTS5 query: each word quoted, all required, each in any of
    /// its forms (singular or plural), the last one as a prefix when it is being typed.
    static func matchExpression(_ text: String) -> String? {
        guard let (words, lastIsPrefix) = queryWords(text) else { return nil }
        return words.enumerated().map { index, word in
            let isPrefix = index == words.count - 1 && lastIsPrefix
            let forms = [isPrefix ? "\"\(word)\"*" : "\"\(word)\""] + SearchText.otherForms(of: word).map { "\"\($0)\"" }
            return forms.count == 1 ? forms[0] : "(" + forms.joined(separator: " OR ") + ")"
        }.joined(separator: " AND ")  // FTS5 takes no implicit AND beside a parenthesis
    }

    /// The words exactly as typed, all in the title: the products that rank first.
    static func titleExpression(_ text: String) -> String? {
        guard let (words, _) = queryWords(text) else { return nil }
        return "title : (" + words.map { "\"\($0)\"" }.joined(separator: " AND ") + ")"
    }
}

/// A catalog query: optional text, filters, a sort and a page.
public struct ProductQuery: Sendable, Equatable {
    public enum Sort: String, Sendable, CaseIterable {
        case relevance, newest
        case priceAscending = "price_asc"
        case priceDescending = "price_desc"
        case rating, popular
    }

    public var text: String?
    public var category: String?
    public var kind: ProductKind?
    public var minPrice: Int?
    public var maxPrice: Int?
    public var minRating: Double?
    public var sellerID: String?
    public var freeOnly = false
    public var sort: Sort?
    public var limit = 24
    public var cursor: String?
    /// Count listed products per category for this query (the store's facet list).
    public var includeFacets = true

    public init() {}

    /// Whether the text holds anything but spaces and tabs (what `trimmingCharacters(in:
    /// .whitespaces)` would leave; asked on every search, so without building a new string).
    var hasText: Bool {
        (text ?? "").unicodeScalars.contains { !Self.spaces.contains($0) }
    }

    private static let spaces = CharacterSet.whitespaces

    /// Relevance when there is text to rank by, newest otherwise.
    public var effectiveSort: Sort {
        switch sort {
        case .relevance?, nil: return hasText ? .relevance : .newest
        case let other?: return other
        }
    }
}

public struct ProductHit: Sendable, Equatable {
    public var product: Product
    /// HTML-escaped excerpt with the matched words in `<mark>`; nil without text.
    public var snippet: String?
}

public struct SearchResults: Sendable, Equatable {
    public var hits: [ProductHit]
    public var nextCursor: String?
    /// Listed products per category for the same query, ignoring the category filter.
    public var categoryFacets: [String: Int]
}

/// Which engine answers searches. Both give the same results; FTS5 is always kept in sync (it
/// is the durable index), the in-memory one is rebuilt from the database at start-up.
public enum SearchEngineKind: String, Sendable, CaseIterable {
    /// An in-memory inverted index over the listed products (fast; memory grows with the catalog).
    case memory
    /// SQLite FTS5 queries only (no extra memory; slow on frequent words in large catalogs).
    case fts5
}

/// The in-memory index, built: how long that took, how many products it lists and about how
/// much memory it holds.
public struct SearchIndexReady: Sendable {
    public let took: Duration
    public let products: Int
    public let bytes: Int
}

extension AppDatabase {
    /// Searches listed products: published, by an enabled seller who may sell.
    /// Throws `badRequest` (field `cursor`) for a cursor this query did not produce.
    public func search(_ query: ProductQuery) async throws -> SearchResults {
        if let memorySearch = readyMemorySearch {
            do { return try await memorySearch.search(query, in: self) } catch is MemorySearch.Rebuilding {}
        }
        return try await writer.read { db in try ProductSearchQuery(query).run(db) }
    }

    /// The in-memory engine, unless the server is still building it in the background (FTS5,
    /// the durable index, answers meanwhile: same products, its own ranking). Elsewhere (the CLI,
    /// tests) the first search builds it.
    var readyMemorySearch: MemorySearch? {
        guard let memorySearch, memorySearch.isBuilt || !memorySearch.warming.load(ordering: .acquiring) else { return nil }
        return memorySearch
    }

    /// Starts building the in-memory index and returns at once (the server answers meanwhile);
    /// `done` is called with how long it took and what it holds, or the error.
    public func warmSearchInBackground(done: @escaping @Sendable (Result<SearchIndexReady, any Error>) -> Void) {
        guard let memorySearch else { return }
        memorySearch.warming.store(true, ordering: .releasing)
        Task {
            let start = ContinuousClock.now
            do {
                try await memorySearch.refresh(self)
                memorySearch.warming.store(false, ordering: .releasing)
                let footprint = memorySearch.index.footprint
                done(.success(SearchIndexReady(
                    took: ContinuousClock.now - start, products: footprint.products, bytes: footprint.total)))
            } catch {
                // Searches keep to FTS5 until a later search builds the index.
                memorySearch.warming.store(false, ordering: .releasing)
                done(.failure(error))
            }
        }
    }

    /// For `souk bench search --changes N`: applies the current rows of `count` listed products
    /// to the in-memory index as one refresh would after they were edited (in memory only; the
    /// database is not written). Returns how long that took; nil with the FTS5 engine.
    public func replaySearchChanges(count: Int) async throws -> Duration? {
        guard let memorySearch else { return nil }
        try await memorySearch.refresh(self)
        return try await memorySearch.replay(count: count, in: self)
    }

    /// Listed products per category, most first. The in-memory index has the counts at hand (a
    /// popcount per category); SQL would group the whole catalog on every home page.
    public func categories() async throws -> [(name: String, count: Int)] {
        if let memorySearch = readyMemorySearch {
            do {
                return try await memorySearch.categoryCounts(in: self).map { (name: $0.key, count: $0.value) }
                    .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
            } catch is MemorySearch.Rebuilding {}
        }
        return try await writer.read { db in try ProductSearchQuery.listedCategoryCounts(db) }
    }
}

/// Builds and runs the SQL for one `ProductQuery`.
struct ProductSearchQuery {
    /// May this seller's products be listed? (enabled, and an admin or a verified seller)
    static let sellerListed =
        "(u.disabled = 0 AND (u.role = 'admin' OR (u.role = 'seller' AND u.seller_status = 'verified')))"
    static let listed = "p.status = 'published' AND \(sellerListed)"
    /// bm25 column weights: title, summary, description, tags, category, seller name.
    static let rank = "bm25(product_search, 10.0, 4.0, 1.0, 3.0, 2.0, 2.0)"
    static let markStart = "\u{2}", markEnd = "\u{3}"

    let query: ProductQuery
    let match: String?
    /// The products whose title holds the words as typed: ranked above every other match.
    let titleMatch: String?
    let sort: ProductQuery.Sort

    init(_ query: ProductQuery) {
        self.query = query
        self.match = query.text.flatMap(SearchIndex.matchExpression)
        self.titleMatch = match == nil ? nil : query.text.flatMap(SearchIndex.titleExpression)
        self.sort = match == nil && query.effectiveSort == .relevance ? .newest : query.effectiveSort
    }

    /// Sort key expression and whether it descends. Ties break on rowid in the same direction.
    var sortKey: (sql: String, descending: Bool) {
        switch sort {
        case .relevance: (relevance, false)
        case .newest: ("p.published_at", true)
        case .priceAscending: ("COALESCE(p.min_price, p.price)", false)
        case .priceDescending: ("COALESCE(p.min_price, p.price)", true)
        case .rating: ("p.rating_avg", true)
        case .popular: ("p.sales_count", true)
        }
    }

    /// bm25 (lower is better), lowered further for a title that holds the words as typed or in
    /// any form, as the in-memory index's title bonus does. The expressions are made of quoted
    /// letters and digits only (`queryWords`), so they are safe to inline.
    private var relevance: String {
        guard let match, let titleMatch else { return Self.rank }
        func inTitle(_ expression: String) -> String {
            let literal = "'" + expression.replacingOccurrences(of: "'", with: "''") + "'"
            return "(p.search_id IN (SELECT rowid FROM product_search WHERE product_search MATCH \(literal)))"
        }
        return "(\(Self.rank) - 100.0 * \(inTitle(titleMatch)) - 50.0 * \(inTitle("title : (\(match))")))"
    }

    func filters(includingCategory: Bool) -> (sql: [String], arguments: StatementArguments) {
        var sql = [Self.listed]
        var arguments: StatementArguments = []
        if let match {
            sql.append("product_search MATCH ?")
            arguments += [match]
        }
        if includingCategory, let category = query.category {
            sql.append("p.category = ?")
            arguments += [category]
        }
        if let kind = query.kind {
            sql.append("p.kind = ?")
            arguments += [kind.rawValue]
        }
        if let minPrice = query.minPrice {
            sql.append("COALESCE(p.min_price, p.price) >= ?")
            arguments += [minPrice]
        }
        if let maxPrice = query.maxPrice {
            sql.append("COALESCE(p.min_price, p.price) <= ?")
            arguments += [maxPrice]
        }
        if query.freeOnly { sql.append("COALESCE(p.min_price, p.price) = 0") }
        if let minRating = query.minRating {
            sql.append("p.rating_avg >= ?")
            arguments += [minRating]
        }
        if let sellerID = query.sellerID {
            sql.append("p.seller_id = ?")
            arguments += [sellerID]
        }
        return (sql, arguments)
    }

    /// With text, CROSS JOIN pins the plan to "full-text matches first, then their rows": left
    /// free, SQLite may scan every product and test MATCH on each (measured: 15 s instead of 13 ms
    /// for a facet query over 20k products).
    var from: String {
        match == nil
            ? "products p JOIN users u ON u.id = p.seller_id"
            : "product_search CROSS JOIN products p ON p.search_id = product_search.rowid CROSS JOIN users u ON u.id = p.seller_id"
    }

    func run(_ db: Database) throws -> SearchResults {
        let (conditions, arguments) = filters(includingCategory: true)
        let key = sortKey
        let direction = key.descending ? "DESC" : "ASC"
        let snippet =
            match == nil
            ? "NULL"
            : "snippet(product_search, -1, '\(Self.markStart)', '\(Self.markEnd)', '…', 16)"
        var sql = """
            SELECT * FROM (
                SELECT \(ProductRecord.selectColumns), u.name AS seller_name, p.search_id AS rid, \(key.sql) AS sort_key, \(snippet) AS snippet
                FROM \(from) WHERE \(conditions.joined(separator: " AND "))
            )
            """
        var allArguments = arguments
        if let cursor = query.cursor {
            let position = try SearchCursor(cursor, for: fingerprint)
            let comparison = key.descending ? "<" : ">"
            // NULL sort keys (never published) sort as if lowest.
            sql += """
                 WHERE (COALESCE(sort_key, -1e300) \(comparison) COALESCE(?, -1e300)
                    OR (COALESCE(sort_key, -1e300) = COALESCE(?, -1e300) AND rid \(comparison) ?))
                """
            allArguments += [position.key, position.key, position.rowid]
        }
        let limit = max(1, min(query.limit, 100))
        sql += " ORDER BY sort_key \(direction), rid \(direction) LIMIT ?"
        allArguments += [limit + 1]

        let rows = try Row.fetchAll(db, sql: sql, arguments: allArguments)
        let page = rows.prefix(limit)
        let hits = page.map { row in
            ProductHit(
                product: ProductRecord(row: row).product(sellerName: row["seller_name"]),
                snippet: (row["snippet"] as String?).map(Self.snippetHTML))
        }
        var nextCursor: String?
        if rows.count > limit, let last = page.last {
            nextCursor = SearchCursor(key: last["sort_key"], rowid: last["rid"], fingerprint: fingerprint).encoded
        }
        return SearchResults(hits: hits, nextCursor: nextCursor, categoryFacets: query.includeFacets ? try facets(db) : [:])
    }

    /// Identifies the result list a cursor belongs to: the same text, filters and sort.
    var fingerprint: String {
        let parts: [String] = [
            sort.rawValue, match ?? "", query.category ?? "", query.kind?.rawValue ?? "", query.minPrice.map(String.init) ?? "",
            query.maxPrice.map(String.init) ?? "", query.minRating.map { String($0) } ?? "", query.sellerID ?? "",
            String(query.freeOnly),
        ]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs, unlike Hasher
        for byte in parts.joined(separator: "\u{1F}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 36)
    }

    /// Listed products per category, most first, by SQL. The published products per category
    /// are read from the (status, category) index alone, less those of sellers who may not
    /// sell, found from the accounts (`CROSS JOIN` keeps that order: the planner would otherwise
    /// look up the seller of every product). Joining every product to its seller took 1.3–1.6 s
    /// at 1M products, 50 ms this way.
    static func listedCategoryCounts(_ db: Database) throws -> [(name: String, count: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT name, SUM(n) AS count FROM (
                    SELECT category AS name, COUNT(*) AS n FROM products WHERE status = 'published' GROUP BY category
                    UNION ALL
                    SELECT p.category, -COUNT(*) FROM users u CROSS JOIN products p ON p.seller_id = u.id
                    WHERE p.status = 'published' AND NOT \(sellerListed) GROUP BY p.category
                ) GROUP BY name HAVING SUM(n) > 0 ORDER BY count DESC, name
                """
        ).map { ($0["name"], $0["count"]) }
    }

    func facets(_ db: Database) throws -> [String: Int] {
        let (conditions, arguments) = filters(includingCategory: false)
        // Browsing without words or filters (besides a category): every listed product counts.
        if conditions == [Self.listed] {
            return Dictionary(uniqueKeysWithValues: try Self.listedCategoryCounts(db).map { ($0.name, $0.count) })
        }
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT p.category AS name, COUNT(*) AS count FROM \(from) WHERE \(conditions.joined(separator: " AND ")) GROUP BY p.category",
            arguments: arguments)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["name"], $0["count"]) })
    }

    /// Escapes the excerpt for HTML, then turns the match markers into `<mark>`.
    static func snippetHTML(_ raw: String) -> String {
        SearchText.escape(SearchText.withoutMarkdown(raw)).replacingOccurrences(of: markStart, with: "<mark>")
            .replacingOccurrences(of: markEnd, with: "</mark>")
    }
}

/// An opaque position in a result list: the last item's sort key and rowid.
struct SearchCursor {
    var key: DatabaseValue
    var rowid: Int64
    var fingerprint: String

    init(key: DatabaseValue, rowid: Int64, fingerprint: String) {
        self.key = key
        self.rowid = rowid
        self.fingerprint = fingerprint
    }

    static let foreign = SoukError(
        .badRequest, "The cursor belongs to another search (text, filters or sort changed): start from the first page.",
        field: "cursor")

    /// Decodes a cursor and checks it belongs to the search with this fingerprint.
    init(_ encoded: String, for fingerprint: String) throws {
        try self.init(encoded)
        guard self.fingerprint == fingerprint else { throw Self.foreign }
    }

    private init(_ encoded: String) throws {
        let invalid = SoukError(.badRequest, "The cursor is not one this search returned.", field: "cursor")
        guard let data = Base64URL.decode(encoded),
            let array = try? JSONSerialization.jsonObject(with: data) as? [Any], array.count == 4,
            let tag = array[0] as? String, let rowid = (array[2] as? NSNumber)?.int64Value,
            let fingerprint = array[3] as? String
        else { throw invalid }
        self.fingerprint = fingerprint
        switch tag {
        case "n": key = .null
        case "d":
            // Doubles travel as their bit pattern: exact, whatever JSON does to decimals.
            guard let bits = (array[1] as? String).flatMap(UInt64.init) else { throw invalid }
            key = Double(bitPattern: bits).databaseValue
        case "i": guard let value = (array[1] as? NSNumber)?.int64Value else { throw invalid }; key = value.databaseValue
        case "s": guard let value = array[1] as? String else { throw invalid }; key = value.databaseValue
        default: throw invalid
        }
        self.rowid = rowid
    }

    /// `["tag",key,rowid,"fingerprint"]` as JSON, base64url (written by hand: one per search).
    var encoded: String {
        var json = Array("[".utf8)
        switch key.storage {
        case .null, .blob: json += Array(#""n",0"#.utf8)
        case .double(let value):
            json += Array(#""d","#.utf8)
            JSONText.appendString(String(value.bitPattern), to: &json)
        case .int64(let value): json += Array(#""i",\#(value)"#.utf8)
        case .string(let value):
            json += Array(#""s","#.utf8)
            JSONText.appendString(value, to: &json)
        }
        json += Array(",\(rowid),".utf8)
        JSONText.appendString(fingerprint, to: &json)
        json.append(UInt8(ascii: "]"))
        return Base64URL.encode(Data(json))
    }
}
