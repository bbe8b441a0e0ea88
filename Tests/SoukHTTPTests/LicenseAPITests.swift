import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SoukCore
@testable import SoukDatabase
import SoukHTTP
import SoukRuntime
import Testing

// Given a seller's `license` product (activation limit 2) and a buyer who paid for it on the test
// provider's page, with its key issued by fulfilment: the license API, the buyer freeing seats,
// the seller turning keys off and on, and the private pages of content products.

private func licenseStore(_ configure: @escaping (inout Settings) -> Void = { _ in }) throws -> TestStore {
    try TestStore { settings in
        settings.store.marketplace = true
        configure(&settings)
    }
}

/// The path and query of an absolute URL (the test client talks to the router directly).
private func routerPath(_ url: String) -> String {
    guard let components = URLComponents(string: url) else { return url }
    return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
}

private struct Sale {
    var seller: Browser
    var buyer: Browser
    var productID: String
    var orderID: String
}

extension TestStore {
    /// A buyer pays for `productID` through the test provider's hosted page, then the order is
    /// fulfilled (which issues license keys) as the `fulfil` job does.
    fileprivate func buyForLicenses(_ browser: Browser, _ email: String, productID: String) async throws -> (Browser, String) {
        let buyer = Browser(client: browser.client)
        try await buyer.register(email)
        try await buyer.addToCart(productID)
        let created = try await buyer.checkout(#"{"provider":"test"}"#, key: UUID().uuidString)
        #expect(created.status == .created, "checkout: \(created.text)")
        let orderID = try #require(created.order["id"] as? String)
        let testPage = routerPath(try #require(created.object["redirect_url"] as? String))
        let paid = try await buyer.submitForm("\(testPage)/pay", fields: [:], csrfFrom: testPage)
        #expect(paid.status == .seeOther)
        let success = try await buyer.get(routerPath(paid.location), headers: [.accept: "text/html"])
        #expect(success.status == .ok)
        #expect(try await database.order(id: orderID)?.status.isPaidUp == true, "the order is paid")
        _ = try await database.fulfil(orderID: orderID, followUps: [])
        return (buyer, orderID)
    }

    /// A seller's published product of `kind`, and a buyer who paid for it.
    fileprivate func sale(
        _ browser: Browser, kind: String = "license", limit: Int? = 2, buyer email: String = "buyer@example.com"
    ) async throws -> Sale {
        let seller = try await verifiedSeller(browser, "seller@example.com")
        var extra: [String: Any] = [:]
        if let limit { extra["activation_limit"] = limit }
        let product = try await seller.createProduct("Pixel Editor", price: 2500, kind: kind, publish: true, extra: extra)
        let productID = try #require(product["id"] as? String)
        let (buyer, orderID) = try await buyForLicenses(browser, email, productID: productID)
        return Sale(seller: seller, buyer: buyer, productID: productID, orderID: orderID)
    }

    fileprivate func key(of sale: Sale) async throws -> String {
        let keys = try await database.licenseKeys(productID: sale.productID)
        #expect(keys.count == 1, "one key per unit bought")
        return try #require(keys.first?.key)
    }
}

extension Browser {
    /// Calls the public license API without cookies, as a desktop app would.
    fileprivate func license(_ verb: String, _ fields: [String: Any]) async throws -> TestResponse {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
        return try await Browser(client: client).request(
            .post, "/api/v1/licenses/\(verb)", headers: [.contentType: "application/json"], body: body, useCookies: false)
    }
}

extension TestResponse {
    fileprivate var licenseKey: [String: Any] { object["license_key"] as? [String: Any] ?? [:] }
    fileprivate var instance: [String: Any]? { object["instance"] as? [String: Any] }
}

@Suite("License API, seats, seller controls and private pages")
struct LicenseAPITests {
    @Test("Limit 2: three parallel activations → exactly two; a freed seat can be taken again")
    func activationLimit() async throws {
        let store = try licenseStore()
        try await store.run { browser in
            let sale = try await store.sale(browser)
            let key = try await store.key(of: sale)

            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for n in 1...3 {
                    group.addTask { try await browser.license("activate", ["license_key": key, "instance_name": "laptop \(n)"]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == .ok }, "\(answers.map(\.text))")
            let activated = answers.filter { $0.object["activated"] as? Bool == true }
            let refused = answers.filter { $0.object["activated"] as? Bool == false }
            #expect(activated.count == 2)
            #expect(refused.count == 1)
            let refusal = try #require(refused.first)
            #expect((refusal.object["error"] as? String)?.contains("activation limit") == true, "\(refusal.text)")
            #expect(refusal.object["instance"] is NSNull)
            #expect(refusal.licenseKey["activation_usage"] as? Int == 2)
            for answer in activated {
                #expect(answer.object["error"] is NSNull)
                #expect(answer.licenseKey["status"] as? String == "active")
                #expect(answer.licenseKey["activation_limit"] as? Int == 2)
                #expect((answer.instance?["id"] as? String)?.hasPrefix("act_") == true)
                #expect((answer.object["meta"] as? [String: Any])?["product_id"] as? String == sale.productID)
                #expect((answer.object["meta"] as? [String: Any])?["order_id"] as? String == sale.orderID)
            }
            #expect(try await store.database.licenseKey(key)?.activationUsage == 2)
            let instanceIDs = activated.compactMap { $0.instance?["id"] as? String }

            // Each instance validates; a lower-case, spaced key is the same key.
            let valid = try await browser.license(
                "validate", ["license_key": "  \(key.lowercased()) ", "instance_id": instanceIDs[0]])
            #expect(valid.status == .ok)
            #expect(valid.object["valid"] as? Bool == true, "\(valid.text)")
            #expect(valid.instance?["id"] as? String == instanceIDs[0])

            // The buyer frees one seat through the API: someone else cannot.
            let stranger = Browser(client: browser.client)
            try await stranger.register("stranger@example.com")
            let path = "/api/v1/library/licenses/\(key)/activations/\(instanceIDs[0])"
            #expect(try await stranger.request(.delete, path).status == .notFound)
            #expect(try await sale.seller.request(.delete, path).status == .notFound, "the seller disables keys instead")
            let freed = try await sale.buyer.request(.delete, path)
            #expect(freed.status == .ok, "\(freed.text)")
            #expect(freed.object["activation_usage"] as? Int == 1)
            #expect((freed.object["instances"] as? [[String: Any]])?.map { $0["id"] as? String } == [instanceIDs[1]])
            #expect(try await sale.buyer.request(.delete, path).status == .notFound, "already freed")

            // The freed instance no longer validates; a new activation takes the seat.
            let stale = try await browser.license("validate", ["license_key": key, "instance_id": instanceIDs[0]])
            #expect(stale.object["valid"] as? Bool == false)
            #expect((stale.object["error"] as? String)?.contains("not active") == true)
            let again = try await browser.license("activate", ["license_key": key, "instance_name": "desktop"])
            #expect(again.object["activated"] as? Bool == true, "\(again.text)")
            let full = try await browser.license("activate", ["license_key": key, "instance_name": "one more"])
            #expect(full.object["activated"] as? Bool == false)

            // The buyer frees the other seat with the library's form, then the API deactivates the new one.
            let form = try await sale.buyer.submitForm(
                "/library/licenses/\(key)/activations/\(instanceIDs[1])/deactivate", fields: [:], csrfFrom: "/")
            #expect(form.status == .seeOther, "\(form.text)")
            #expect(form.location == "/library")
            let strangerForm = try await stranger.submitForm(
                "/library/licenses/\(key)/activations/\(instanceIDs[0])/deactivate", fields: [:], csrfFrom: "/")
            #expect(strangerForm.status == .notFound)
            let newID = try #require(again.instance?["id"] as? String)
            let deactivated = try await browser.license("deactivate", ["license_key": key, "instance_id": newID])
            #expect(deactivated.status == .ok)
            #expect(deactivated.object["deactivated"] as? Bool == true)
            #expect(deactivated.instance?["name"] as? String == "desktop")
            #expect(deactivated.licenseKey["activation_usage"] as? Int == 0)
            #expect(deactivated.licenseKey["status"] as? String == "inactive")
            let twice = try await browser.license("deactivate", ["license_key": key, "instance_id": newID])
            #expect(twice.status == .ok)
            #expect(twice.object["deactivated"] as? Bool == false)
            #expect(twice.object["error"] as? String != nil)
        }
    }

    @Test("Limit 0 is unlimited: 50 activations all succeed, reported as activation_limit null")
    func unlimitedActivations() async throws {
        let store = try licenseStore()
        try await store.run { browser in
            let sale = try await store.sale(browser, limit: 0)
            let key = try await store.key(of: sale)
            for n in 1...50 {
                let answer = try await browser.license("activate", ["license_key": key, "instance_name": "machine \(n)"])
                #expect(answer.object["activated"] as? Bool == true, "activation \(n): \(answer.text)")
                #expect(answer.licenseKey["activation_limit"] is NSNull)
            }
            #expect(try await store.database.licenseKey(key)?.activationUsage == 50)
            let valid = try await browser.license("validate", ["license_key": key])
            #expect(valid.object["valid"] as? Bool == true)
            #expect(valid.licenseKey["activation_usage"] as? Int == 50)
        }
    }

    @Test("Unknown keys are 404 problems; bad bodies 400; instance names 1…255 characters (else 422)")
    func refusals() async throws {
        let store = try licenseStore()
        try await store.run { browser in
            let sale = try await store.sale(browser)
            let key = try await store.key(of: sale)
            for verb in ["activate", "validate", "deactivate"] {
                let unknown = try await browser.license(
                    verb, ["license_key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "instance_name": "x", "instance_id": "act_x"])
                #expect(unknown.status == .notFound, "\(verb): \(unknown.text)")
                #expect(unknown.isProblem)
                let malformed = try await browser.license(verb, ["license_key": "not a key!", "instance_name": "x", "instance_id": "x"])
                #expect(malformed.status == .notFound, "\(verb) malformed key")
                let missing = try await browser.license(verb, [:])
                #expect(missing.status == .badRequest)
                #expect(missing.object["field"] as? String == "license_key")
            }
            let notJSON = try await Browser(client: browser.client).request(
                .post, "/api/v1/licenses/validate", headers: [.contentType: "text/plain"], body: "license_key=\(key)",
                useCookies: false)
            #expect(notJSON.status == .unsupportedMediaType)

            for bad in ["", "   ", String(repeating: "é", count: 256), "two\nlines"] {
                let refused = try await browser.license("activate", ["license_key": key, "instance_name": bad])
                #expect(refused.status == .unprocessableContent, "\(bad.prefix(10)): \(refused.text)")
                #expect(refused.object["field"] as? String == "instance_name")
            }
            let longest = try await browser.license(
                "activate", ["license_key": key, "instance_name": String(repeating: "é", count: 255)])
            #expect(longest.object["activated"] as? Bool == true, "\(longest.text)")
            #expect(try await store.database.licenseKey(key)?.activationUsage == 1, "refusals took no seat")
        }
    }

    @Test("Disabled, enabled, then revoked by a refund: validate says valid:false with the status")
    func statuses() async throws {
        let store = try licenseStore()
        try await store.run { browser in
            let sale = try await store.sale(browser)
            let key = try await store.key(of: sale)
            let fresh = try await browser.license("validate", ["license_key": key])
            #expect(fresh.object["valid"] as? Bool == true)
            #expect(fresh.object["error"] is NSNull)
            #expect(fresh.licenseKey["status"] as? String == "inactive")
            #expect(fresh.licenseKey["expires_at"] is NSNull)
            #expect(fresh.object["instance"] is NSNull)
            let unknownInstance = try await browser.license("validate", ["license_key": key, "instance_id": "act_nope"])
            #expect(unknownInstance.object["valid"] as? Bool == false)
            let activated = try await browser.license("activate", ["license_key": key, "instance_name": "studio"])
            let instanceID = try #require(activated.instance?["id"] as? String)

            let disabled = try await sale.seller.json(.post, "/api/v1/licenses/\(key)/disable", "{}")
            #expect(disabled.status == .ok, "\(disabled.text)")
            #expect(disabled.object["status"] as? String == "disabled")
            #expect((disabled.object["instances"] as? [Any])?.count == 1)
            let off = try await browser.license("validate", ["license_key": key, "instance_id": instanceID])
            #expect(off.status == .ok)
            #expect(off.object["valid"] as? Bool == false)
            #expect(off.licenseKey["status"] as? String == "disabled")
            #expect((off.object["error"] as? String)?.contains("disabled") == true)
            let refusedActivation = try await browser.license("activate", ["license_key": key, "instance_name": "other"])
            #expect(refusedActivation.status == .ok)
            #expect(refusedActivation.object["activated"] as? Bool == false)
            #expect(refusedActivation.licenseKey["status"] as? String == "disabled")

            let enabled = try await sale.seller.json(.post, "/api/v1/licenses/\(key)/enable", "{}")
            #expect(enabled.object["status"] as? String == "active")
            #expect(try await browser.license("validate", ["license_key": key, "instance_id": instanceID]).object["valid"] as? Bool == true)

            // Past its expiry (set by SQL: no product sets one yet) a key is `expired`.
            try await store.database.writer.write { db in
                try db.execute(sql: "UPDATE license_keys SET expires_at = ? WHERE key = ?", arguments: [Date(timeIntervalSinceNow: -60), key])
            }
            let expired = try await browser.license("validate", ["license_key": key])
            #expect(expired.object["valid"] as? Bool == false)
            #expect(expired.licenseKey["status"] as? String == "expired")
            #expect(expired.licenseKey["expires_at"] is String)
            #expect(try await browser.license("activate", ["license_key": key, "instance_name": "late"]).object["activated"] as? Bool == false)
            try await store.database.writer.write { db in
                try db.execute(sql: "UPDATE license_keys SET expires_at = NULL WHERE key = ?", arguments: [key])
            }

            // A full refund revokes the key for good.
            let refund = try await sale.seller.json(.post, "/api/v1/orders/\(sale.orderID)/refund", "{}")
            #expect(refund.status == .ok, "\(refund.text)")
            let revoked = try await browser.license("validate", ["license_key": key, "instance_id": instanceID])
            #expect(revoked.status == .ok)
            #expect(revoked.object["valid"] as? Bool == false)
            #expect(revoked.licenseKey["status"] as? String == "revoked")
            let noSeat = try await browser.license("activate", ["license_key": key, "instance_name": "after refund"])
            #expect(noSeat.object["activated"] as? Bool == false)
            let stillRevoked = try await sale.seller.json(.post, "/api/v1/licenses/\(key)/enable", "{}")
            #expect(stillRevoked.status == .conflict)
            #expect(stillRevoked.isProblem)
            #expect(try await store.database.licenseKey(key)?.storedStatus == .revoked)
        }
    }

    @Test("The license API allows 60 requests a minute per address, then 429 with Retry-After")
    func rateLimit() async throws {
        let clock = LicenseTestClock()
        try await runWithClock(clock) { browser in
            for n in 1...LicenseAPITestsLimit.perMinute {
                let answer = try await browser.license("validate", ["license_key": "UNKNOWN-\(n)"])
                #expect(answer.status == .notFound, "request \(n)")
            }
            let limited = try await browser.license("activate", ["license_key": "UNKNOWN", "instance_name": "x"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.isProblem)
            #expect(limited.object["code"] as? String == "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // Other routes are not affected, and the window slides.
            #expect(try await browser.get("/api/v1/categories").status == .ok)
            clock.advance(by: 61)
            #expect(try await browser.license("validate", ["license_key": "UNKNOWN"]).status == .notFound)
        }

        // An operator who turned per-IP throttling off turned this limit off too.
        let unthrottled = try licenseStore { $0.limits.requestsPerIPPerMinute = 0 }
        try await unthrottled.run { browser in
            for _ in 0...LicenseAPITestsLimit.perMinute {
                let answer = try await browser.license("validate", ["license_key": "UNKNOWN"])
                #expect(answer.status == .notFound)
            }
        }
    }

    @Test("Disable/enable: the product's seller and admins; others are told the key does not exist")
    func sellerControls() async throws {
        let store = try licenseStore()
        try await store.run { browser in
            let sale = try await store.sale(browser)
            let key = try await store.key(of: sale)
            let rival = try await store.verifiedSeller(browser, "rival@example.com")
            let admin = try await store.admin(browser)
            let guest = Browser(client: browser.client)

            #expect(try await guest.json(.post, "/api/v1/licenses/\(key)/disable", "{}").status == .unauthorized)
            #expect(try await rival.json(.post, "/api/v1/licenses/\(key)/disable", "{}").status == .notFound)
            #expect(try await sale.buyer.json(.post, "/api/v1/licenses/\(key)/disable", "{}").status == .notFound)
            #expect(try await sale.seller.json(.post, "/api/v1/licenses/NOPE-NOPE/disable", "{}").status == .notFound)
            #expect(try await store.database.licenseKey(key)?.storedStatus == .active)
            let byAdmin = try await admin.json(.post, "/api/v1/licenses/\(key.lowercased())/disable", "{}")
            #expect(byAdmin.status == .ok)
            #expect(byAdmin.object["status"] as? String == "disabled")
            let bySeller = try await sale.seller.json(.post, "/api/v1/licenses/\(key)/enable", "{}")
            #expect(bySeller.status == .ok)
            #expect(bySeller.object["status"] as? String == "inactive")

            // The dashboard page: the keys with their buyer, for the seller and admins only.
            let pagePath = "/dashboard/products/\(sale.productID)/licenses"
            let toSignIn = try await guest.get(pagePath, headers: [.accept: "text/html"])
            #expect(toSignIn.status == .seeOther)
            #expect(toSignIn.location.hasPrefix("/signin?next="))
            #expect(try await rival.get(pagePath, headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await sale.buyer.get(pagePath, headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await admin.get(pagePath, headers: [.accept: "text/html"]).status == .ok)
            let page = try await sale.seller.get(pagePath, headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            #expect(page.text.contains(key))
            #expect(page.text.contains("buyer@example.com"))
            #expect(page.text.contains("\(pagePath)/\(key)/disable"))
            #expect(!page.text.contains("licenses-notice") && !page.text.contains("licenses-error"), "no empty notices")
            #expect(!page.text.contains("nil"), "no Optional printed as nil")

            let disabled = try await sale.seller.submitForm("\(pagePath)/\(key)/disable", fields: [:], csrfFrom: pagePath)
            #expect(disabled.status == .seeOther)
            #expect(disabled.location == "\(pagePath)?disabled=\(key)")
            #expect(try await store.database.licenseKey(key)?.storedStatus == .disabled)
            let after = try await sale.seller.get(disabled.location, headers: [.accept: "text/html"])
            #expect(after.text.contains("licenses-notice"))
            #expect(after.text.contains("\(pagePath)/\(key)/enable"))
            let rivalForm = try await rival.submitForm("\(pagePath)/\(key)/enable", fields: [:], csrfFrom: "/")
            #expect(rivalForm.status == .notFound)
            let enabled = try await sale.seller.submitForm("\(pagePath)/\(key)/enable", fields: [:], csrfFrom: pagePath)
            #expect(enabled.location == "\(pagePath)?enabled=\(key)")
            #expect(try await store.database.licenseKey(key)?.storedStatus == .active)
        }
    }

    @Test("Private pages: owners, the seller and admins read them; others get 404; guests sign in first")
    func privatePages() async throws {
        let store = try licenseStore()
        try await store.run { browser in
            let sale = try await store.sale(browser, kind: "content", limit: nil)
            let put = try await sale.seller.json(
                .put, "/api/v1/products/\(sale.productID)/pages/lesson-1",
                #"{"title":"Lesson one","body":"Hello **reader** <script>alert(1)</script>"}"#)
            #expect(put.status == .ok, "\(put.text)")
            _ = try await sale.seller.json(.put, "/api/v1/products/\(sale.productID)/pages/lesson-2", #"{"title":"Lesson two","body":"More"}"#)
            let api = "/api/v1/library/\(sale.productID)/pages/lesson-1"
            let html = "/library/\(sale.productID)/pages/lesson-1"

            let read = try await sale.buyer.get(api)
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.object["slug"] as? String == "lesson-1")
            #expect(read.object["title"] as? String == "Lesson one")
            #expect((read.object["body_html"] as? String)?.contains("<strong>reader</strong>") == true)
            #expect(read.object["updated_at"] is String)
            let page = try await sale.buyer.get(html, headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            #expect(page.text.contains("<strong>reader</strong>"))
            #expect(!page.text.contains("<script>alert(1)"), "the body is sanitised")
            #expect(page.text.contains("/library/\(sale.productID)/pages/lesson-2"), "the other pages are listed")
            #expect(try await sale.buyer.get("/api/v1/library/\(sale.productID)/pages/nope").status == .notFound)

            #expect(try await sale.seller.get(api).status == .ok)
            #expect(try await store.admin(browser).get(api).status == .ok)
            let stranger = try await store.verifiedSeller(browser, "stranger@example.com")
            #expect(try await stranger.get(api).status == .notFound)
            #expect(try await stranger.get(html, headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await stranger.get("/api/v1/library/prod_nope/pages/lesson-1").status == .notFound)
            let guest = Browser(client: browser.client)
            #expect(try await guest.get(api).status == .unauthorized)
            let toSignIn = try await guest.get(html, headers: [.accept: "text/html"])
            #expect(toSignIn.status == .seeOther)
            #expect(toSignIn.location.hasPrefix("/signin?next="))
            #expect(toSignIn.location.removingPercentEncoding?.hasSuffix(html) == true)

            // A refund takes the pages back.
            #expect(try await sale.seller.json(.post, "/api/v1/orders/\(sale.orderID)/refund", "{}").status == .ok)
            #expect(try await sale.buyer.get(api).status == .notFound)
            #expect(try await sale.buyer.get(html, headers: [.accept: "text/html"]).status == .notFound)
        }
    }
}

/// A store whose database and app use `clock` (TestStore's use the system clock).
private func runWithClock(_ clock: LicenseTestClock, _ body: @Sendable (Browser) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var settings = Settings()
    settings.auth.bcryptCost = 4
    settings.storage.dataDir = directory.path
    let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock)
    let app = try await buildApplication(
        await SoukRuntime(
            settings: settings, database: database, secretKey: Array(repeating: 7, count: 32), logger: TestStore.logger))
    try await app.test(.router) { client in try await body(Browser(client: client)) }
}

private enum LicenseAPITestsLimit {
    static let perMinute = 60
}

/// A clock the test moves by hand.
private final class LicenseTestClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_750_000_000)

    func now() -> Date { lock.withLock { current } }
    func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
}
