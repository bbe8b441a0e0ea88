/// A set of index slots, one bit each. Matching a query against a whole catalog becomes a few
/// word-wide ANDs, and counting a facet a popcount, instead of a branch per product: the cost
/// of a frequent word no longer grows with the number of products it is in, only with the
/// catalog's size divided by 64.
struct Bitset: Sendable {
    private(set) var words: [UInt64]
    /// With `buildRanks()`: the number of slots in the set before each block of 8 words, so
    /// `rank` (a slot's position among the set's slots) costs at most 8 popcounts.
    private var ranks: [UInt32] = []

    init(capacity: Int, filled: Bool = false) {
        let count = (capacity + 63) / 64
        words = Array(repeating: filled ? ~0 : 0, count: count)
        if filled, capacity % 64 != 0 { words[count - 1] = (1 << UInt64(capacity % 64)) - 1 }
    }

    @inline(__always) func contains(_ slot: Int) -> Bool {
        let word = slot >> 6
        return word < words.count && words[word] & (1 << UInt64(slot & 63)) != 0
    }

    mutating func insert(_ slot: Int) {
        let word = slot >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(slot & 63)
        if !ranks.isEmpty { updateRanks(after: word >> 3) }
    }

    /// Lets go of the spare capacity inserts past the end left (an array grows by doubling).
    mutating func fit() {
        guard words.capacity > words.count else { return }
        var exact: [UInt64] = []
        exact.reserveCapacity(words.count)
        exact.append(contentsOf: words)
        words = exact
    }

    mutating func buildRanks() {
        ranks = [0]
        updateRanks(after: 0)
    }

    /// Recounts the rank entries of the blocks after `block` (an insert at the end touches none
    /// or one) and adds entries for new blocks.
    private mutating func updateRanks(after block: Int) {
        let blocks = (words.count + 7) / 8
        var next = min(block + 1, ranks.count)
        if ranks.count < blocks { ranks.append(contentsOf: repeatElement(0, count: blocks - ranks.count)) }
        while next < blocks {
            var total = ranks[next - 1]
            for word in (next - 1) * 8..<next * 8 { total += UInt32(words[word].nonzeroBitCount) }
            ranks[next] = total
            next += 1
        }
    }

    /// How many slots of the set come before `slot` (needs `buildRanks()`).
    @inline(__always) func rank(_ slot: Int) -> Int {
        let word = slot >> 6, block = word >> 3
        var total = Int(ranks[block])
        for earlier in block << 3..<word { total += words[earlier].nonzeroBitCount }
        return total + (words[word] & ((1 << UInt64(slot & 63)) - 1)).nonzeroBitCount
    }

    mutating func remove(_ slot: Int) {
        let word = slot >> 6
        if word < words.count { words[word] &= ~(1 << UInt64(slot & 63)) }
        if !ranks.isEmpty { updateRanks(after: word >> 3) }
    }

    mutating func formIntersection(_ other: Bitset) {
        ranks = []  // bulk changes drop the ranks (only stored word lists keep them)
        other.words.withUnsafeBufferPointer { theirs in
            words.withUnsafeMutableBufferPointer { mine in
                for index in mine.indices { mine[index] &= index < theirs.count ? theirs[index] : 0 }
            }
        }
    }

    /// Keeps only the slots `slots` lists (in any order).
    mutating func formIntersection<Slots: Collection<Int32>>(slots: Slots) {
        var listed = [UInt64](repeating: 0, count: words.count)
        listed.withUnsafeMutableBufferPointer { listed in
            for slot in slots {
                let word = Int(slot) >> 6
                if word < listed.count { listed[word] |= 1 << UInt64(slot & 63) }
            }
        }
        ranks = []  // bulk changes drop the ranks (only stored word lists keep them)
        words.withUnsafeMutableBufferPointer { mine in
            for index in mine.indices { mine[index] &= listed[index] }
        }
    }

    mutating func formUnion(_ other: Bitset) {
        ranks = []  // bulk changes drop the ranks (only stored word lists keep them)
        if other.words.count > words.count {
            words.append(contentsOf: repeatElement(0, count: other.words.count - words.count))
        }
        other.words.withUnsafeBufferPointer { theirs in
            words.withUnsafeMutableBufferPointer { mine in
                for index in theirs.indices { mine[index] |= theirs[index] }
            }
        }
    }

    /// Keeps only the slots `keep` accepts; `keep` sees each word's 64 slots, and returns the
    /// mask of those to keep (so a caller can test a flat column without a branch per slot).
    @inline(__always) mutating func filterWords(_ keep: (_ word: Int) -> UInt64) {
        ranks = []  // bulk changes drop the ranks (only stored word lists keep them)
        words.withUnsafeMutableBufferPointer { mine in
            for index in mine.indices where mine[index] != 0 { mine[index] &= keep(index) }
        }
    }

    var count: Int {
        words.withUnsafeBufferPointer { mine in mine.reduce(0) { $0 + $1.nonzeroBitCount } }
    }

    var isEmpty: Bool { !words.contains { $0 != 0 } }

    /// The memory its words and ranks take.
    var bytes: Int { words.capacity * 8 + ranks.capacity * 4 }

    func intersectionCount(_ other: Bitset) -> Int {
        other.words.withUnsafeBufferPointer { theirs in
            words.withUnsafeBufferPointer { mine in
                var total = 0
                for index in 0..<min(mine.count, theirs.count) { total += (mine[index] & theirs[index]).nonzeroBitCount }
                return total
            }
        }
    }

    /// Every slot in the set, ascending.
    var slots: [Int32] {
        var listed: [Int32] = []
        listed.reserveCapacity(count)
        forEach { listed.append(Int32($0)) }
        return listed
    }

    /// Calls `body` with every slot in the set, in ascending order.
    func forEach(_ body: (Int) -> Void) {
        words.withUnsafeBufferPointer { mine in
            for index in mine.indices {
                var word = mine[index]
                while word != 0 {
                    body(index << 6 | word.trailingZeroBitCount)
                    word &= word - 1
                }
            }
        }
    }
}
