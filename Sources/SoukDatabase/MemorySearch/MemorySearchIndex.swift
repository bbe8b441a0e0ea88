import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the in-memory index keeps of a listed product.
struct IndexedProduct: Sendable {
    var rowid: Int64
    var sellerID: String
    var sellerListed: Bool
    /// The six weighted fields, in `MemorySearchIndex.fieldWeights` order.
    var fields: [String]
    var category: String
    var kind: String
    var priceFloor: Int
    var rating: Double
    var sales: Int
    var published: Double
}

/// One search, in the index's terms.
struct IndexQuery {
    enum Key { case relevance, published, price, rating, sales }
    /// One entry per query word: the words it may match (several for a prefix). All required.
    var groups: [[String]]
    var category: String?
    var kind: String?
    var minPrice: Int?
    var maxPrice: Int?
    var minRating: Double?
    var sellerID: String?
    var freeOnly = false
    var key: Key
    var descending: Bool
    var after: (key: Double, rowid: Int64)?
    var limit: Int
    var facets: Bool
}

struct IndexResult {
    var rows: [(rowid: Int64, key: Double)]
    var hasMore: Bool
    var facets: [String: Int]
}

/// An inverted index of listed products held in memory, with BM25-weighted postings
/// (title ×10, summary ×4, description ×1, tags ×3, category ×2, seller ×2), so a query costs a
/// pass over the postings of its words instead of a B-tree walk per match.
///
/// Documents are append-only: an edited product gets a new slot and its old one is marked dead,
/// which keeps every postings list sorted without moving memory. Reads share a lock; changes
/// take it exclusively.
final class MemorySearchIndex: @unchecked Sendable {
    static let fieldWeights: [Float] = [10, 4, 1, 3, 2, 2]
    static let k1: Float = 1.2
    static let b: Float = 0.75

    /// Heap-allocated: a pthread lock must not move, and a Swift property's address may.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t> = .allocate(capacity: 1)

    private var rowids: [Int64] = []
    private var alive: [Bool] = []
    private var categoryOf: [Int32] = []
    private var kindOf: [Int32] = []
    private var sellerOf: [Int32] = []
    private var priceOf: [Int32] = []
    private var ratingOf: [Float] = []
    private var salesOf: [Int32] = []
    private var publishedOf: [Double] = []
    private var slotOfRowID: [Int64: Int32] = [:]

    private var categories: [String] = []
    private var categoryIDs: [String: Int32] = [:]
    private var kinds: [String] = []
    private var kindIDs: [String: Int32] = [:]
    private var sellers: [String] = []
    private var sellerIDs: [String: Int32] = [:]
    private var sellerListed: [Bool] = []

    private var termIDs: [String: Int32] = [:]
    private var termNames: [String] = []
    private var postingSlots: [[Int32]] = []
    private var postingWeights: [[Float]] = []
    /// Term ids sorted by name, for prefixes; rebuilt when new words arrive.
    private var sortedTerms: [Int32] = []
    private var sortedTermsValid = true
    /// Average field lengths, fixed when the index is built (BM25's length normalisation).
    private var averageLengths: [Float] = Array(repeating: 1, count: 6)
    private(set) var liveCount = 0
    /// Slots of removed or replaced products, still in the postings until the next rebuild.
    var deadCount: Int { reading { rowids.count - liveCount } }

    init() { pthread_rwlock_init(lock, nil) }
    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    private func reading<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    private func writing<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    // MARK: Changes

    /// Replaces the whole index (start-up).
    func rebuild(_ products: [IndexedProduct]) {
        var totals = [Double](repeating: 0, count: 6)
        for product in products {
            for (field, text) in product.fields.enumerated() {
                var count = 0
                SearchText.words(text) { _ in count += 1 }
                totals[field] += Double(count)
            }
        }
        writing {
            rowids = []; alive = []; categoryOf = []; kindOf = []; sellerOf = []; priceOf = []
            ratingOf = []; salesOf = []; publishedOf = []; slotOfRowID = [:]
            termIDs = [:]; termNames = []; postingSlots = []; postingWeights = []; liveCount = 0
            averageLengths = totals.map { Float(max(1, $0 / Double(max(1, products.count)))) }
            for product in products { insert(product) }
            sortedTermsValid = false
        }
    }

    /// Adds or replaces one product; `nil` removes it (unpublished, archived).
    func upsert(rowid: Int64, _ product: IndexedProduct?) {
        writing {
            remove(rowid)
            if let product { insert(product) }
        }
    }

    /// A seller became listed or unlisted (verified, suspended, disabled…).
    func setSeller(_ sellerID: String, listed: Bool) {
        writing {
            if let index = sellerIDs[sellerID] { sellerListed[Int(index)] = listed }
        }
    }

    private func remove(_ rowid: Int64) {
        guard let slot = slotOfRowID.removeValue(forKey: rowid) else { return }
        alive[Int(slot)] = false
        liveCount -= 1
    }

    private func insert(_ product: IndexedProduct) {
        let slot = Int32(rowids.count)
        rowids.append(product.rowid)
        alive.append(true)
        categoryOf.append(intern(product.category, &categories, &categoryIDs))
        kindOf.append(intern(product.kind, &kinds, &kindIDs))
        let seller: Int32 = intern(product.sellerID, &sellers, &sellerIDs)
        if Int(seller) == sellerListed.count { sellerListed.append(product.sellerListed) }
        sellerListed[Int(seller)] = product.sellerListed
        sellerOf.append(seller)
        priceOf.append(Int32(clamping: product.priceFloor))
        ratingOf.append(Float(product.rating))
        salesOf.append(Int32(clamping: product.sales))
        publishedOf.append(product.published)
        slotOfRowID[product.rowid] = slot
        liveCount += 1

        var weights: [String: Float] = [:]
        for (field, text) in product.fields.enumerated() {
            var frequencies: [String: Int] = [:]
            var length = 0
            SearchText.words(text) { word in
                frequencies[word, default: 0] += 1
                length += 1
            }
            let norm = Self.k1 * (1 - Self.b + Self.b * Float(length) / averageLengths[field])
            for (word, count) in frequencies {
                let tf = Float(count)
                weights[word, default: 0] += Self.fieldWeights[field] * tf * (Self.k1 + 1) / (tf + norm)
            }
        }
        for (word, weight) in weights {
            let term: Int32
            if let existing = termIDs[word] {
                term = existing
            } else {
                term = Int32(termNames.count)
                termIDs[word] = term
                termNames.append(word)
                postingSlots.append([])
                postingWeights.append([])
                sortedTermsValid = false
            }
            postingSlots[Int(term)].append(slot)
            postingWeights[Int(term)].append(weight)
        }
    }

    private func intern<ID: FixedWidthInteger>(_ value: String, _ names: inout [String], _ ids: inout [String: ID]) -> ID {
        if let id = ids[value] { return id }
        let id = ID(names.count)
        names.append(value)
        ids[value] = id
        return id
    }

    // MARK: Queries

    /// Every word of the index starting with `prefix` (a query pays for the postings it reads,
    /// so a capped list would only lose matches FTS5 finds).
    func completions(of prefix: String) -> [String] {
        if !reading({ sortedTermsValid }) {
            writing {
                if !sortedTermsValid {
                    sortedTerms = termNames.indices.map(Int32.init).sorted { termNames[Int($0)] < termNames[Int($1)] }
                    sortedTermsValid = true
                }
            }
        }
        return reading {
            var low = 0, high = sortedTerms.count
            while low < high {
                let mid = (low + high) / 2
                if termNames[Int(sortedTerms[mid])] < prefix { low = mid + 1 } else { high = mid }
            }
            var found: [Int32] = []
            var index = low
            while index < sortedTerms.count, termNames[Int(sortedTerms[index])].hasPrefix(prefix) {
                found.append(sortedTerms[index])
                index += 1
            }
            return found.map { termNames[Int($0)] }
        }
    }

    func run(_ query: IndexQuery) -> IndexResult {
        reading { evaluate(query) }
    }

    private func evaluate(_ query: IndexQuery) -> IndexResult {
        let documentCount = Float(max(1, liveCount))
        func idf(_ term: Int32) -> Float {
            // Postings may still hold dead slots; never let that push the weight to zero or below.
            let n = min(Float(postingSlots[Int(term)].count), documentCount)
            return max(0.01, log(1 + (documentCount - n + 0.5) / (n + 0.5)))
        }
        let groups = query.groups.map { $0.compactMap { termIDs[$0] } }
        if groups.contains(where: \.isEmpty) { return IndexResult(rows: [], hasMore: false, facets: [:]) }

        // Filters as slot ids, resolved once.
        let categoryFilter: Int32?? = query.category.map { categoryIDs[$0] }
        if case .some(.none) = categoryFilter { return emptyWithFacets(query) }
        let kindFilter = query.kind.map { kindIDs[$0] ?? Int32.max }
        let sellerFilter = query.sellerID.map { sellerIDs[$0] ?? Int32.max }
        let minPrice = query.minPrice.map { Int32(clamping: $0) } ?? Int32.min
        let maxPrice = query.freeOnly ? 0 : (query.maxPrice.map { Int32(clamping: $0) } ?? Int32.max)
        let minRating = query.minRating.map(Float.init) ?? -Float.infinity

        var facetCounts = [Int](repeating: 0, count: categories.count)
        var heap = TopHeap(capacity: query.limit + 1, descending: query.descending)

        @inline(__always) func consider(_ slot: Int32, score: Float) {
            let s = Int(slot)
            guard alive[s], sellerListed[Int(sellerOf[s])], priceOf[s] >= minPrice, priceOf[s] <= maxPrice,
                ratingOf[s] >= minRating
            else { return }
            if let kindFilter, kindOf[s] != kindFilter { return }
            if let sellerFilter, sellerOf[s] != sellerFilter { return }
            if query.facets { facetCounts[Int(categoryOf[s])] += 1 }
            if case .some(.some(let category)) = categoryFilter, categoryOf[s] != category { return }
            let key: Double
            switch query.key {
            case .relevance: key = -Double(score)
            case .published: key = publishedOf[s]
            case .price: key = Double(priceOf[s])
            case .rating: key = Double(ratingOf[s])
            case .sales: key = Double(salesOf[s])
            }
            let rowid = rowids[s]
            if let after = query.after {
                let isAfter = query.descending
                    ? (key < after.key || (key == after.key && rowid < after.rowid))
                    : (key > after.key || (key == after.key && rowid > after.rowid))
                guard isAfter else { return }
            }
            heap.offer(key: key, rowid: rowid)
        }

        if groups.isEmpty {
            for slot in 0..<Int32(rowids.count) { consider(slot, score: 0) }
        } else if groups.count == 1 && groups[0].count == 1 {
            // One word: its postings are the matches.
            let term = groups[0][0]
            let weight = idf(term)
            let slots = postingSlots[Int(term)], weights = postingWeights[Int(term)]
            for index in slots.indices { consider(slots[index], score: weights[index] * weight) }
        } else {
            // Several words (or a prefix with several completions): every group must match; a
            // group scores its best word, groups add up.
            let count = rowids.count
            var matched = [UInt8](repeating: 0, count: count)
            var score = [Float](repeating: 0, count: count)
            var best = [Float](repeating: 0, count: count)
            var touched: [Int32] = []
            // Rarest group first: later groups only revisit survivors.
            let ordered = groups.sorted { a, b in
                a.reduce(0) { $0 + postingSlots[Int($1)].count } < b.reduce(0) { $0 + postingSlots[Int($1)].count }
            }
            for (round, group) in ordered.enumerated() {
                touched.removeAll(keepingCapacity: true)
                for term in group {
                    let weight = idf(term)
                    let slots = postingSlots[Int(term)], weights = postingWeights[Int(term)]
                    for index in slots.indices {
                        let slot = Int(slots[index])
                        guard matched[slot] == UInt8(round) else { continue }
                        let value = weights[index] * weight
                        if best[slot] == 0 {
                            touched.append(Int32(slot))
                            best[slot] = max(value, .leastNonzeroMagnitude)
                        } else if value > best[slot] {
                            best[slot] = value
                        }
                    }
                }
                for slot in touched {
                    let s = Int(slot)
                    score[s] += best[s]
                    best[s] = 0
                    matched[s] = UInt8(round + 1)
                }
                if touched.isEmpty { break }
            }
            if touched.count > 0 {
                for slot in touched where matched[Int(slot)] == UInt8(ordered.count) { consider(slot, score: score[Int(slot)]) }
            }
        }

        var facets: [String: Int] = [:]
        if query.facets {
            for (index, count) in facetCounts.enumerated() where count > 0 { facets[categories[index]] = count }
        }
        let rows = heap.sorted()
        let hasMore = rows.count > query.limit
        return IndexResult(rows: Array(rows.prefix(query.limit)), hasMore: hasMore, facets: facets)
    }

    /// An unknown category matches nothing, but the facets still count the other categories.
    private func emptyWithFacets(_ query: IndexQuery) -> IndexResult {
        guard query.facets else { return IndexResult(rows: [], hasMore: false, facets: [:]) }
        var unfiltered = query
        unfiltered.category = nil
        unfiltered.limit = 0
        return IndexResult(rows: [], hasMore: false, facets: evaluate(unfiltered).facets)
    }
}

/// The best `capacity` (key, rowid) pairs seen, in sort order; the worst kept one sits on top.
struct TopHeap {
    let capacity: Int
    let descending: Bool
    private var items: [(key: Double, rowid: Int64)] = []

    init(capacity: Int, descending: Bool) {
        self.capacity = capacity
        self.descending = descending
        items.reserveCapacity(capacity)
    }

    /// Does `a` come before `b` in the result order?
    @inline(__always) private func precedes(_ a: (key: Double, rowid: Int64), _ b: (key: Double, rowid: Int64)) -> Bool {
        descending
            ? (a.key > b.key || (a.key == b.key && a.rowid > b.rowid))
            : (a.key < b.key || (a.key == b.key && a.rowid < b.rowid))
    }

    mutating func offer(key: Double, rowid: Int64) {
        guard capacity > 0 else { return }
        let item = (key: key, rowid: rowid)
        if items.count < capacity {
            items.append(item)
            siftUp(items.count - 1)
        } else if precedes(item, items[0]) {
            items[0] = item
            siftDown(0)
        }
    }

    func sorted() -> [(rowid: Int64, key: Double)] {
        items.sorted(by: precedes).map { (rowid: $0.rowid, key: $0.key) }
    }

    // A max-heap on "comes later": the root is the item that would be dropped first.
    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(items[parent], items[child]) else { return }
            items.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var latest = parent
            if left < items.count && precedes(items[latest], items[left]) { latest = left }
            if right < items.count && precedes(items[latest], items[right]) { latest = right }
            if latest == parent { return }
            items.swapAt(parent, latest)
            parent = latest
        }
    }
}
