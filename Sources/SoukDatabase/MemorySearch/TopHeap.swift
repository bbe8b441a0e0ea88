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

    var isFull: Bool { items.count == capacity }
    /// The kept item that comes last (the first to be dropped).
    var last: (key: Double, rowid: Int64)? { items.first }

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
