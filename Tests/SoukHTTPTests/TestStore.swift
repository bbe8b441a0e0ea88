import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
import SoukCore
import SoukDatabase
import SoukHTTP
import SoukRuntime
import Synchronization
import Testing

/// A store on a fresh temp database, driven through the real router (the same `buildApplication`
/// that `souk serve` calls).
struct TestStore {
    var settings: Settings
    let database: AppDatabase
    let directory: URL

    /// `clock` is the database's, so the whole runtime (sessions, jobs, signed links) reads it;
    /// the system clock unless a test moves time by hand.
    init(clock: (any WallClock)? = nil, _ configure: (inout Settings) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var settings = Settings()
        settings.auth.bcryptCost = 4  // fast hashing in tests
        settings.storage.dataDir = directory.path
        configure(&settings)
        self.settings = settings
        database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock ?? SystemClock())
    }

    /// Quiet unless something is wrong, so test output shows failures, not request logs.
    static let logger: Logger = {
        var logger = Logger(label: "souk-test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a client talking to the in-process router.
    func run<Value: Sendable>(_ body: @Sendable (Browser) async throws -> Value) async throws -> Value {
        try await runWithRuntime { browser, _ in try await body(browser) }
    }

    /// The store's one runtime, as `souk serve` builds it.
    func makeRuntime() async -> SoukRuntime {
        await SoukRuntime(
            settings: settings, database: database, secretKey: Array(repeating: 7, count: 32), logger: Self.logger,
            themeDirectory: directory.appendingPathComponent("theme").path)
    }

    /// Runs `body` with a client of the in-process router and the runtime behind it (to run its jobs).
    func runWithRuntime<Value: Sendable>(_ body: @Sendable (Browser, SoukRuntime) async throws -> Value) async throws
        -> Value
    {
        let runtime = await makeRuntime()
        let app = try await buildApplication(runtime)
        return try await app.test(.router) { client in try await body(Browser(client: client), runtime) }
    }
}

/// A clock the test moves by hand: links expire without waiting. It starts at the real time, so
/// anything still stamped with the system clock (a test provider's event) stays close to it.
final class StoreTestClock: WallClock, Sendable {
    private let current = Mutex(Date())

    func now() -> Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// A test client that keeps cookies like a browser, with one helper per kind of request.
final class Browser: Sendable {
    let client: any TestClientProtocol
    private let jar = Mutex<[String: String]>([:])

    init(client: any TestClientProtocol) { self.client = client }

    var cookies: [String: String] { jar.withLock { $0 } }

    func request(
        _ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: String? = nil,
        useCookies: Bool = true
    ) async throws -> TestResponse {
        var headers = headers
        let cookieHeader = jar.withLock { $0.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if useCookies && !cookieHeader.isEmpty { headers[.cookie] = cookieHeader }
        let response = try await client.execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        if useCookies {
            for setCookie in response.headers[values: .setCookie] {
                let pair = setCookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2 else { continue }
                let (name, value) = (String(pair[0]), String(pair[1]))
                jar.withLock { value.isEmpty ? { $0[name] = nil }(&$0) : { $0[name] = value }(&$0) }
            }
        }
        return response
    }

    func json(_ method: HTTPRequest.Method, _ uri: String, _ body: String, headers: HTTPFields = [:]) async throws
        -> TestResponse
    {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await request(method, uri, headers: headers, body: body)
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await request(.get, uri, headers: headers)
    }

    /// Signs up through the API and keeps the session cookie.
    @discardableResult
    func register(_ email: String, password: String = "correct horse", name: String = "Test", role: String = "buyer")
        async throws -> [String: Any]
    {
        let response = try await json(
            .post, "/api/v1/auth/register",
            #"{"email":"\#(email)","password":"\#(password)","name":"\#(name)","role":"\#(role)"}"#)
        #expect(response.status == .created, "sign-up failed: \(String(buffer: response.body))")
        return response.object
    }

    /// Submits an HTML form the way a browser does, with the page's CSRF token.
    func submitForm(_ uri: String, fields: [String: String], csrfFrom page: String) async throws -> TestResponse {
        let pageResponse = try await get(page, headers: [.accept: "text/html"])
        let csrf = try #require(pageResponse.text.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1)
        var all = fields
        all["_csrf"] = String(csrf)
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            .joined(separator: "&")
        return try await request(
            .post, uri, headers: [.contentType: "application/x-www-form-urlencoded", .accept: "text/html"], body: body)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }
    var isProblem: Bool { headers[.contentType] == "application/problem+json" }
}
