/// Entries kept up to a budget of bytes; past it, the oldest go first.
///
/// For what searches read again and again (the products of recent hits, their JSON): emptying a
/// full cache at once, as these caches did, made every search after it start cold, and a mix
/// of queries whose hits did not fit started cold every time. Bounded by bytes, not entries,
/// so a catalog of long descriptions keeps fewer products, not more memory.
public struct BoundedCache<Key: Hashable, Value> {
    public let budget: Int
    private var entries: [Key: (value: Value, cost: Int, arrival: Int)] = [:]
    /// Keys in the order they arrived, the oldest at `head`, each with the arrival it stands
    /// for: a key removed and added again is evicted for its latest arrival only. A removed key
    /// stays until its turn (or the next compaction), so removing costs no search.
    private var order: [(key: Key, arrival: Int)] = []
    private var head = 0
    private var arrivals = 0
    /// The bytes the entries take, as their callers counted them.
    public private(set) var cost = 0

    public init(budget: Int) { self.budget = budget }

    public var count: Int { entries.count }

    /// Arrivals still in the order (for tests: it stays within about twice the entries).
    public var orderLength: Int { order.count - head }

    public subscript(key: Key) -> Value? { entries[key]?.value }

    /// Keeps `value` (replacing any entry for `key`, which keeps its place), then lets the
    /// oldest entries go until the cache is within its budget; the entry just kept stays.
    public mutating func insert(_ value: Value, for key: Key, cost: Int) {
        if let old = entries[key] {
            entries[key] = (value, cost, old.arrival)
            self.cost += cost - old.cost
        } else {
            arrivals += 1
            entries[key] = (value, cost, arrivals)
            order.append((key, arrivals))
            self.cost += cost
        }
        while self.cost > budget, head < order.count {
            let (oldest, arrival) = order[head]
            if oldest == key {
                // The entry just kept is the oldest: it stays, and goes to the back.
                if entries.count == 1 { break }
                order.append((oldest, arrival))
            }
            head += 1
            if oldest != key, let entry = entries[oldest], entry.arrival == arrival {
                entries[oldest] = nil
                self.cost -= entry.cost
            }
        }
        if (head > 64 && head * 2 > order.count) || order.count - head > 2 * entries.count + 64 { compact() }
    }

    public mutating func removeValue(forKey key: Key) {
        if let gone = entries.removeValue(forKey: key) { cost -= gone.cost }
    }

    public mutating func removeAll(where shouldRemove: (Value) -> Bool) {
        for (key, entry) in entries where shouldRemove(entry.value) { removeValue(forKey: key) }
    }

    public mutating func removeAll() {
        entries.removeAll()
        order.removeAll()
        head = 0
        cost = 0
    }

    /// Drops the order's evicted prefix and the arrivals no longer kept.
    private mutating func compact() {
        order = order[head...].filter { entries[$0.key]?.arrival == $0.arrival }
        head = 0
    }
}

extension BoundedCache: Sendable where Key: Sendable, Value: Sendable {}
