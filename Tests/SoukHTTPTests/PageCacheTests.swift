import HTTPTypes
import Hummingbird
import NIOCore
import SoukCore
import Testing

@testable import SoukHTTP

@Suite("The kept pages and search answers")
struct PageCacheTests {
    static func entry(_ text: String, generation: String = "1", etag: String? = nil) -> PageCache.Entry {
        PageCache.Entry(
            body: ByteBuffer(string: text), csrfToken: "", generation: generation, productID: nil, route: "/",
            headers: [.contentType: "text/html"], https: false, etag: etag)
    }

    @Test("A crawl of searches cannot push the pages out: each kind has its own budget, the oldest go first")
    func separateBudgets() {
        let cache = PageCache(pagesBudget: 64 << 10, answersBudget: 16 << 10, https: false)
        cache.store("/?", Self.entry(String(repeating: "h", count: 4000)))
        cache.store("/products/moth?", Self.entry(String(repeating: "p", count: 4000)))
        for index in 0..<200 {
            cache.store("/api/v1/products?q=word\(index)", Self.entry(String(repeating: "j", count: 1000), etag: "e\(index)"))
        }
        #expect(cache.entry("/?", generation: "1") != nil)
        #expect(cache.entry("/products/moth?", generation: "1") != nil)
        #expect(cache.entry("/api/v1/products?q=word199", generation: "1") != nil, "the newest answer stays")
        #expect(cache.entry("/api/v1/products?q=word0", generation: "1") == nil, "the oldest answer went")
        // Another generation: the entry is stale and dropped.
        #expect(cache.entry("/?", generation: "2") == nil)
        #expect(cache.entry("/?", generation: "1") == nil)
    }

    @Test("An answer's tag changes with its address and the catalog's generation, a page's with its bytes")
    func tags() {
        let tag = PageCache.Entry.answerTag(key: "/api/v1/products?q=a", generation: "7")
        #expect(tag == PageCache.Entry.answerTag(key: "/api/v1/products?q=a", generation: "7"))
        #expect(tag != PageCache.Entry.answerTag(key: "/api/v1/products?q=a", generation: "8"))
        #expect(tag != PageCache.Entry.answerTag(key: "/api/v1/products?q=b", generation: "7"))
        #expect(Self.entry("same").etag == Self.entry("same").etag)
        #expect(Self.entry("same").etag != Self.entry("other").etag)
    }
}

@Suite("Cutting a kept page at the visitor's token")
struct PageTokenSplitTests {
    @Test("The same pieces as components(separatedBy:): at the start, the end, side by side, after a false start, none")
    func sameAsFoundation() {
        var random = SplitMix64(seed: 11)
        var cases = ["", "tok", "toktok", "xtokytokz", "ttok", "totok", "to", "abc", "tokt", "ttttok"]
        for _ in 0..<300 {
            cases.append(String((0..<Int(random.next() % 40)).map { _ in "tokx"[Int(random.next() % 4)] }))
        }
        for text in cases {
            let parts = PageCache.Entry.split(ByteBuffer(string: text), on: Array("tok".utf8)).map { String(buffer: $0) }
            #expect(parts == text.components(separatedBy: "tok"), "\(text)")
        }
    }
}

extension String {
    fileprivate subscript(_ index: Int) -> Character { self[self.index(startIndex, offsetBy: index)] }
}
