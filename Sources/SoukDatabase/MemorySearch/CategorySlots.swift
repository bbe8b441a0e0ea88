/// Each category's slots: a bitset for a category holding a large share of the catalog (its
/// facet is then one AND and popcount pass), a list of slots for the others. Sellers name
/// categories freely, so a store may have thousands: a bitset each would cost catalog / 8 bytes
/// per category and a pass over the whole catalog per category in every search's facets
/// (3,000 categories at 100k products took a search from 0.08 to 7.5 ms).
struct CategorySlots {
    /// Per category: its slots as a bitset (no ranks: nothing asks a slot's position), or nil.
    private(set) var bits: [Bitset?] = []
    /// Per category without a bitset: its slots, ascending (removed ones included until the
    /// next rebuild, as everywhere in the index).
    private(set) var lists: [[Int32]] = []
    /// How many slots the lists hold together.
    private(set) var listedSlots = 0

    /// Adds `slot` (the newest) to `category`; a list that has reached `minimum` slots and
    /// `share` of the `slots` so far becomes a bitset.
    mutating func insert(_ slot: Int32, into category: Int32, slots: Int, share: Double, minimum: Int) {
        let c = Int(category)
        if c == lists.count {
            lists.append([])
            bits.append(nil)
        }
        if bits[c] != nil {
            bits[c]!.insert(Int(slot))
            return
        }
        lists[c].append(slot)
        listedSlots += 1
        if lists[c].count >= minimum, Double(lists[c].count) >= share * Double(slots) { makeBitset(c, capacity: slots) }
    }

    /// Once a load is complete: each category takes the form its final share calls for (one
    /// frequent early in the load may be rare in the end).
    mutating func settle(slots: Int, share: Double) {
        for c in lists.indices {
            if let set = bits[c] {
                if Double(set.count) >= share * Double(slots) {
                    bits[c]!.fit()  // it grew as slots arrived
                } else {
                    lists[c] = set.slots
                    listedSlots += lists[c].count
                    bits[c] = nil
                }
            } else if Double(lists[c].count) >= share * Double(slots) {
                makeBitset(c, capacity: slots)
            }
        }
    }

    private mutating func makeBitset(_ c: Int, capacity: Int) {
        var set = Bitset(capacity: capacity)
        for slot in lists[c] { set.insert(Int(slot)) }
        bits[c] = set
        listedSlots -= lists[c].count
        lists[c] = []
    }

    /// Keeps only `category`'s slots in `matches`.
    func intersect(_ matches: inout Bitset, with category: Int) {
        if let set = bits[category] { matches.formIntersection(set) } else { matches.formIntersection(slots: lists[category]) }
    }

    /// How many of `matches` (`matchCount` of them) each category holds, by category id. Few
    /// matches are counted one by one through `categoryOf`; otherwise a bitset's categories by
    /// popcount, and the listed ones by whichever is shorter, the matches or the lists.
    func counts(in matches: Bitset, matchCount: Int, categoryOf: [Int32]) -> [Int] {
        var counts = [Int](repeating: 0, count: lists.count)
        if matchCount <= matches.words.count {
            matches.forEach { counts[Int(categoryOf[$0])] += 1 }
            return counts
        }
        for (c, set) in bits.enumerated() {
            if let set { counts[c] = matches.intersectionCount(set) }
        }
        guard listedSlots > 0 else { return counts }
        if matchCount <= listedSlots {
            matches.forEach { slot in
                let c = Int(categoryOf[slot])
                if bits[c] == nil { counts[c] += 1 }
            }
        } else {
            for (c, list) in lists.enumerated() where !list.isEmpty {
                counts[c] = list.reduce(0) { $0 + (matches.contains(Int($1)) ? 1 : 0) }
            }
        }
        return counts
    }

    /// The memory its bitsets and lists take.
    var bytes: Int {
        bits.reduce(0) { $0 + ($1?.bytes ?? 0) } + lists.reduce(0) { $0 + $1.capacity } * MemoryLayout<Int32>.stride
    }
}
