import Foundation

/// Answering a query. The work is arranged so its cost follows the page asked for, not the
/// catalog:
///
/// 1. **Matches** are a bitset: the listed products, ANDed with the kind, the seller, the price
///    and rating bounds, and one bitset per query word (a prefix ORs its completions).
/// 2. **Facets** count the matches per category: one popcount pass per category.
/// 3. **The page** comes from whichever is cheapest: ranked lists read from their heads (impact
///    order for relevance, the sorted slots for other sorts) until the page is full and nothing
///    unread can still enter it; or, for a few thousand matches or fewer, scoring them all.
extension MemorySearchIndex {
    func evaluate(_ query: IndexQuery) -> IndexResult { Snapshot(self).evaluate(query) }

    /// What a query reads, taken once under the read lock as plain constants: the hot loops
    /// then index arrays directly, without the exclusivity checks and reference counting that
    /// every read of a class's stored property costs.
    struct Snapshot {
        let tuning: Tuning
        let rowids: [Int64], sellerOf: [Int32], priceOf: [Int32], ratingOf: [Float], salesOf: [Int32]
        let publishedOf: [Double]
        let live: Bitset
        let categories: [String], categoryIDs: [String: Int32], categorySlots: CategorySlots, categoryOf: [Int32]
        let kindIDs: [String: Int32], kindBits: [Bitset], sellerIDs: [String: Int32], sellerSlots: [[Int32]]
        let termIDs: [String: Int32], postingSlots: [[Int32]], postingWeights: [[StoredWeight]], termBits: [Bitset?]
        let impactOrder: [[Int32]?], sortedSlots: [IndexQuery.Key: [Int32]]
        let liveCount: Int

        init(_ index: MemorySearchIndex) {
            tuning = index.tuning
            rowids = index.rowids; sellerOf = index.sellerOf; priceOf = index.priceOf; ratingOf = index.ratingOf
            salesOf = index.salesOf; publishedOf = index.publishedOf; live = index.live
            categories = index.categories; categoryIDs = index.categoryIDs; categorySlots = index.categorySlots
            categoryOf = index.categoryOf
            kindIDs = index.kindIDs; kindBits = index.kindBits; sellerIDs = index.sellerIDs; sellerSlots = index.sellerSlots
            termIDs = index.termIDs; postingSlots = index.postingSlots; postingWeights = index.postingWeights
            termBits = index.termBits; impactOrder = index.impactOrder; sortedSlots = index.sortedSlots
            liveCount = index.liveCount
        }

        @inline(__always) func sortValue(_ key: IndexQuery.Key, _ slot: Int) -> Double {
            switch key {
            case .relevance: 0
            case .published: publishedOf[slot]
            case .price: Double(priceOf[slot])
            case .rating: Double(ratingOf[slot])
            case .sales: Double(salesOf[slot])
            }
        }

        /// Word `term`'s impact order (see `MemorySearchIndex.impactOrder`), sorted now: each
        /// entry's weight and rowid read once, so comparing two is comparing plain values.
        func impactOrder(of term: Int) -> [Int32] {
            let weights = postingWeights[term]
            var entries: [(weight: Float, rowid: Int64, entry: Int32)] = []
            entries.reserveCapacity(weights.count)
            if let bits = termBits[term] {
                // A bitset lists its slots in order: the n-th is the n-th weight.
                var position = 0
                bits.forEach { slot in
                    entries.append((weights[position].value, rowids[slot], Int32(slot)))
                    position += 1
                }
            } else {
                for (position, slot) in postingSlots[term].enumerated() {
                    entries.append((weights[position].value, rowids[Int(slot)], Int32(position)))
                }
            }
            entries.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.rowid < $1.rowid) }
            return entries.map(\.entry)
        }

        /// The slot and weight of entry `entry` of word `term`'s impact order: a slot for a word
        /// with a bitset, else a position in its postings.
        @inline(__always) func posting(_ term: Int, _ entry: Int) -> (slot: Int, weight: Float) {
            if let bits = termBits[term] { return (entry, postingWeights[term][bits.rank(entry)].value) }
            return (Int(postingSlots[term][entry]), postingWeights[term][entry].value)
        }

        /// Does entry `a` of word `term`'s impact order come before entry `b`?
        @inline(__always) func impactPrecedes(_ term: Int, _ a: Int32, _ b: Int) -> Bool {
            let (sa, wa) = posting(term, Int(a)), (sb, wb) = posting(term, b)
            return wa > wb || (wa == wb && rowids[sa] < rowids[sb])
        }

        /// How many slots word `term` is in (removed ones included until the next rebuild).
        @inline(__always) func postingCount(_ term: Int) -> Int { postingWeights[term].count }
    }
}

extension MemorySearchIndex.Snapshot {
    func evaluate(_ query: IndexQuery) -> IndexResult {
        let empty = IndexResult(rows: [], hasMore: false, facets: [:])
        // Each known word with its factor: full for the word as typed, less for its other forms.
        let weighted = query.groups.map { group in
            group.enumerated().compactMap { position, word in
                termIDs[word].map { (term: $0, factor: position == 0 ? 1 : MemorySearchIndex.otherFormFactor) }
            }
        }
        let groups = weighted.map { $0.map(\.term) }
        if groups.contains(where: \.isEmpty) { return empty }
        let categoryFilter: Int32?? = query.category.map { categoryIDs[$0] }
        if case .some(.none) = categoryFilter { return emptyWithFacets(query) }

        guard var matches = listedOfKind(query) else { return empty }
        let documentCount = Float(max(1, liveCount))
        let idf = weighted.map { $0.map { inverseDocumentFrequency($0.term, documentCount) * $0.factor } }
        // Rarest group first: the bitset shrinks soonest.
        for group in groups.sorted(by: { postings($0) < postings($1) }) {
            if group.count == 1, let bits = termBits[Int(group[0])] {
                matches.formIntersection(bits)
            } else {
                var union = Bitset(capacity: rowids.count)
                for term in group {
                    if let bits = termBits[Int(term)] {
                        union.formUnion(bits)
                    } else {
                        for slot in postingSlots[Int(term)] { union.insert(Int(slot)) }
                    }
                }
                matches.formIntersection(union)
            }
        }
        // The filters that test a column slot by slot come last: they skip the words (64 slots)
        // the query's words have already emptied.
        guard filterColumns(&matches, query) else { return empty }

        var facets: [String: Int] = [:]
        if query.facets {
            let counts = categorySlots.counts(in: matches, matchCount: matches.count, categoryOf: categoryOf)
            for (category, count) in counts.enumerated() where count > 0 { facets[categories[category]] = count }
        }
        if case .some(.some(let category)) = categoryFilter { categorySlots.intersect(&matches, with: Int(category)) }

        let total = matches.count
        let wanted = query.limit + 1  // one more than the page says whether another follows
        var rows: [(rowid: Int64, key: Double)]
        if total == 0 {
            rows = []
        } else if query.key == .relevance {
            let lookups = total * groups.reduce(0) { $0 + $1.count }
            let direct = groups.isEmpty || total <= tuning.directLimit
                || (groups.count > 1 && lookups <= tuning.directLookups)
            // The threshold algorithm reads postings until nothing unread can enter the page.
            // When the words' weights are much alike (words in nearly every product), that is
            // most of them, each read dearer than a pass that scores every match: past its
            // budget it gives up, and every match is scored.
            let allowance = groups.count == 1 ? .infinity : Double(lookups) * tuning.impactBudgetShare
            let budget = allowance < Double(Int.max / 2) ? Int(allowance) : Int.max
            if !direct, let ranked = topByImpact(matches, groups, idf, query, wanted, budget: budget) {
                rows = ranked
            } else if total > tuning.slotScoresAbove {
                let scores = scoresBySlot(matches, groups, idf)
                rows = topOfAll(matches, query, wanted) { slot, _ in -Double(scores[slot]) }
            } else {
                rows = topOfAll(matches, query, wanted, key: Self.byOrdinal(scoresOfAll(matches, groups, idf)))
            }
        } else {
            // Reading the sorted slots visits about wanted × slots / total entries.
            let expectedSteps = Double(wanted) * Double(rowids.count) / Double(total)
            rows = total > tuning.directLimit && expectedSteps <= tuning.walkFactor * Double(total)
                ? topBySortedSlots(matches, query, wanted)
                : topOfAll(matches, query, wanted) { slot, _ in self.sortValue(query.key, slot) }
        }
        let hasMore = rows.count > query.limit
        return IndexResult(rows: Array(rows.prefix(query.limit)), hasMore: hasMore, facets: facets)
    }

    /// The listed products of the query's kind (nil for a kind no product has).
    private func listedOfKind(_ query: IndexQuery) -> Bitset? {
        var matches = live
        if let kind = query.kind {
            guard let id = kindIDs[kind] else { return nil }
            matches.formIntersection(kindBits[Int(id)])
        }
        return matches
    }

    /// Keeps the matches that pass the seller, price and rating filters; false for a seller
    /// with no product. With the kind and the words, every filter but the category: the facets
    /// count across these matches.
    ///
    /// Each filter either tests the column of every remaining match, or, when that is shorter,
    /// reads its own list: the seller's slots, or the run of the slots sorted by price (rating)
    /// that the bounds cut out. Browsing one seller's products among a million then costs their
    /// number, not the catalog's.
    private func filterColumns(_ matches: inout Bitset, _ query: IndexQuery) -> Bool {
        /// Keeps the matches in `list` when it is shorter than `filterListShare` of the matches,
        /// else the matches whose value in `column` passes `test`.
        func keep<Value>(list: ArraySlice<Int32>?, column: [Value], _ test: (Value) -> Bool) {
            if let list, Double(list.count) < tuning.filterListShare * Double(matches.count) {
                matches.formIntersection(slots: list)
                return
            }
            column.withUnsafeBufferPointer { column in
                matches.filterWords { word in Self.mask(word, column.count) { test(column[$0]) } }
            }
        }
        /// The run of the slots sorted by `key` whose values pass `isAtLeastLow` and fail
        /// `isAboveHigh`; nil unless the sorted list covers every slot.
        func run(_ key: IndexQuery.Key, _ isAtLeastLow: (Int) -> Bool, _ isAboveHigh: (Int) -> Bool) -> ArraySlice<Int32>? {
            guard let sorted = sortedSlots[key], sorted.count == rowids.count else { return nil }
            let low = partition(sorted) { isAtLeastLow(Int($0)) }
            return sorted[low..<max(low, partition(sorted) { isAboveHigh(Int($0)) })]
        }
        if let sellerID = query.sellerID {
            guard let seller = sellerIDs[sellerID] else { return false }
            keep(list: sellerSlots[Int(seller)][...], column: sellerOf) { $0 == seller }
        }
        let minPrice = query.minPrice.map { Int32(clamping: $0) } ?? Int32.min
        let maxPrice = query.freeOnly ? 0 : (query.maxPrice.map { Int32(clamping: $0) } ?? Int32.max)
        if minPrice != Int32.min || maxPrice != Int32.max {
            let prices = run(.price, { priceOf[$0] >= minPrice }, { priceOf[$0] > maxPrice })
            keep(list: prices, column: priceOf) { $0 >= minPrice && $0 <= maxPrice }
        }
        if let minRating = query.minRating.map(Float.init) {
            let ratings = run(.rating, { ratingOf[$0] >= minRating }, { _ in false })
            keep(list: ratings, column: ratingOf) { $0 >= minRating }
        }
        return true
    }

    /// The bits of word `word` (64 slots) whose slot passes `test`, without a branch per slot.
    @inline(__always) private static func mask(_ word: Int, _ count: Int, _ test: (Int) -> Bool) -> UInt64 {
        let first = word << 6
        var mask: UInt64 = 0
        for bit in 0..<min(64, count - first) { mask |= UInt64(test(first + bit) ? 1 : 0) << UInt64(bit) }
        return mask
    }

    private func postings(_ group: [Int32]) -> Int { group.reduce(0) { $0 + postingCount(Int($1)) } }

    private func inverseDocumentFrequency(_ term: Int32, _ documentCount: Float) -> Float {
        // Postings may still hold dead slots; never let that push the weight to zero or below.
        let n = min(Float(postingCount(Int(term))), documentCount)
        return max(0.01, log(1 + (documentCount - n + 0.5) / (n + 0.5)))
    }

    /// Word `term`'s weight in `slot` (0 if absent).
    private func weight(_ term: Int32, _ slot: Int) -> Float {
        let t = Int(term)
        if let bits = termBits[t] { return bits.contains(slot) ? postingWeights[t][bits.rank(slot)].value : 0 }
        let slots = postingSlots[t]
        let position = partition(slots) { Int($0) >= slot }
        return position < slots.count && Int(slots[position]) == slot ? postingWeights[t][position].value : 0
    }

    /// A product's relevance: per query word (group) the best of its words' weights, added up.
    private func score(_ slot: Int, _ groups: [[Int32]], _ idf: [[Float]]) -> Float {
        var total: Float = 0
        for (group, weights) in zip(groups, idf) {
            var best: Float = 0
            for (term, idf) in zip(group, weights) { best = max(best, weight(term, slot) * idf) }
            total += best
        }
        return total
    }

    /// Does (key, rowid) come after the cursor in the query's order?
    @inline(__always) private func isAfterCursor(_ query: IndexQuery, _ key: Double, _ rowid: Int64) -> Bool {
        guard let after = query.after else { return true }
        return query.descending
            ? (key < after.key || (key == after.key && rowid < after.rowid))
            : (key > after.key || (key == after.key && rowid > after.rowid))
    }

    /// Few matches: compute every match's key and keep the best with a bounded heap. `key` gets
    /// the slot and its ordinal among the matches.
    private func topOfAll(
        _ matches: Bitset, _ query: IndexQuery, _ wanted: Int, key: (Int, Int) -> Double
    ) -> [(rowid: Int64, key: Double)] {
        var heap = TopHeap(capacity: wanted, descending: query.descending)
        var ordinal = 0
        matches.forEach { slot in
            let value = key(slot, ordinal), rowid = rowids[slot]
            ordinal += 1
            if isAfterCursor(query, value, rowid) { heap.offer(key: value, rowid: rowid) }
        }
        return heap.sorted()
    }

    private static func byOrdinal(_ scores: [Float]) -> (Int, Int) -> Double {
        { _, ordinal in -Double(scores[ordinal]) }
    }

    /// Every match's relevance, in slot order, a word at a time: each query word's postings
    /// meet the matches in one AND (or one pass over a short list), so a match costs a lookup
    /// only for the words it contains. Same arithmetic as `score`, so both rank alike.
    private func scoresOfAll(_ matches: Bitset, _ groups: [[Int32]], _ idf: [[Float]]) -> [Float] {
        var ordinals = matches
        ordinals.buildRanks()
        let count = matches.count
        var scores = [Float](repeating: 0, count: count)
        var best = [Float](repeating: 0, count: count)
        for (group, weights) in zip(groups, idf) {
            for (term, idf) in zip(group, weights) {
                let t = Int(term), termWeights = postingWeights[t]
                if let bits = termBits[t] {
                    var both = matches
                    both.formIntersection(bits)
                    both.forEach { slot in
                        let value = termWeights[bits.rank(slot)].value * idf, ordinal = ordinals.rank(slot)
                        if value > best[ordinal] { best[ordinal] = value }
                    }
                } else {
                    for (position, slot) in postingSlots[t].enumerated() where matches.contains(Int(slot)) {
                        let value = termWeights[position].value * idf, ordinal = ordinals.rank(Int(slot))
                        if value > best[ordinal] { best[ordinal] = value }
                    }
                }
            }
            for ordinal in 0..<count {
                scores[ordinal] += best[ordinal]
                best[ordinal] = 0
            }
        }
        return scores
    }

    /// Every match's relevance for many matches, in an array indexed by slot: no match is
    /// numbered (`scoresOfAll` ranks each one), and a word's weight is found by counting the
    /// word's bits as the pass goes rather than by a rank lookup. Same arithmetic as `score`.
    private func scoresBySlot(_ matches: Bitset, _ groups: [[Int32]], _ idf: [[Float]]) -> [Float] {
        var scores = [Float](repeating: 0, count: rowids.count)
        // A group of several words (a prefix's completions) keeps its best weight per product.
        var best = groups.contains { $0.count > 1 } ? [Float](repeating: 0, count: rowids.count) : []
        scores.withUnsafeMutableBufferPointer { scores in
            best.withUnsafeMutableBufferPointer { best in
                for (group, weights) in zip(groups, idf) {
                    let single = group.count == 1
                    for (term, idf) in zip(group, weights) {
                        let t = Int(term)
                        postingWeights[t].withUnsafeBufferPointer { termWeights in
                            @inline(__always) func note(_ slot: Int, _ position: Int) {
                                let value = termWeights[position].value * idf
                                if single { scores[slot] += value } else if value > best[slot] { best[slot] = value }
                            }
                            if let bits = termBits[t] {
                                matches.words.withUnsafeBufferPointer { mine in
                                    bits.words.withUnsafeBufferPointer { theirs in
                                        var position = 0  // the word's postings before this 64-slot word
                                        for index in 0..<min(mine.count, theirs.count) {
                                            let word = theirs[index]
                                            var both = word & mine[index]
                                            if both == ~0 {
                                                // All 64 products match and hold the word (words in nearly
                                                // every product): their weights are consecutive, a loop the
                                                // compiler vectorises.
                                                let first = index << 6
                                                if single {
                                                    for offset in 0..<64 { scores[first + offset] += termWeights[position + offset].value * idf }
                                                } else {
                                                    for offset in 0..<64 {
                                                        best[first + offset] = max(best[first + offset], termWeights[position + offset].value * idf)
                                                    }
                                                }
                                                both = 0
                                            }
                                            while both != 0 {
                                                let bit = both.trailingZeroBitCount
                                                note(index << 6 | bit, position + (word & ((1 << UInt64(bit)) - 1)).nonzeroBitCount)
                                                both &= both - 1
                                            }
                                            position += word.nonzeroBitCount
                                        }
                                    }
                                }
                            } else {
                                for (position, slot) in postingSlots[t].enumerated() where matches.contains(Int(slot)) {
                                    note(Int(slot), position)
                                }
                            }
                        }
                    }
                    if !single {
                        matches.forEach { slot in
                            scores[slot] += best[slot]
                            best[slot] = 0
                        }
                    }
                }
            }
        }
        return scores
    }

    /// A non-relevance sort over many matches: read the slots sorted by that key from the
    /// cursor on, keeping matches, until the page is full.
    private func topBySortedSlots(_ matches: Bitset, _ query: IndexQuery, _ wanted: Int) -> [(rowid: Int64, key: Double)] {
        guard let sorted = sortedSlots[query.key] else { return [] }
        var rows: [(rowid: Int64, key: Double)] = []
        func take(_ slot: Int32) -> Bool {
            let s = Int(slot)
            if matches.contains(s) { rows.append((rowids[s], sortValue(query.key, s))) }
            return rows.count < wanted
        }
        if query.descending {
            var index = sorted.count - 1
            if let after = query.after {
                // Last entry before the cursor in ascending order.
                index = partition(sorted) { slot in
                    let value = sortValue(query.key, Int(slot))
                    return value > after.key || (value == after.key && rowids[Int(slot)] >= after.rowid)
                } - 1
            }
            while index >= 0, take(sorted[index]) { index -= 1 }
        } else {
            var index = 0
            if let after = query.after {
                index = partition(sorted) { slot in
                    let value = sortValue(query.key, Int(slot))
                    return value > after.key || (value == after.key && rowids[Int(slot)] > after.rowid)
                }
            }
            while index < sorted.count, take(sorted[index]) { index += 1 }
        }
        return rows
    }

    /// Relevance over many matches (Fagin's threshold algorithm): read each query word's
    /// postings best-first; score every new match in full; stop once the page is full and its
    /// last entry beats the best score a product not yet read could still reach (the sum of the
    /// weights each word's list has come down to). Nil once it has read `budget` postings
    /// without finishing.
    private func topByImpact(
        _ matches: Bitset, _ groups: [[Int32]], _ idf: [[Float]], _ query: IndexQuery, _ wanted: Int, budget: Int
    ) -> [(rowid: Int64, key: Double)]? {
        var streams = zip(groups, idf).map { ImpactStream(index: self, terms: $0, idf: $1) }
        var frontier = [Float](repeating: .infinity, count: streams.count)
        var seen = Set<Int32>()
        var heap = TopHeap(capacity: wanted, descending: false)
        var read = 0
        reading: while true {
            if read > budget { return nil }
            read += streams.count
            for index in streams.indices {
                // A list read to its end has shown every match (each match is in every list).
                guard let (slot, value) = streams[index].next() else { break reading }
                frontier[index] = value
                guard matches.contains(Int(slot)), seen.insert(slot).inserted else { continue }
                // With one word the list's weight is the score: a product's first entry is its best.
                let full = streams.count == 1 ? value : score(Int(slot), groups, idf)
                let key = -Double(full), rowid = rowids[Int(slot)]
                if isAfterCursor(query, key, rowid) { heap.offer(key: key, rowid: rowid) }
            }
            // Summed in the same order as `score`, so rounding cannot put a bound below a score.
            let bound = frontier.reduce(Float(0), +)
            if heap.isFull, let last = heap.last, -last.key > Double(bound) { break }
        }
        return heap.sorted()
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

/// One query word's postings best-first: a merge of its words' impact orders (several words for
/// a prefix), by weight × idf descending, then rowid ascending.
private struct ImpactStream {
    private struct Head {
        var term: Int
        var position: Int
        var value: Float
        var rowid: Int64
    }
    /// One word's lists, taken out of the snapshot once (not per posting read).
    private struct Member {
        let order: [Int32]
        let bits: Bitset?
        let slots: [Int32]
        let weights: [StoredWeight]
        let idf: Float

        /// The slot and weight of the entry at `position` of the impact order.
        @inline(__always) func posting(_ position: Int) -> (slot: Int, weight: Float) {
            let entry = Int(order[position])
            if let bits { return (entry, weights[bits.rank(entry)].value) }
            return (Int(slots[entry]), weights[entry].value)
        }
    }
    private let rowids: [Int64]
    private let members: [Member]
    private var heads: [Head] = []

    init(index: MemorySearchIndex.Snapshot, terms: [Int32], idf: [Float]) {
        rowids = index.rowids
        members = zip(terms.map(Int.init), idf).map { term, idf in
            // Small lists have no stored impact order: sorting them here is cheap.
            Member(
                order: index.impactOrder[term] ?? index.impactOrder(of: term), bits: index.termBits[term],
                slots: index.postingSlots[term], weights: index.postingWeights[term], idf: idf)
        }
        for member in members.indices { push(member, 0) }
    }

    private mutating func push(_ member: Int, _ position: Int) {
        guard position < members[member].order.count else { return }
        let (slot, weight) = members[member].posting(position)
        heads.append(Head(term: member, position: position, value: weight * members[member].idf, rowid: rowids[slot]))
        var child = heads.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heads[child], heads[parent]) else { break }
            heads.swapAt(child, parent)
            child = parent
        }
    }

    @inline(__always) private static func precedes(_ a: Head, _ b: Head) -> Bool {
        a.value > b.value || (a.value == b.value && a.rowid < b.rowid)
    }

    /// The next posting (slot, weight × idf), or nil when every list is read.
    mutating func next() -> (Int32, Float)? {
        guard let top = heads.first else { return nil }
        let slot = Int32(members[top.term].posting(top.position).slot)
        // Replace the head with the next entry of the same list (or the last head), then sift.
        let last = heads.removeLast()
        if !heads.isEmpty {
            heads[0] = last
            siftDown()
        }
        push(top.term, top.position + 1)
        return (slot, top.value)
    }

    private mutating func siftDown() {
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < heads.count && Self.precedes(heads[left], heads[first]) { first = left }
            if right < heads.count && Self.precedes(heads[right], heads[first]) { first = right }
            if first == parent { return }
            heads.swapAt(parent, first)
            parent = first
        }
    }
}
