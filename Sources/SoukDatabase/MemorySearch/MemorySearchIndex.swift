import Foundation

#if canImport(Glibc)
    import CMalloc
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
    /// One entry per query word: the words it may match (its other forms, or the completions of
    /// a prefix), the word as typed first; the others weigh `MemorySearchIndex.otherFormFactor`
    /// as much. Every entry is required.
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
/// (title ×10, summary ×4, description ×1, tags ×3, category ×2, seller ×2) plus a bonus for
/// words of the title.
///
/// Built so that a query's cost grows far slower than the catalog (see `evaluate`): frequent
/// words, categories, kinds and the listed products are bitsets, so matching and facet counts
/// are word-wide ANDs and popcounts; large postings lists are also kept in impact order (best
/// weight first) so the top of a relevance ranking is read from their heads; and the products
/// are kept sorted by every sort key, so browsing reads the first page off a sorted list.
///
/// Documents are append-only: an edited product gets a new slot and its old one is marked dead,
/// which keeps every postings list sorted by slot without moving memory. Reads share a lock;
/// changes take it exclusively.
final class MemorySearchIndex: @unchecked Sendable {
    static let fieldWeights: [Float] = [10, 4, 1, 3, 2, 2]
    /// Added to a word's weight in a product whose title holds it, so that products with every
    /// query word in the title rank first ("indie maker" finds "The Indie Maker's Handbook"
    /// before products that only mention both words often in their descriptions).
    static let titleBonus: Float = 50
    /// What a match on another form of a query word (plural, singular, a prefix's completion)
    /// counts for against the word as typed.
    static let otherFormFactor: Float = 0.6
    static let k1: Float = 1.2
    static let b: Float = 0.75

    /// Where the index switches between strategies; tests move the lines to exercise each path.
    struct Tuning {
        /// A word in at least this share of the slots also keeps a bitset of them.
        var denseShare = 1.0 / 32
        /// A word with at least this many postings also keeps them in impact order.
        var impactMinimum = 512
        /// Up to this many matches, score or sort them all instead of reading ranked lists.
        var directLimit = 2048
        /// A query of several words scores every match while that costs at most this many word
        /// lookups (matches × words): reading ranked lists stops early only when the words'
        /// best products overlap, which two unrelated words' seldom do.
        var directLookups = 600_000
        /// The threshold algorithm over several words gives up after reading this share of
        /// the lookups that scoring every match would take (see `evaluate`). A posting it
        /// reads costs about 1,000 times a lookup of `scoresBySlot` (measured at 1M products),
        /// so at worst a query takes about 1.3 times the full pass.
        var impactBudgetShare = 0.0003
        /// Past this many matches, scores are kept in an array indexed by slot (a pass over
        /// the catalog's size) rather than numbered among the matches.
        var slotScoresAbove = 65_536
        /// Read a sorted list only while it is expected to take fewer steps than this many times
        /// the number of matches.
        var walkFactor = 1.0
        /// Apply a seller, price or rating filter from its own list (the seller's slots, a range
        /// of the slots sorted by price or rating) while that list is shorter than this share of
        /// the matches; else test each match's column.
        var filterListShare = 1.0
        /// While loading, a word becomes a bitset once it has this many postings and is at
        /// least `denseShare` of the slots so far (see `makeDenseWhileLoading`).
        var loadDenseMinimum = 1024
        /// Distinct patterns of counts a load numbers (see `LoadingCounts`); tests lower it.
        var countPatterns = Int(LoadingCounts.escape)
    }

    let tuning: Tuning

    /// Heap-allocated: a pthread lock must not move, and a Swift property's address may.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t> = .allocate(capacity: 1)

    // Per slot.
    private(set) var rowids: [Int64] = []
    private var alive: [Bool] = []
    private(set) var categoryOf: [Int32] = []
    private(set) var kindOf: [Int32] = []
    private(set) var sellerOf: [Int32] = []
    private(set) var priceOf: [Int32] = []
    private(set) var ratingOf: [Float] = []
    private(set) var salesOf: [Int32] = []
    private(set) var publishedOf: [Double] = []
    private var slotOfRowID: [Int64: Int32] = [:]
    /// Alive slots whose seller is listed: what any search starts from.
    private(set) var live = Bitset(capacity: 0)

    private(set) var categories: [String] = []
    private(set) var categoryIDs: [String: Int32] = [:]
    private(set) var categorySlots = CategorySlots()
    private(set) var kinds: [String] = []
    private(set) var kindIDs: [String: Int32] = [:]
    private(set) var kindBits: [Bitset] = []
    private(set) var sellers: [String] = []
    private(set) var sellerIDs: [String: Int32] = [:]
    /// Per seller: their slots, ascending (removed ones included until the next rebuild).
    private(set) var sellerSlots: [[Int32]] = []
    private var sellerListed: [Bool] = []

    private(set) var termIDs: [String: Int32] = [:]
    private var termNames: [String] = []
    /// Per word: the slots it is in, ascending — empty for a frequent word, whose bitset holds
    /// them in an eighth of the space or less (a slot's rank in the bitset is its position).
    private(set) var postingSlots: [[Int32]] = []
    /// Per word: its weight in each of its slots, in slot order, as `StoredWeight`s: two bytes
    /// each, half the memory of a `Float` in the largest structure.
    private(set) var postingWeights: [[StoredWeight]] = []
    /// Per frequent word: its slots as a bitset (nil for the others), with ranks.
    private(set) var termBits: [Bitset?] = []
    /// Per large postings list, by weight descending, then rowid ascending: its slots for a
    /// word with a bitset, else positions into its postings.
    private(set) var impactOrder: [[Int32]?] = []
    /// Slots by (key, rowid) ascending, for each non-relevance sort key.
    private(set) var sortedSlots: [IndexQuery.Key: [Int32]] = [:]
    static let sortKeys: [IndexQuery.Key] = [.published, .price, .rating, .sales]

    /// Term ids sorted by name, for prefixes; rebuilt when new words arrive.
    private var sortedTerms: [Int32] = []
    private var sortedTermsValid = true
    /// Average field lengths, fixed when the index is built (BM25's length normalisation).
    private var averageLengths: [Float] = Array(repeating: 1, count: 6)
    /// While a rebuild loads products: per word, its counts in each slot, and per slot its six
    /// field lengths. Weights need the average lengths, known only at the end.
    private var loadingCounts: LoadingCounts?
    private var loadingLengths: [UInt16] = []
    private(set) var liveCount = 0
    /// Set by `retire`, cleared by `replace`.
    private var retired = false
    /// Slots of removed or replaced products, still in the postings until the next rebuild.
    var deadCount: Int { reading { rowids.count - liveCount } }

    init(tuning: Tuning = Tuning()) {
        self.tuning = tuning
        pthread_rwlock_init(lock, nil)
    }
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

    /// Replaces the whole index (start-up, tests).
    func rebuild(_ products: [IndexedProduct]) { rebuild { add in products.forEach(add) } }

    /// Replaces the whole index with the products `feed` hands to `add` (see `loaded`).
    func rebuild(_ feed: (_ add: (IndexedProduct) -> Void) throws -> Void) rethrows {
        replace(with: try Self.loaded(tuning: tuning, feed))
    }

    /// A new index of the products `feed` hands to `add`, one at a time, so the catalog never
    /// sits in memory as rows. Built aside: a live index answers searches meanwhile.
    static func loaded(tuning: Tuning, _ feed: (_ add: (IndexedProduct) -> Void) throws -> Void) rethrows -> MemorySearchIndex {
        let fresh = MemorySearchIndex(tuning: tuning)
        fresh.loadingCounts = LoadingCounts(limit: tuning.countPatterns)
        try feed { fresh.insert($0) }
        fresh.finishLoading()
        return fresh
    }

    /// Takes over what `fresh` holds (searches wait only for the swap), and hands the memory
    /// the old index and the load used back to the system.
    func replace(with fresh: MemorySearchIndex) {
        writing {
            adopt(fresh)
            retired = false
        }
        #if canImport(Glibc)
            // A load frees millions of small strings; glibc keeps their pages unless asked.
            malloc_trim(0)
        #endif
    }

    /// Weighs the loaded postings now that the average field lengths are known, then makes
    /// the derived structures.
    private func finishLoading() {
        guard var counts = loadingCounts else { return }
        loadingCounts = nil
        let slots = rowids.count
        var totals = [Double](repeating: 0, count: 6)
        for (offset, length) in loadingLengths.enumerated() { totals[offset % 6] += Double(length) }
        averageLengths = totals.map { Float(max(1, $0 / Double(max(1, slots)))) }
        let lengths = loadingLengths
        loadingLengths = []
        let averages = averageLengths
        for term in counts.terms {
            // Each word's counts go as soon as it is weighed, so the load's peak is not the
            // counts and the weights of every word at once.
            let ids = counts.take(term: term)
            var weights: [StoredWeight] = []
            weights.reserveCapacity(ids.count)
            func weigh(_ slot: Int) {
                let position = weights.count
                let wordCounts = counts.counts(ids[position], term: term, position: position)
                weights.append(StoredWeight(Self.weight(wordCounts, lengths[slot * 6..<slot * 6 + 6], averages)))
            }
            if let bits = termBits[term] {
                bits.forEach(weigh)
            } else {
                for slot in postingSlots[term] { weigh(Int(slot)) }
            }
            postingWeights[term] = weights
        }
        #if canImport(Glibc)
            // The counts' pages, before the derived structures take as much again.
            malloc_trim(0)
        #endif
        deriveStructures()
        sortedTermsValid = false
    }

    /// Lets every posting go while a replacement loads: a rebuild then holds one index in
    /// memory, not two (at 1M products the old one is about 360 MB). Until `replace`, `answer`
    /// gives nil, and the search is answered some other way (FTS5, see `MemorySearch`).
    func retire() {
        writing {
            adopt(MemorySearchIndex(tuning: tuning))
            retired = true
        }
        #if canImport(Glibc)
            malloc_trim(0)
        #endif
    }

    var isRetired: Bool { reading { retired } }

    /// Takes over everything `other` holds (a rebuild's result).
    private func adopt(_ other: MemorySearchIndex) {
        rowids = other.rowids; alive = other.alive; categoryOf = other.categoryOf; kindOf = other.kindOf
        sellerOf = other.sellerOf; priceOf = other.priceOf; ratingOf = other.ratingOf; salesOf = other.salesOf
        publishedOf = other.publishedOf; slotOfRowID = other.slotOfRowID; live = other.live
        categories = other.categories; categoryIDs = other.categoryIDs; categorySlots = other.categorySlots
        kinds = other.kinds; kindIDs = other.kindIDs; kindBits = other.kindBits
        sellers = other.sellers; sellerIDs = other.sellerIDs; sellerListed = other.sellerListed
        sellerSlots = other.sellerSlots
        termIDs = other.termIDs; termNames = other.termNames; postingSlots = other.postingSlots
        postingWeights = other.postingWeights; termBits = other.termBits; impactOrder = other.impactOrder
        sortedSlots = other.sortedSlots; averageLengths = other.averageLengths; liveCount = other.liveCount
        sortedTerms = []; sortedTermsValid = false
    }

    /// Adds or replaces one product; `nil` removes it (unpublished, archived).
    func upsert(rowid: Int64, _ product: IndexedProduct?) { apply([(rowid, product)]) }

    /// Applies several changes at once (a refresh's batch): each product replaced or removed,
    /// then the derived structures brought up to date in one pass (see `absorb`).
    func apply(_ changes: [(rowid: Int64, product: IndexedProduct?)]) {
        writing {
            let firstSlot = rowids.count
            let before = postingWeights.map(\.count)
            for (rowid, product) in changes {
                remove(rowid)
                if let product { insert(product) }
            }
            absorb(from: firstSlot, termCounts: before)
        }
    }

    /// A seller became listed or unlisted (verified, suspended, disabled…).
    func setSeller(_ sellerID: String, listed: Bool) {
        writing {
            guard let seller = sellerIDs[sellerID] else { return }
            // Always re-sync: an upsert in the same batch may already have changed the flag.
            relist(seller, listed)
        }
    }

    /// Sets a seller's standing and every alive slot of theirs in `live` to match.
    private func relist(_ seller: Int32, _ listed: Bool) {
        sellerListed[Int(seller)] = listed
        for slot in sellerSlots[Int(seller)].lazy.map(Int.init) where alive[slot] {
            if listed { live.insert(slot) } else { live.remove(slot) }
        }
    }

    private func remove(_ rowid: Int64) {
        guard let slot = slotOfRowID.removeValue(forKey: rowid) else { return }
        alive[Int(slot)] = false
        live.remove(Int(slot))
        liveCount -= 1
    }

    private func insert(_ product: IndexedProduct) {
        let slot = Int32(rowids.count)
        rowids.append(product.rowid)
        alive.append(true)
        let category: Int32 = intern(product.category, &categories, &categoryIDs)
        categorySlots.insert(slot, into: category, slots: Int(slot) + 1, share: tuning.denseShare, minimum: tuning.loadDenseMinimum)
        categoryOf.append(category)
        let kind: Int32 = intern(product.kind, &kinds, &kindIDs)
        if Int(kind) == kindBits.count { kindBits.append(Bitset(capacity: 0)) }
        kindBits[Int(kind)].insert(Int(slot))
        kindOf.append(kind)
        let seller: Int32 = intern(product.sellerID, &sellers, &sellerIDs)
        if Int(seller) == sellerListed.count {
            sellerListed.append(product.sellerListed)
            sellerSlots.append([])
        } else if sellerListed[Int(seller)] != product.sellerListed {
            // The product's row says the seller's standing changed: their other products follow.
            relist(seller, product.sellerListed)
        }
        sellerOf.append(seller)
        sellerSlots[Int(seller)].append(slot)
        priceOf.append(Int32(clamping: product.priceFloor))
        ratingOf.append(Float(product.rating))
        salesOf.append(Int32(clamping: product.sales))
        publishedOf.append(product.published)
        slotOfRowID[product.rowid] = slot
        if product.sellerListed { live.insert(Int(slot)) }
        liveCount += 1

        var words: [String: WordCounts] = [:]
        var lengths = [UInt16](repeating: 0, count: 6)
        for (field, text) in product.fields.enumerated() {
            var length = 0
            SearchText.words(text) { word in
                words[word, default: WordCounts()].add(field)
                length += 1
            }
            lengths[field] = UInt16(clamping: length)
        }
        if loadingCounts != nil { loadingLengths.append(contentsOf: lengths) }
        for (word, counts) in words {
            let term: Int32
            if let existing = termIDs[word] {
                term = existing
            } else {
                term = Int32(termNames.count)
                termIDs[word] = term
                termNames.append(word)
                postingSlots.append([])
                postingWeights.append([])
                loadingCounts?.addTerm()
                termBits.append(nil)
                impactOrder.append(nil)
                sortedTermsValid = false
            }
            let t = Int(term)
            if loadingCounts != nil {
                loadingCounts!.append(counts, term: t)
            } else {
                postingWeights[t].append(StoredWeight(Self.weight(counts, lengths[...], averageLengths)))
            }
            if termBits[t] != nil {
                termBits[t]!.insert(Int(slot))
            } else {
                postingSlots[t].append(slot)
                if loadingCounts != nil { makeDenseWhileLoading(t, slots: Int(slot) + 1) }
            }
        }
    }

    /// A load keeps a word that is frequent so far as a bitset (without ranks until the end)
    /// instead of a list of 4-byte slots: frequent words hold most of the word-product pairs,
    /// and the list of the most frequent would be eight times the bitset or more. `deriveStructures`
    /// settles each word's form against the final count.
    private func makeDenseWhileLoading(_ term: Int, slots: Int) {
        let count = postingSlots[term].count
        guard count >= tuning.loadDenseMinimum, Double(count) >= tuning.denseShare * Double(slots) else { return }
        termBits[term] = Self.bitset(postingSlots[term], capacity: slots, ranked: false)
        postingSlots[term] = []
    }

    /// A word's BM25 weight in a product, over its fields, plus the title bonus.
    private static func weight(_ counts: WordCounts, _ lengths: ArraySlice<UInt16>, _ averages: [Float]) -> Float {
        var weight: Float = 0
        for field in 0..<6 {
            let count = counts[field]
            guard count > 0 else { continue }
            let tf = Float(count), length = Float(lengths[lengths.startIndex + field])
            let norm = k1 * (1 - b + b * length / averages[field])
            weight += fieldWeights[field] * tf * (k1 + 1) / (tf + norm) + (field == 0 ? titleBonus : 0)
        }
        return weight
    }

    /// Brings the derived structures up to date with the slots appended since `firstSlot`. The
    /// new entries of each list are sorted, their places found by binary search in the old list
    /// (through a snapshot), and then inserted in place — so an edit costs a few binary searches
    /// and one memory move per list it touches. Words grown past the lines since the last rebuild
    /// get their bitset or impact order now.
    private func absorb(from firstSlot: Int, termCounts before: [Int]) {
        let slots = rowids.count
        guard slots > firstSlot else { return }
        var newlyDense: [(Int, Bitset, [Int32]?)] = []
        var newOrders: [(Int, [Int32])] = []
        var orderInserts: [(Int, Insertions)] = []
        var sortedInserts: [(IndexQuery.Key, Insertions)] = []
        do {
            // Read from a snapshot, written after it is gone (so no list is copied on write).
            let index = Snapshot(self)
            for term in postingWeights.indices {
                let old = term < before.count ? before[term] : 0
                let count = postingWeights[term].count
                guard count > old else { continue }
                let bits = index.termBits[term]
                if bits == nil, Double(count) >= tuning.denseShare * Double(slots) {
                    newlyDense.append(
                        (term, Self.bitset(postingSlots[term], capacity: slots),
                         count >= tuning.impactMinimum ? index.impactOrder(of: term).map { postingSlots[term][Int($0)] } : nil))
                    continue
                }
                if let order = index.impactOrder[term] {
                    // A word with a bitset lists slots (its new ones are past `firstSlot`), others positions.
                    let entries = bits.map { bits in (firstSlot..<slots).filter(bits.contains).map(Int32.init) }
                        ?? Array(Int32(old)..<Int32(count))
                    let added = entries.sorted { index.impactPrecedes(term, $0, Int($1)) }
                    orderInserts.append((term, Insertions(into: order, added) { index.impactPrecedes(term, $0, Int($1)) }))
                } else if count >= tuning.impactMinimum {
                    newOrders.append((term, index.impactOrder(of: term)))
                }
            }
            for key in Self.sortKeys {
                func precedes(_ a: Int32, _ b: Int32) -> Bool {
                    let va = index.sortValue(key, Int(a)), vb = index.sortValue(key, Int(b))
                    return va < vb || (va == vb && index.rowids[Int(a)] < index.rowids[Int(b)])
                }
                let added = (Int32(firstSlot)..<Int32(slots)).sorted(by: precedes)
                sortedInserts.append((key, Insertions(into: index.sortedSlots[key] ?? [], added, precedes)))
            }
        }
        for (term, bits, order) in newlyDense {
            termBits[term] = bits
            impactOrder[term] = order
            postingSlots[term] = []
        }
        for (term, order) in newOrders { impactOrder[term] = order }
        for (term, insertions) in orderInserts { insertions.apply(to: &impactOrder[term]!) }
        for (key, insertions) in sortedInserts { insertions.apply(to: &sortedSlots[key, default: []]) }
    }

    /// The bitsets of frequent words (which then drop their slot lists), the impact order of
    /// large lists and the sorted slots, made once the postings are complete.
    private func deriveStructures() {
        let slots = rowids.count
        for term in postingSlots.indices {
            if termBits[term] != nil {
                // Made a bitset while loading: kept if the word is still frequent, else listed.
                let count = postingWeights[term].count
                let order = count >= tuning.impactMinimum ? Self.impactOrder(postingWeights[term]) : nil
                if Double(count) >= tuning.denseShare * Double(slots) {
                    termBits[term]!.fit()  // it grew as slots arrived
                    termBits[term]!.buildRanks()
                    if let order {
                        let listed = termBits[term]!.slots
                        impactOrder[term] = order.map { listed[Int($0)] }
                    }
                } else {
                    postingSlots[term] = termBits[term]!.slots
                    termBits[term] = nil
                    impactOrder[term] = order
                }
                continue
            }
            let postings = postingSlots[term]
            // Slots are in rowid order here (the rebuild reads products by search_id), so
            // positions break weight ties by rowid.
            let order = postings.count >= tuning.impactMinimum ? Self.impactOrder(postingWeights[term]) : nil
            if Double(postings.count) >= tuning.denseShare * Double(slots) {
                termBits[term] = Self.bitset(postings, capacity: slots)
                impactOrder[term] = order?.map { postings[Int($0)] }
                postingSlots[term] = []
            } else {
                impactOrder[term] = order
            }
        }
        categorySlots.settle(slots: slots, share: tuning.denseShare)
        // A stable sort by key alone gives the (key, rowid) order, for the same reason.
        let snapshot = Snapshot(self)
        for key in Self.sortKeys {
            let values = (0..<slots).map { snapshot.sortValue(key, $0) }
            sortedSlots[key] = (0..<Int32(slots)).sorted { values[Int($0)] < values[Int($1)] || (values[Int($0)] == values[Int($1)] && $0 < $1) }
        }
    }

    private static func bitset(_ postings: [Int32], capacity: Int, ranked: Bool = true) -> Bitset {
        var bits = Bitset(capacity: capacity)
        for slot in postings { bits.insert(Int(slot)) }
        if ranked { bits.buildRanks() }
        return bits
    }

    /// Positions of a postings list by weight descending, then position (= rowid at build time).
    static func impactOrder(_ weights: [StoredWeight]) -> [Int32] {
        // Pack (inverted weight, position) in one integer and sort those — several times faster
        // than a comparator over 1M entries.
        var keys = weights.enumerated().map { UInt64(~$1.units) << 32 | UInt64($0) }
        keys.sort()
        return keys.map { Int32(truncatingIfNeeded: $0 & 0xFFFF_FFFF) }
    }

    private func intern<ID: FixedWidthInteger>(_ value: String, _ names: inout [String], _ ids: inout [String: ID]) -> ID {
        if let id = ids[value] { return id }
        let id = ID(names.count)
        names.append(value)
        ids[value] = id
        return id
    }

    /// About how much memory the index holds, by what holds it (for the log and the tests;
    /// dictionaries and strings are counted by their entries alone).
    var footprint: Footprint {
        reading {
            func bytes<T>(_ lists: [[T]]) -> Int { lists.reduce(0) { $0 + $1.capacity } * MemoryLayout<T>.stride }
            let perSlot = rowids.capacity * 8 + alive.capacity + (categoryOf.capacity + kindOf.capacity + sellerOf.capacity
                + priceOf.capacity + ratingOf.capacity + salesOf.capacity) * 4 + publishedOf.capacity * 8
                + slotOfRowID.capacity * 12 + live.bytes + sortedSlots.values.reduce(0) { $0 + $1.capacity * 4 }
                + bytes(sellerSlots) + categorySlots.bytes
            return Footprint(
                products: liveCount, postings: postingWeights.reduce(0) { $0 + $1.count }, slots: perSlot, postingSlots: bytes(postingSlots),
                postingWeights: bytes(postingWeights), impactOrder: bytes(impactOrder.compactMap { $0 }),
                bitsets: (termBits.compactMap { $0 } + kindBits).reduce(0) { $0 + $1.bytes })
        }
    }

    struct Footprint {
        /// Products in the index (removed ones not counted) and word-product pairs.
        var products: Int
        var postings: Int
        var slots: Int
        var postingSlots: Int
        var postingWeights: Int
        var impactOrder: Int
        var bitsets: Int
        var total: Int { slots + postingSlots + postingWeights + impactOrder + bitsets }
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

    /// `run`, or nil while the index is retired (checked under the same lock as the swap, so a
    /// search never reads a retired index as an empty catalog).
    func answer(_ query: IndexQuery) -> IndexResult? {
        reading { retired ? nil : evaluate(query) }
    }
}

/// A word's weight in a product, in 1/512ths (a posting's weight is at most about 100): an
/// integer converts to a `Float` in one instruction, where a `Float16` needs a library call on
/// x86-64 without F16C, and the hot loops convert one per posting they read.
struct StoredWeight: Equatable {
    static let scale: Float = 512
    let units: UInt16

    /// Rounded to the nearest unit; never 0 (a posting always weighs something).
    init(_ weight: Float) {
        units = UInt16(clamping: max(1, Int((weight * Self.scale).rounded())))
    }

    @inline(__always) var value: Float { Float(units) * (1 / Self.scale) }
}

/// How often a word appears in each of a product's six fields, five bits each (counts past 31
/// add next to nothing to a BM25 weight, which saturates).
struct WordCounts {
    private(set) var packed: UInt32 = 0

    init(packed: UInt32 = 0) { self.packed = packed }

    subscript(field: Int) -> UInt32 { packed >> UInt32(5 * field) & 31 }

    mutating func add(_ field: Int) {
        if self[field] < 31 { packed += 1 << UInt32(5 * field) }
    }
}

/// New entries for a sorted list and where each goes, found before the list is changed.
struct Insertions {
    let added: [Int32]
    let positions: [Int]

    /// `added` and `list` are both sorted by `precedes`.
    init(into list: [Int32], _ added: [Int32], _ precedes: (Int32, Int32) -> Bool) {
        self.added = added
        positions = added.map { entry in partition(list) { !precedes($0, entry) } }
    }

    func apply(to list: inout [Int32]) {
        if added.count <= 16 {
            // From the last: an insert never shifts the places of those still to come.
            for (entry, position) in zip(added, positions).reversed() { list.insert(entry, at: position) }
        } else {
            var merged: [Int32] = []
            merged.reserveCapacity(list.count + added.count)
            var from = 0
            for (entry, position) in zip(added, positions) {
                merged.append(contentsOf: list[from..<position])
                merged.append(entry)
                from = position
            }
            merged.append(contentsOf: list[from...])
            list = merged
        }
    }
}

/// The first index of `items` for which `isAfter` holds, given that it holds for a suffix.
func partition<T>(_ items: [T], _ isAfter: (T) -> Bool) -> Int {
    var low = 0, high = items.count
    while low < high {
        let mid = (low + high) / 2
        if isAfter(items[mid]) { high = mid } else { low = mid + 1 }
    }
    return low
}
