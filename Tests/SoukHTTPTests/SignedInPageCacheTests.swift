import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SoukCore
import SoukDatabase
import Synchronization
import Testing

@testable import SoukHTTP

/// Signs every request in as the user named by `x-test-user`, with the CSRF token in
/// `x-test-csrf` (what `AuthenticationMiddleware` and `CSRFMiddleware` would set).
private struct TestIdentityMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let users: [String: User]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let name = request.headers[HTTPField.Name("x-test-user")!], let user = users[name] {
            context.identity = Identity(user: user, credential: .session(token: "t-\(name)", origin: .password))
        }
        context.csrfToken = request.headers[HTTPField.Name("x-test-csrf")!] ?? ""
        return try await next(request, context)
    }
}

private final class RenderCount: Sendable {
    let value = Atomic<Int>(0)
    var count: Int { value.load(ordering: .relaxed) }
}

/// A router with the page caches in front of the routes a test adds, its identities named by
/// `x-test-user`.
private func cachedRouter(_ database: AppDatabase, users: [String: User]) -> Router<SoukRequestContext> {
    let router = Router(context: SoukRequestContext.self)
    router.add(middleware: TestIdentityMiddleware(users: users))
    router.add(
        middleware: PageCacheMiddleware(
            database: database, cache: PageCache(https: false), signedIn: SignedInPageCache(cookies: CookieNames(https: false)),
            productViews: ProductViewCounter(database: database, logger: Logger(label: "test"))))
    return router
}

/// A page as a route answers it.
private func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
}

@Suite("Signed-in pages kept while the database is unchanged")
struct SignedInPageCacheTests {
    @Test("A signed-in page is rendered again after any commit (this process's or another's), after a second, and per person; a crowd waits for one rendering")
    func keptUntilAnythingChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("souk.db").path
        let clock = StoreTestClock()
        let database = try AppDatabase(path: path, clock: clock)
        let sam = try await database.insertUser(email: "sam@example.com", name: "Sam", passwordHash: "x", role: .seller)
        let ada = try await database.insertUser(email: "ada@example.com", name: "Ada", passwordHash: "x", role: .buyer)

        let renders = RenderCount()
        let router = cachedRouter(database, users: ["sam": sam, "ada": ada])
        router.get("dashboard") { _, context -> Response in
            renders.value.add(1, ordering: .relaxed)
            let name = try await database.user(id: context.identity?.user.id ?? "")?.name ?? "nobody"
            return html("<p>\(name)</p><input name=\"_csrf\" value=\"\(context.csrfToken)\">")
        }
        router.get("library") { _, context -> Response in
            renders.value.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(200))  // long enough for the crowd to gather
            return html("<p>Library</p><input name=\"_csrf\" value=\"\(context.csrfToken)\">")
        }
        router.get("orders") { _, _ -> Response in
            renders.value.add(1, ordering: .relaxed)
            return html("<p>Not found</p>", status: .notFound)
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            func page(_ user: String, csrf: String = "token-1", path: String = "/dashboard") async throws -> TestResponse {
                try await client.execute(
                    uri: path, method: .get,
                    headers: [HTTPField.Name("x-test-user")!: user, HTTPField.Name("x-test-csrf")!: csrf])
            }
            let first = try await page("sam")
            #expect(first.status == .ok && String(buffer: first.body).contains("<p>Sam</p>"))
            #expect(first.headers[.cacheControl] == "no-store" && first.headers[.eTag] == nil, "nothing else may keep it")
            #expect(renders.count == 1)

            // Reloaded: kept, with this request's own token in the form.
            let again = try await page("sam", csrf: "token-2")
            #expect(renders.count == 1)
            #expect(String(buffer: again.body) == #"<p>Sam</p><input name="_csrf" value="token-2">"#)
            #expect(again.headers[.cacheControl] == "no-store")

            // Someone else's page is theirs, never the one kept for Sam.
            #expect(String(buffer: try await page("ada").body).contains("<p>Ada</p>"))
            #expect(renders.count == 2)

            // A commit by this process: rendered again at once.
            _ = try await database.setName(userID: sam.id, "Sam Two")
            #expect(String(buffer: try await page("sam").body).contains("<p>Sam Two</p>"))
            #expect(renders.count == 3)
            _ = try await page("sam")
            #expect(renders.count == 3)

            // A commit by another process (a `souk` command): seen at once too.
            let otherProcess = try AppDatabase(path: path, clock: clock)
            _ = try await otherProcess.setName(userID: sam.id, "Sam Three")
            #expect(String(buffer: try await page("sam").body).contains("<p>Sam Three</p>"))
            #expect(renders.count == 4)

            // A second later, whatever happened: rendered again.
            clock.advance(by: 1.5)
            _ = try await page("sam")
            #expect(renders.count == 5)

            // An error is never kept.
            #expect(try await page("sam", path: "/orders").status == .notFound)
            #expect(try await page("sam", path: "/orders").status == .notFound)
            #expect(renders.count == 7)

            // Twenty reloads at once of a page not kept yet: one rendering, each with its own token.
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<20 {
                    group.addTask { String(buffer: try await page("sam", csrf: "crowd-\(n)", path: "/library").body) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(renders.count == 8)
            #expect(Set(bodies) == Set((0..<20).map { #"<p>Library</p><input name="_csrf" value="crowd-\#($0)">"# }))
        }
    }
}

@Suite("Public pages rendered once for a crowd")
struct PublicPageFlightTests {
    @Test("Visitors asking at once for a page not kept yet wait for one rendering, each with their own token; an answer not kept is rendered for each")
    func crowdWaitsForOneRendering() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: StoreTestClock())

        let renders = RenderCount()
        let router = cachedRouter(database, users: [:])
        router.get("search") { _, context -> Response in
            renders.value.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(200))  // long enough for the crowd to gather
            return html("<p>Results</p><input name=\"_csrf\" value=\"\(context.csrfToken)\">")
        }
        router.get("categories/:name") { _, _ -> Response in
            renders.value.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(100))
            return html("<p>Not found</p>", status: .notFound)
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            func crowd(_ path: String, _ size: Int) async throws -> [(HTTPResponse.Status, String)] {
                try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                    for n in 0..<size {
                        group.addTask {
                            let response = try await client.execute(
                                uri: path, method: .get, headers: [HTTPField.Name("x-test-csrf")!: "visitor-\(n)"])
                            return (response.status, String(buffer: response.body))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let answers = try await crowd("/search?q=kestrel", 20)
            #expect(renders.count == 1)
            #expect(answers.allSatisfy { $0.0 == .ok })
            #expect(Set(answers.map(\.1)) == Set((0..<20).map { #"<p>Results</p><input name="_csrf" value="visitor-\#($0)">"# }))
            // Kept now: no rendering at all.
            _ = try await crowd("/search?q=kestrel", 5)
            #expect(renders.count == 1)
            // Another address is its own rendering.
            _ = try await crowd("/search?q=moth", 5)
            #expect(renders.count == 2)

            // A 404 is never kept nor handed to the others: each asks for themselves.
            let missing = try await crowd("/categories/Nope", 6)
            #expect(missing.allSatisfy { $0.0 == .notFound })
            #expect(renders.count == 8)
        }
    }
}
