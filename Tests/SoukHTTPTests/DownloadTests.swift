import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import SoukDatabase
import SoukDelivery
@testable import SoukHTTP
import Testing

// Helpers shared with LibraryTests: a seller's product with files, a paid order through the test
// provider's hosted page, and the library's links turned into router paths.

private func deliveryStore(
    clock: (any WallClock)? = nil, _ configure: @escaping (inout Settings) -> Void = { _ in }
) throws -> TestStore {
    try TestStore(clock: clock) { settings in
        settings.store.marketplace = true
        configure(&settings)
    }
}

/// 1000 bytes of printable ASCII that do not repeat with a short period, so a wrong offset shows.
let deliveryContent: String = {
    var state: UInt32 = 2_463_534_242
    return String((0..<1000).map { _ -> Character in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return Character(UnicodeScalar(UInt8(33 + state % 94)))
    })
}()

func queryEscaped(_ value: String) -> String {
    let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed)!
}

/// The path and query of an absolute URL (the test client talks to the router directly).
func deliveryPath(_ url: String) -> String {
    guard let components = URLComponents(string: url) else { return url }
    return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
}

func slice(_ text: String, _ range: ClosedRange<Int>) -> String {
    let bytes = Array(text.utf8)
    return String(decoding: bytes[range], as: UTF8.self)
}

extension TestStore {
    /// Reserves a request's share of a 1000-byte file's budget under `grantID`, as the download route does.
    func reserver(grantID: String, fileID: String, limit: Int)
        -> @Sendable (ClosedRange<Int64>?) async throws -> DownloadReservation
    {
        let database = database
        return { range in
            try await database.reserveDownload(
                grantID: grantID, fileID: fileID, userID: "u", limit: limit, fileSize: 1000, range: range, ip: nil, userAgent: nil)
        }
    }

    /// A verified seller with a published product (its own token uploads the files).
    func sellerWithProduct(
        _ browser: Browser, email: String = "seller@example.com", title: String = "Field Guide", kind: String = "download",
        extra: [String: Any] = [:], files: [(String, String)] = [("guide.pdf", deliveryContent)]
    ) async throws -> (seller: Browser, productID: String, fileIDs: [String]) {
        let seller = try await verifiedSeller(browser, email)
        let product = try await seller.createProduct(title, price: 900, kind: kind, extra: extra)
        let id = try #require(product["id"] as? String)
        let token = try await seller.token()
        var fileIDs: [String] = []
        for (name, body) in files {
            let uploaded = try await Browser(client: browser.client).request(
                .post, "/api/v1/products/\(id)/files?filename=\(queryEscaped(name))",
                headers: [.authorization: "Bearer \(token)", .contentType: "application/octet-stream"], body: body,
                useCookies: false)
            #expect(uploaded.status == .created, "upload \(name): \(uploaded.text)")
            fileIDs.append(try #require(uploaded.object["id"] as? String))
        }
        let published = try await seller.json(.patch, "/api/v1/products/\(id)", #"{"status":"published"}"#)
        #expect(published.status == .ok, "publish: \(published.text)")
        return (seller, id, fileIDs)
    }

    /// A new buyer who pays for `productIDs` on the test provider's page. Returns the buyer and
    /// the paid order's id.
    func paidBuyer(_ browser: Browser, _ email: String = "buyer@example.com", buying productIDs: [String]) async throws
        -> (buyer: Browser, orderID: String)
    {
        let buyer = Browser(client: browser.client)
        try await buyer.register(email)
        let orderID = try await pay(buyer, for: productIDs)
        return (buyer, orderID)
    }

    func pay(_ buyer: Browser, for productIDs: [String]) async throws -> String {
        for id in productIDs { try await buyer.addToCart(id) }
        let created = try await buyer.checkout(#"{"provider":"test"}"#, key: UUID().uuidString)
        #expect(created.status == .created, "checkout: \(created.text)")
        let orderID = try #require(created.order["id"] as? String)
        let testPage = deliveryPath(try #require(created.object["redirect_url"] as? String))
        let paid = try await buyer.submitForm("\(testPage)/pay", fields: [:], csrfFrom: testPage)
        #expect(paid.status == .seeOther)
        let success = try await buyer.get(deliveryPath(paid.location), headers: [.accept: "text/html"])
        #expect(success.status == .ok)
        #expect(try await database.order(id: orderID)?.status.isPaidUp == true)
        return orderID
    }
}

extension Browser {
    /// The signed-in user's library (`data`).
    func library() async throws -> [[String: Any]] {
        let response = try await get("/api/v1/library")
        #expect(response.status == .ok, "library: \(response.text)")
        return try #require(response.object["data"] as? [[String: Any]])
    }

    /// A fresh link (router path) for the file named `name` of the first product in the library.
    func downloadPath(_ name: String, product: String? = nil) async throws -> String {
        let entries = try await library()
        let entry = try #require(product.map { id in entries.first { $0["product_id"] as? String == id } } ?? entries.first)
        let files = try #require(entry["files"] as? [[String: Any]])
        let file = try #require(files.first { $0["name"] as? String == name })
        return deliveryPath(try #require(file["download_url"] as? String))
    }

    /// A request without cookies: a download link needs none.
    func fetch(_ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if headers[.userAgent] == nil { headers[.userAgent] = "DownloadTests/1.0" }
        return try await Browser(client: client).request(method, path, headers: headers, useCookies: false)
    }
}

private func downloadsLeft(_ browser: Browser, _ name: String) async throws -> Int? {
    let entry = try #require(try await browser.library().first)
    let files = try #require(entry["files"] as? [[String: Any]])
    return try #require(files.first { $0["name"] as? String == name })["downloads_left"] as? Int
}

private func logCount(_ store: TestStore, _ productID: String) async throws -> Int {
    try await store.database.downloadLog(productID: productID).count
}

@Suite("Signed downloads: links, limits, ranges")
struct DownloadTests {
    @Test("A paid buyer downloads the exact bytes with the right headers; the download is counted and logged")
    func download() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (seller, productID, fileIDs) = try await store.sellerWithProduct(
                browser, files: [("guide.pdf", deliveryContent), ("Ünïcode \"notes\".txt", "hello")])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            #expect(path.hasPrefix("/download/"))

            let response = try await browser.fetch(path)
            #expect(response.status == .ok)
            #expect(response.text == deliveryContent)
            #expect(response.headers[.contentLength] == "1000")
            #expect(response.headers[.contentType] == "application/pdf")
            #expect(response.headers[.contentDisposition] == #"attachment; filename="guide.pdf"; filename*=UTF-8''guide.pdf"#)
            let sha = try #require(try await store.database.file(id: fileIDs[0])?.sha256)
            #expect(response.headers[.eTag] == "\"\(sha)\"")
            #expect(response.headers[.acceptRanges] == "bytes")
            #expect(response.headers[.cacheControl] == "private, no-store")
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 9)

            // A name that needs quoting: an ASCII fallback and the exact UTF-8 name.
            let odd = try await browser.fetch(try await buyer.downloadPath("Ünïcode notes.txt"))
            #expect(odd.status == .ok)
            #expect(odd.text == "hello")
            #expect(odd.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(
                odd.headers[.contentDisposition]
                    == #"attachment; filename="_n_code notes.txt"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20notes.txt"#)

            // The seller's log has both, with the user agent and the buyer's e-mail.
            let log = try await seller.get("/api/v1/products/\(productID)/downloads")
            #expect(log.status == .ok)
            let entries = try #require(log.object["data"] as? [[String: Any]])
            #expect(entries.count == 2)
            let first = try #require(entries.first { $0["file_id"] as? String == fileIDs[0] })
            #expect(first["file_name"] as? String == "guide.pdf")
            #expect(first["file_version"] as? Int == 1)
            #expect(first["user_email"] as? String == "buyer@example.com")
            #expect(first["user_agent"] as? String == "DownloadTests/1.0")
            #expect(first["ip"] is String)
            #expect(first["created_at"] is String)
            #expect((first["id"] as? String)?.isEmpty == false)
        }
    }

    @Test("A tampered, incomplete or foreign link is refused with a 403 problem; a file of another product is 404")
    func tampered() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser)
            let (_, _, otherFiles) = try await store.sellerWithProduct(
                browser, email: "other@example.com", title: "Other", files: [("other.zip", "other")])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            let components = try #require(URLComponents(string: "http://x" + path))
            let expires = try #require(components.queryItems?.first { $0.name == "expires" }?.value)
            let sig = try #require(components.queryItems?.first { $0.name == "sig" }?.value)
            let segments = components.path.split(separator: "/").map(String.init)  // download, grant, file
            let flipped = String(sig.first == "A" ? "B" : "A") + sig.dropFirst()

            let refused = [
                "\(components.path)?expires=\(expires)&sig=\(flipped)",
                "\(components.path)?expires=\(Int(expires)! + 1000)&sig=\(sig)",
                "\(components.path)?expires=\(expires)",
                "\(components.path)?sig=\(sig)",
                "\(components.path)",
                "\(components.path)?expires=soon&sig=\(sig)",
                "/download/\(segments[1])/\(otherFiles[0])?expires=\(expires)&sig=\(sig)",
                "/download/grt_nope/\(segments[2])?expires=\(expires)&sig=\(sig)",
            ]
            for bad in refused {
                let response = try await browser.fetch(bad)
                #expect(response.status == .forbidden, "\(bad)")
                #expect(response.isProblem, "\(bad)")
                #expect(response.object["code"] as? String == "forbidden")
            }
            // A browser gets the HTML error page.
            let page = try await browser.fetch(refused[0], headers: [.accept: "text/html"])
            #expect(page.status == .forbidden)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(try await logCount(store, productID) == 0, "nothing is counted for a refused link")

            // A correctly signed link to a file of another product is not found.
            let forged = DownloadLinks(serverSecret: Array(repeating: 7, count: 32), lifetime: 600)
                .link(grantID: segments[1], fileID: otherFiles[0])
            let foreign = try await browser.fetch(forged)
            #expect(foreign.status == .notFound)
            #expect(foreign.isProblem)
            // And the real link still works.
            #expect(try await browser.fetch(path).status == .ok)
        }
    }

    @Test("An expired link is refused (a 1 s link lifetime, the store's clock moved past it)")
    func expired() async throws {
        let clock = StoreTestClock()
        let store = try deliveryStore(clock: clock) { $0.delivery.linkTTLSeconds = 1 }
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            clock.advance(by: 2.1)
            let response = try await browser.fetch(path)
            #expect(response.status == .forbidden)
            #expect(response.isProblem)
            #expect((response.object["detail"] as? String)?.contains("expired") == true)
            // A link signed in the past (same secret, negative lifetime) is refused the same way.
            let old = DownloadLinks(serverSecret: Array(repeating: 7, count: 32), lifetime: -60, clock: clock)
            let segments = path.split(separator: "?")[0].split(separator: "/").map(String.init)
            #expect(try await browser.fetch(old.link(grantID: segments[1], fileID: segments[2])).status == .forbidden)
            #expect(try await logCount(store, productID) == 0)
        }
    }

    @Test("A full refund revokes the grant: the old link is refused and the library is empty")
    func refunded() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, orderID) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            #expect(try await browser.fetch(path).status == .ok)

            let refund = try await seller.json(.post, "/api/v1/orders/\(orderID)/refund", "{}")
            #expect(refund.status == .ok, "\(refund.text)")
            let response = try await browser.fetch(path)
            #expect(response.status == .forbidden)
            #expect(response.isProblem)
            #expect(try await browser.fetch(path, method: .head).status == .forbidden)
            #expect(try await buyer.library().isEmpty)
        }
    }

    @Test("The limit: 10 downloads by default, the 11th is 403; a product's own limit wins; 0 is unlimited")
    func limits() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            for n in 1...10 {
                // A fresh link each time does not reset anything: the limit is per purchase and file.
                let response = try await browser.fetch(try await buyer.downloadPath("guide.pdf"))
                #expect(response.status == .ok, "download \(n)")
                #expect(response.text == deliveryContent)
            }
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 0)
            let eleventh = try await browser.fetch(try await buyer.downloadPath("guide.pdf"))
            #expect(eleventh.status == .forbidden)
            #expect(eleventh.isProblem)
            #expect(try await logCount(store, productID) == 10)
            // The budget (10 × 1000 bytes) is spent: no range of any kind is served any more.
            for range in ["bytes=0-9", "bytes=1-", "bytes=999-999", "bytes=-1"] {
                let refused = try await browser.fetch(try await buyer.downloadPath("guide.pdf"), headers: [.range: range])
                #expect(refused.status == .forbidden, "\(range)")
                #expect((refused.object["detail"] as? String)?.contains("Download limit reached") == true, "\(refused.text)")
            }
            // Another buyer has a quota of their own.
            let (second, _) = try await store.paidBuyer(browser, "second@example.com", buying: [productID])
            #expect(try await browser.fetch(try await second.downloadPath("guide.pdf")).status == .ok)

            let (_, limitedID, _) = try await store.sellerWithProduct(
                browser, email: "limited@example.com", title: "Limited", extra: ["download_limit": 2])
            let (_, unlimitedID, _) = try await store.sellerWithProduct(
                browser, email: "unlimited@example.com", title: "Unlimited", extra: ["download_limit": 0])
            let (third, _) = try await store.paidBuyer(browser, "third@example.com", buying: [limitedID, unlimitedID])
            for _ in 1...2 {
                #expect(try await browser.fetch(try await third.downloadPath("guide.pdf", product: limitedID)).status == .ok)
            }
            #expect(try await browser.fetch(try await third.downloadPath("guide.pdf", product: limitedID)).status == .forbidden)
            for _ in 1...12 {
                #expect(try await browser.fetch(try await third.downloadPath("guide.pdf", product: unlimitedID)).status == .ok)
            }
            let unlimited = try #require(try await third.library().first { $0["product_id"] as? String == unlimitedID })
            let file = try #require((unlimited["files"] as? [[String: Any]])?.first)
            #expect(file["downloads_left"] is NSNull, "unlimited is null")
        }
    }

    @Test("Ranges: a-b, a-, -n → 206 with exactly those bytes; past the end → 416; several or invalid → 200")
    func ranges() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            #expect(try await browser.fetch(path).status == .ok)  // the counted download

            let middle = try await browser.fetch(path, headers: [.range: "bytes=100-199"])
            #expect(middle.status == .partialContent)
            #expect(middle.text == slice(deliveryContent, 100...199))
            #expect(middle.body.readableBytes == 100)
            #expect(middle.headers[.contentLength] == "100")
            #expect(middle.headers[.contentRange] == "bytes 100-199/1000")
            #expect(middle.headers[.acceptRanges] == "bytes")
            #expect(middle.headers[.eTag]?.hasPrefix("\"") == true)

            let open = try await browser.fetch(path, headers: [.range: "bytes=900-"])
            #expect(open.status == .partialContent)
            #expect(open.text == slice(deliveryContent, 900...999))
            #expect(open.headers[.contentRange] == "bytes 900-999/1000")

            let suffix = try await browser.fetch(path, headers: [.range: "bytes=-100"])
            #expect(suffix.status == .partialContent)
            #expect(suffix.text == slice(deliveryContent, 900...999))
            #expect(suffix.headers[.contentRange] == "bytes 900-999/1000")

            let clamped = try await browser.fetch(path, headers: [.range: "bytes=990-5000"])
            #expect(clamped.status == .partialContent)
            #expect(clamped.text == slice(deliveryContent, 990...999))
            #expect(clamped.headers[.contentRange] == "bytes 990-999/1000")

            let last = try await browser.fetch(path, headers: [.range: "bytes=999-999"])
            #expect(last.text == slice(deliveryContent, 999...999))

            for unsatisfiable in ["bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=99999999999999999999999-"] {
                let response = try await browser.fetch(path, headers: [.range: unsatisfiable])
                #expect(response.status == .rangeNotSatisfiable, "\(unsatisfiable)")
                #expect(response.headers[.contentRange] == "bytes */1000", "\(unsatisfiable)")
                #expect(response.isProblem)
            }

            let before = try await logCount(store, productID)
            for whole in ["bytes=0-1,5-6", "bytes=200-100", "items=0-10", "bytes=abc", "bytes=-", "bytes 0-10"] {
                let response = try await browser.fetch(path, headers: [.range: whole])
                #expect(response.status == .ok, "\(whole)")
                #expect(response.text == deliveryContent, "\(whole)")
                #expect(response.headers[.contentRange] == nil)
            }
            #expect(try await logCount(store, productID) == before + 6, "a whole-file answer is a counted download")
        }
    }

    @Test("If-Range: the ETag honours the range, anything else gets the whole file")
    func ifRange() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, fileIDs) = try await store.sellerWithProduct(browser)
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            #expect(try await browser.fetch(path).status == .ok)
            let sha = try #require(try await store.database.file(id: fileIDs[0])?.sha256)

            var matching: HTTPFields = [.range: "bytes=100-199"]
            matching[.ifRange] = "\"\(sha)\""
            let honoured = try await browser.fetch(path, headers: matching)
            #expect(honoured.status == .partialContent)
            #expect(honoured.text == slice(deliveryContent, 100...199))

            for other in ["\"0000\"", "W/\"\(sha)\"", "Wed, 21 Oct 2015 07:28:00 GMT"] {
                var headers: HTTPFields = [.range: "bytes=100-199"]
                headers[.ifRange] = other
                let whole = try await browser.fetch(path, headers: headers)
                #expect(whole.status == .ok, "\(other)")
                #expect(whole.text == deliveryContent)
            }
            // A stale validator makes even an unsatisfiable range a plain 200.
            var stale: HTTPFields = [.range: "bytes=5000-"]
            stale[.ifRange] = "\"stale\""
            #expect(try await browser.fetch(path, headers: stale).status == .ok)
        }
    }

    @Test("HEAD answers the headers of the GET, with no body, and is never counted")
    func head() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")

            let head = try await browser.fetch(path, method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == "1000")
            #expect(head.headers[.contentType] == "application/pdf")
            #expect(head.headers[.acceptRanges] == "bytes")
            #expect(head.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(head.headers[.eTag] != nil)

            let partial = try await browser.fetch(path, method: .head, headers: [.range: "bytes=100-199"])
            #expect(partial.status == .partialContent)
            #expect(partial.headers[.contentLength] == "100")
            #expect(partial.headers[.contentRange] == "bytes 100-199/1000")
            #expect(partial.body.readableBytes == 0)
            #expect(try await browser.fetch(path, method: .head, headers: [.range: "bytes=2000-"]).status == .rangeNotSatisfiable)

            #expect(try await logCount(store, productID) == 0)
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 10)
        }
    }

    @Test("Limit 2 = 2000 bytes: ranges from any offset and out of order add up; then even 1 byte is 403")
    func countingBytes() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, fileIDs) = try await store.sellerWithProduct(browser, extra: ["download_limit": 2])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")

            // A download manager's segments, started out of order, the first not at byte 0.
            let third = try await browser.fetch(path, headers: [.range: "bytes=700-"])
            let first = try await browser.fetch(path, headers: [.range: "bytes=0-299"])
            let second = try await browser.fetch(path, headers: [.range: "bytes=300-699"])
            for part in [first, second, third] { #expect(part.status == .partialContent) }
            #expect(first.text + second.text + third.text == deliveryContent)
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 1, "1000 of 2000 bytes served")
            #expect(try await logCount(store, productID) == 3, "one log row per request")

            // A whole download uses the rest; then nothing is served, not even one byte.
            #expect(try await browser.fetch(path).text == deliveryContent)
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 0)
            for range in [nil, "bytes=999-999", "bytes=1-", "bytes=-1000"] {
                let refused = try await browser.fetch(path, headers: range.map { [.range: $0] } ?? [:])
                #expect(refused.status == .forbidden, "\(range ?? "whole")")
                #expect(refused.isProblem)
                #expect((refused.object["detail"] as? String)?.contains("Download limit reached") == true, "\(refused.text)")
            }
            let log = try await store.database.downloadLog(productID: productID)
            #expect(log.map(\.bytes).reduce(0, +) == 2000)
            #expect(Set(log.map(\.firstByte)) == [0, 300, 700])
            #expect(log.allSatisfy { $0.fileID == fileIDs[0] })
            // A page at a time from the newest, along the product's index; a cursor this log did
            // not give (another product's download, made up) starts from the newest.
            let newest = try await store.database.downloadLog(productID: productID, limit: 2)
            let older = try await store.database.downloadLog(productID: productID, after: newest.last?.id, limit: 10)
            #expect(newest.count == 2 && (newest + older).map(\.id) == log.map(\.id))
            #expect(try await store.database.downloadLog(productID: "prod_other", after: log[0].id, limit: 10).isEmpty)
            #expect(try await store.database.downloadLog(productID: productID, after: "dl_made_up", limit: 2).map(\.id) == newest.map(\.id))
        }
    }

    @Test("Less than a file left: a whole download is 403, a range is clamped to what is left")
    func clampedRange() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser, extra: ["download_limit": 2])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let path = try await buyer.downloadPath("guide.pdf")
            #expect(try await browser.fetch(path).status == .ok)
            #expect(try await browser.fetch(path, headers: [.range: "bytes=0-599"]).status == .partialContent)

            // 400 bytes left.
            let whole = try await browser.fetch(path)
            #expect(whole.status == .forbidden)
            #expect((whole.object["detail"] as? String)?.contains("400 of this file's 1000 bytes are left") == true, "\(whole.text)")
            let rest = try await browser.fetch(path, headers: [.range: "bytes=500-"])
            #expect(rest.status == .partialContent)
            #expect(rest.headers[.contentRange] == "bytes 500-899/1000")
            #expect(rest.headers[.contentLength] == "400")
            #expect(rest.text == slice(deliveryContent, 500...899))
            #expect(try await browser.fetch(path, headers: [.range: "bytes=900-"]).status == .forbidden)
        }
    }

    @Test("A transfer cut short is charged what it wrote; its resume credits what it asks again, once")
    func interruptedTransfers() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, fileIDs) = try await store.sellerWithProduct(browser, extra: ["download_limit": 1])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let grantID = String(try await buyer.downloadPath("guide.pdf").split(separator: "/")[1])
            let reserve = store.reserver(grantID: grantID, fileID: fileIDs[0], limit: 1)
            // The whole file, cut after 700 bytes were written (the client had 500 of them).
            let cut = try await reserve(nil)
            #expect(cut.reserved == 1000 && cut.budget.bytesLeft == 0, "reserved in full before sending")
            try await store.database.settleDownload(id: cut.id, sent: 700)
            // The resume from byte 500 asks again for 200 written bytes: they are credited back.
            let resumed = try await reserve(500...999)
            #expect(resumed.range == 500...999)
            #expect(resumed.budget.bytesLeft == 0, "500 + 500 = the file once")
            try await store.database.settleDownload(id: resumed.id, sent: 500)
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 0)
            await #expect(throws: SoukError.self) { try await reserve(999...999) }

            // A resume far before the end of what was written is a new download: no credit.
            let (other, _) = try await store.paidBuyer(browser, "other@example.com", buying: [productID])
            let otherGrant = String(try await other.downloadPath("guide.pdf").split(separator: "/")[1])
            let big = try await store.database.reserveDownload(
                grantID: otherGrant, fileID: fileIDs[0], userID: "u", limit: 1, fileSize: 1000, range: nil, ip: nil, userAgent: nil)
            try await store.database.settleDownload(id: big.id, sent: 1000)  // written in full: nothing to credit
            await #expect(throws: SoukError.self) {
                try await store.database.reserveDownload(
                    grantID: otherGrant, fileID: fileIDs[0], userID: "u", limit: 1, fileSize: 1000, range: 1...999, ip: nil,
                    userAgent: nil)
            }
            #expect(try await downloadsLeft(other, "guide.pdf") == 0)
        }
    }

    @Test("A resume exactly where the cut stopped uses that transfer's one resume: a later download from the start is charged in full")
    func resumeAtTheCut() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (_, productID, fileIDs) = try await store.sellerWithProduct(browser, extra: ["download_limit": 2])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let grantID = String(try await buyer.downloadPath("guide.pdf").split(separator: "/")[1])
            let reserve = store.reserver(grantID: grantID, fileID: fileIDs[0], limit: 2)
            // Cut after exactly the 500 bytes the client had (nothing in flight), resumed at 500.
            let cut = try await reserve(nil)
            try await store.database.settleDownload(id: cut.id, sent: 500)
            let rest = try await reserve(500...999)
            #expect(rest.budget.bytesLeft == 1000, "500 + 500: the file once")
            try await store.database.settleDownload(id: rest.id, sent: 500)
            // The second whole download starts at byte 0, inside the cut transfer's slack: not a resume.
            let second = try await reserve(nil)
            #expect(second.budget.bytesLeft == 0)
            try await store.database.settleDownload(id: second.id, sent: 1000)
            #expect(try await downloadsLeft(buyer, "guide.pdf") == 0)
            await #expect(throws: SoukError.self) { try await reserve(0...0) }
        }
    }

    @Test("The download log: the product's seller and admins; others are told it does not exist")
    func downloadLogAccess() async throws {
        let store = try deliveryStore()
        try await store.run { browser in
            let (seller, productID, _) = try await store.sellerWithProduct(browser)
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            #expect(try await browser.fetch(try await buyer.downloadPath("guide.pdf")).status == .ok)
            let api = "/api/v1/products/\(productID)/downloads"
            let page = "/dashboard/products/\(productID)/downloads"

            let anonymous = try await Browser(client: browser.client).get(api)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.isProblem)
            let signIn = try await Browser(client: browser.client).get(page, headers: [.accept: "text/html"])
            #expect(signIn.status == .seeOther)
            #expect(signIn.location == "/signin?next=\(page)")

            let other = try await store.verifiedSeller(browser, "other@example.com")
            for stranger in [other, buyer] {
                let refused = try await stranger.get(api)
                #expect(refused.status == .notFound)
                #expect(refused.isProblem)
                #expect(try await stranger.get(page, headers: [.accept: "text/html"]).status == .notFound)
            }
            #expect(try await seller.get("/api/v1/products/prd_nope/downloads").status == .notFound)

            let admin = try await store.admin(browser)
            for viewer in [seller, admin] {
                let log = try await viewer.get(api)
                #expect(log.status == .ok)
                #expect((log.object["data"] as? [[String: Any]])?.count == 1)
                let html = try await viewer.get(page, headers: [.accept: "text/html"])
                #expect(html.status == .ok)
                #expect(html.text.contains("buyer@example.com"))
                #expect(html.text.contains("DownloadTests/1.0"))
                #expect(html.text.contains("guide.pdf"))
            }
        }
    }
}

@Suite("Byte ranges")
struct ByteRangeParsingTests {
    @Test("Range header parsing against a 1000-byte file")
    func parsing() {
        #expect(ByteRanges.parse(nil, size: 1000) == .whole)
        #expect(ByteRanges.parse("bytes=0-0", size: 1000) == .partial(0...0))
        #expect(ByteRanges.parse("bytes=100-199", size: 1000) == .partial(100...199))
        #expect(ByteRanges.parse("Bytes = 100-199 ", size: 1000) == .partial(100...199))
        #expect(ByteRanges.parse("bytes=100-", size: 1000) == .partial(100...999))
        #expect(ByteRanges.parse("bytes=-1", size: 1000) == .partial(999...999))
        #expect(ByteRanges.parse("bytes=-5000", size: 1000) == .partial(0...999))
        #expect(ByteRanges.parse("bytes=0-99999999999999999999", size: 1000) == .partial(0...999))
        #expect(ByteRanges.parse("bytes=100-199,", size: 1000) == .partial(100...199))
        #expect(ByteRanges.parse("bytes=1000-", size: 1000) == .unsatisfiable)
        #expect(ByteRanges.parse("bytes=-0", size: 1000) == .unsatisfiable)
        #expect(ByteRanges.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRanges.parse("bytes=0-1,3-4", size: 1000) == .whole)
        #expect(ByteRanges.parse("bytes=5-1", size: 1000) == .whole)
        #expect(ByteRanges.parse("bytes=+1-2", size: 1000) == .whole)
        #expect(ByteRanges.parse("bytes=1-2-3", size: 1000) == .whole)
        #expect(ByteRanges.parse("bytes=", size: 1000) == .whole)
        #expect(ByteRanges.parse("pages=1-2", size: 1000) == .whole)
        #expect(ByteRanges.contentRange(100...199, size: 1000) == "bytes 100-199/1000")
    }

    @Test("Content-Disposition quoting and media types")
    func headers() {
        #expect(DownloadRoutes.contentDisposition("a b.pdf") == #"attachment; filename="a b.pdf"; filename*=UTF-8''a%20b.pdf"#)
        #expect(
            DownloadRoutes.contentDisposition("q\"\\%\r.bin")
                == #"attachment; filename="q____.bin"; filename*=UTF-8''q%22%5C%25%0D.bin"#)
        #expect(DownloadRoutes.contentDisposition("日本.txt") == #"attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"#)
        #expect(DownloadRoutes.mediaType(for: "x.pdf") == "application/pdf")
        #expect(DownloadRoutes.mediaType(for: "x.ZIP") == "application/zip")
        #expect(DownloadRoutes.mediaType(for: "x") == "application/octet-stream")
        #expect(DownloadRoutes.mediaType(for: "x.unknownext") == "application/octet-stream")
        #expect(DownloadRoutes.mediaType(for: "page.html") == "application/octet-stream")
        #expect(DownloadRoutes.mediaType(for: "image.svg") == "application/octet-stream")
    }
}
