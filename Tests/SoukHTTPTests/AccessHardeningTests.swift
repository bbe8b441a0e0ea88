import Foundation
import Hummingbird
import HummingbirdTesting
import SoukAuth
import SoukCore
import SoukDatabase
import SoukHTTP
import SoukRuntime
import Testing

/// A clock the test moves by hand.
private final class AccessTestClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_750_000_000)

    func now() -> Date { lock.withLock { current } }
    func advance(hours: Double) { lock.withLock { current += hours * 3600 } }
}

/// A store whose database and app use `clock`, with the default 720-hour sessions.
private func runWithClock(
    _ clock: AccessTestClock, _ body: @Sendable (Browser, AppDatabase) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var settings = Settings()
    settings.auth.bcryptCost = 4
    settings.storage.dataDir = directory.path
    let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock)
    let app = try await buildApplication(
        await SoukRuntime(
            settings: settings, database: database, secretKey: Array(repeating: 7, count: 32), logger: TestStore.logger))
    try await app.test(.router) { client in try await body(Browser(client: client), database) }
}

/// A sign-in link for `userID`, as a receipt would carry; returns its path.
private func mailedLink(_ database: AppDatabase, userID: String) async throws -> String {
    let token = String((0..<43).map { _ in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
    try await database.insertMagicLink(
        tokenHash: Secrets.storageHash(token), userID: userID, redirect: "/library", lifetime: 7 * 86_400)
    return "/magic/\(token)"
}

private extension Browser {
    var holdsSession: Bool { cookies.keys.contains { $0.lowercased().contains("session") } }
    func isSignedIn() async throws -> Bool { try await get("/api/v1/me").status == .ok }
}

@Suite("Access rules: seller standing, credentials, sign-in links")
struct AccessHardeningTests {
    @Test(
        "A seller who is not verified gets 403 with the reason on every seller route, API and pages",
        arguments: [SellerStatus.suspended, .rejected, .pending])
    func standing(_ status: SellerStatus) async throws {
        let store = try TestStore { $0.store.marketplace = true }
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let product = try await seller.createProduct("Pixel Tool", kind: "license", publish: true)
            let id = try #require(product["id"] as? String)
            _ = try await store.database.setSellerStatus(email: "seller@example.com", status)
            let reason = try #require(SellerStanding.refused(status).refusal)

            let api: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/api/v1/products", #"{"title":"X","kind":"download","category":"Books","price":1}"#),
                (.patch, "/api/v1/products/\(id)", #"{"title":"Hijacked"}"#),
                (.patch, "/api/v1/products/\(id)", #"{"status":"archived"}"#),
                (.delete, "/api/v1/products/\(id)", nil),
                (.put, "/api/v1/products/\(id)/pages/intro", #"{"title":"T","body":"B"}"#),
                (.post, "/api/v1/licenses/ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2/disable", "{}"),
                (.post, "/api/v1/licenses/ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2/enable", "{}"),
                (.get, "/api/v1/products/\(id)/downloads", nil),
                (.get, "/api/v1/orders", nil),
                (.get, "/api/v1/orders?role=seller", nil),
            ]
            for (method, path, body) in api {
                let response: TestResponse
                if let body {
                    response = try await seller.json(method, path, body)
                } else {
                    response = try await seller.request(method, path)
                }
                #expect(response.status == .forbidden, "\(method) \(path): \(response.status)")
                #expect(response.isProblem)
                #expect(response.object["detail"] as? String == reason, "\(method) \(path): \(response.text)")
            }
            let shownReason = reason.prefix { $0 != "'" }  // HTML escapes the apostrophe
            for path in [
                "/dashboard", "/dashboard/new", "/dashboard/products/\(id)", "/dashboard/products/\(id)/licenses",
                "/dashboard/products/\(id)/downloads", "/dashboard/sales", "/dashboard/export",
                "/dashboard/export/orders.csv", "/dashboard/export/licenses.json",
            ] {
                let page = try await seller.get(path, headers: [.accept: "text/html"])
                #expect(page.status == .forbidden, "\(path): \(page.status)")
                #expect(page.text.contains(shownReason), "\(path) does not say why")
                #expect(!page.text.contains("action=\"/dashboard"), "\(path) offers a seller form")
            }
            let edit = try await seller.submitForm(
                "/dashboard/products/\(id)/status", fields: ["status": "archived"], csrfFrom: "/account")
            #expect(edit.status == .forbidden)
            // Nothing changed.
            let stored = try await store.database.product(id: id)
            #expect(stored?.title == "Pixel Tool")
            #expect(stored?.status == .published)
            // Their purchases stay theirs to see.
            #expect(try await seller.get("/api/v1/orders?role=buyer").status == .ok)
        }
    }

    @Test("A sign-in link's session ends after a day; a password sign-in lasts the configured time")
    func linkSessionLifetime() async throws {
        let clock = AccessTestClock()
        try await runWithClock(clock) { browser, database in
            let user = try await browser.register("guest@example.com")
            let viaLink = Browser(client: browser.client)
            let used = try await viaLink.submitForm(
                try await mailedLink(database, userID: try #require(user["id"] as? String)), fields: [:],
                csrfFrom: "/signin")
            #expect(used.status == .seeOther)
            #expect(used.headers[.location] == "/library")
            #expect(try await viaLink.isSignedIn())
            clock.advance(hours: 23.5)
            #expect(try await viaLink.isSignedIn())
            clock.advance(hours: 1)
            #expect(try await !viaLink.isSignedIn(), "a link session outlived a day")
            // The password session made at registration (a day ago) still works, and so does a new one.
            #expect(try await browser.isSignedIn())
            clock.advance(hours: 600)
            #expect(try await browser.isSignedIn())
        }
    }

    @Test("An admin presented with a valid sign-in link is not signed in, and the link is used up")
    func adminLink() async throws {
        let clock = AccessTestClock()
        try await runWithClock(clock) { browser, database in
            let admin = try await database.insertUser(
                email: "boss@example.com", name: "Boss", passwordHash: "unused", role: .admin)
            let link = try await mailedLink(database, userID: admin.id)
            let refused = try await browser.submitForm(link, fields: [:], csrfFrom: link)
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("sign in with their password"))
            #expect(refused.text.contains("href=\"/signin\""))
            #expect(!browser.holdsSession)
            #expect(try await !browser.isSignedIn())
            let again = try await Browser(client: browser.client).submitForm(link, fields: [:], csrfFrom: link)
            #expect(again.status == .notFound)
        }
    }

    @Test("Sign out everywhere ends every session, token and unused link of the user, and only theirs")
    func signOutEverywhere() async throws {
        let store = try TestStore()
        try await store.run { browser in
            let user = try await browser.register("ann@example.com")
            let token = try await browser.token()
            let laptop = Browser(client: browser.client)
            let login = try await laptop.json(
                .post, "/api/v1/auth/login", #"{"email":"ann@example.com","password":"correct horse"}"#)
            #expect(login.status == .ok)
            let link = try await mailedLink(store.database, userID: try #require(user["id"] as? String))
            let other = Browser(client: browser.client)
            try await other.register("bob@example.com")

            let account = try await browser.get("/account", headers: [.accept: "text/html"])
            #expect(account.text.contains("action=\"/account/signout-everywhere\""))
            let done = try await browser.submitForm("/account/signout-everywhere", fields: [:], csrfFrom: "/account")
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == "/signin?signed_out=everywhere")
            #expect(try await !browser.isSignedIn())
            #expect(try await !laptop.isSignedIn())
            let bearer = try await Browser(client: browser.client).request(
                .get, "/api/v1/me", headers: [.authorization: "Bearer \(token)"], useCookies: false)
            #expect(bearer.status == .unauthorized)
            let voided = try await Browser(client: browser.client).submitForm(link, fields: [:], csrfFrom: link)
            #expect(voided.status == .forbidden)
            #expect(voided.text.contains("voided"))
            #expect(try await other.isSignedIn())
        }
    }
}
