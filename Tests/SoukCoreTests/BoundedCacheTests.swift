import SoukCore
import Testing

@Suite("A cache bounded by bytes")
struct BoundedCacheTests {
    @Test("Past its budget the oldest entries go first, one at a time, never all at once")
    func oldestGoFirst() {
        var cache = BoundedCache<Int, String>(budget: 100)
        for key in 0..<10 { cache.insert("v\(key)", for: key, cost: 10) }
        #expect(cache.count == 10 && cache.cost == 100)
        cache.insert("v10", for: 10, cost: 25)
        // 0, 1 and 2 made room for 25 bytes; the rest stay.
        #expect((0..<3).allSatisfy { cache[$0] == nil })
        #expect((3...10).allSatisfy { cache[$0] == "v\($0)" })
        #expect(cache.cost == 95)
        // Replacing an entry keeps its place and counts its new size.
        cache.insert("w3", for: 3, cost: 5)
        #expect(cache[3] == "w3" && cache.cost == 90)
        cache.insert("v11", for: 11, cost: 20)
        #expect(cache[3] == nil && cache[4] == nil && cache[5] == "v5")
    }

    @Test("Removed entries give their bytes back; removing by value and emptying work")
    func removals() {
        var cache = BoundedCache<String, Int>(budget: 1000)
        for value in 0..<20 { cache.insert(value, for: "k\(value)", cost: 7) }
        cache.removeValue(forKey: "k3")
        cache.removeValue(forKey: "absent")
        #expect(cache["k3"] == nil && cache.count == 19 && cache.cost == 133)
        cache.removeAll { $0 % 2 == 0 }
        #expect(cache.count == 9 && cache.cost == 63)
        #expect((0..<20).filter { cache["k\($0)"] != nil } == [1, 5, 7, 9, 11, 13, 15, 17, 19])
        cache.removeAll()
        #expect(cache.count == 0 && cache.cost == 0)
    }

    @Test("Under a long random run of inserts and removals, the bytes add up and stay within the budget")
    func randomRun() {
        var cache = BoundedCache<Int, Int>(budget: 5_000)
        var generator = SplitMix64(seed: 3)
        var model: [Int: Int] = [:]  // what the cache may still hold: key -> cost
        for step in 0..<50_000 {
            let key = Int.random(in: 0..<400, using: &generator)
            if Int.random(in: 0..<5, using: &generator) == 0 {
                cache.removeValue(forKey: key)
                model[key] = nil
            } else {
                let cost = Int.random(in: 1...200, using: &generator)
                cache.insert(step, for: key, cost: cost)
                model[key] = cost
                #expect(cache[key] == step, "the newest entry is always kept")
            }
            #expect(cache.cost <= 5_000)
            #expect(cache.orderLength <= 2 * cache.count + 65, "the arrival order does not grow without bound")
            if step % 1000 == 0 {
                let present = model.filter { cache[$0.key] != nil }
                #expect(present.count == cache.count)
                #expect(present.values.reduce(0, +) == cache.cost)
            }
        }
    }
}
