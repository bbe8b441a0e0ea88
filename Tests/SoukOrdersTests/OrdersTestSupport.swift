import Foundation
import GRDB
import Logging
import SoukCore
@testable import SoukDatabase
import SoukDelivery
import SoukMail
import SoukOrders
import SoukPayments
import SoukRuntime
import Synchronization
import Testing

/// A clock the test moves by hand.
final class OrdersTestClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// A fresh database file in a temp directory, with helpers to make sellers, buyers, products and
/// carts, and to read what the money path wrote.
struct OrdersFixture {
    let clock: OrdersTestClock
    let database: AppDatabase
    /// The provider orders and events use unless a call names one (test orders never count in
    /// balances: balance tests use "stripe").
    var provider = "test"

    init(clock: OrdersTestClock = OrdersTestClock(), provider: String = "test") throws {
        self.provider = provider
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-orders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.clock = clock
        database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock)
    }

    var queue: JobQueue { JobQueue(database: database) }

    static let quiet: Logger = {
        var logger = Logger(label: "souk-orders-test")
        logger.logLevel = .critical
        return logger
    }()

    /// A seller verified before the story starts: the notices of their sign-up and verification
    /// stay, but their e-mails are history, so the jobs a test counts are the money path's alone.
    func seller(_ email: String, name: String? = nil) async throws -> User {
        _ = try await database.insertUser(email: email, name: name ?? email, passwordHash: "x", role: .seller)
        let seller = try await database.setSellerStatus(email: email, .verified)
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    DELETE FROM jobs WHERE dedupe_key IN
                        (SELECT 'notification_email:' || id FROM notifications WHERE type IN ('seller.verified', 'seller.pending'))
                    """)
        }
        return seller
    }

    func buyer(_ email: String) async throws -> User {
        try await database.insertUser(email: email, name: email, passwordHash: "x", role: .buyer)
    }

    func admin(_ email: String = "admin@example.com") async throws -> User {
        try await database.insertUser(email: email, name: "Admin", passwordHash: "x", role: .admin)
    }

    @discardableResult
    func product(
        _ title: String, by seller: User, price: Int = 1000, stock: Int? = nil, currency: String = "USD",
        status: ProductStatus = .published
    ) async throws -> Product {
        let now = clock.now()
        return try await database.insertProduct(
            Product(
                id: database.ids.make(.product), sellerID: seller.id, sellerName: seller.name, title: title,
                slug: title.lowercased().replacingOccurrences(of: " ", with: "-"), summary: "", description: "",
                descriptionHTML: "", category: "Books", tags: [], kind: .download,
                price: Price(amount: price, currency: currency), stock: stock, status: status, attributesJSON: "{}",
                downloadLimit: nil, activationLimit: nil, ratingAverage: 0, ratingCount: 0, salesCount: 0, createdAt: now,
                updatedAt: now, publishedAt: status == .published ? now : nil))
    }

    /// Puts `quantity` of each product in the buyer's cart (at its price) and returns the cart.
    @discardableResult
    func cart(_ buyer: User, _ lines: [(Product, Int)]) async throws -> Cart {
        var cart: Cart?
        for (product, quantity) in lines {
            cart = try await database.setCartItem(
                product.id, quantity: quantity, unitAmount: product.price.amount, owner: .user(buyer.id), lifetime: 86_400)
        }
        return try #require(cart)
    }

    func draft(_ buyer: User, _ cart: Cart, key: String? = nil, fee: Double = 0, provider: String = "test") -> CheckoutDraft {
        CheckoutDraft(buyer: buyer, cart: cart, provider: provider, idempotencyKey: key, feePercent: fee)
    }

    func stock(_ product: Product) async throws -> Int? {
        try await database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT stock FROM products WHERE id = ?", arguments: [product.id])?["stock"] as Int?
        }
    }

    func setStock(_ product: Product, _ stock: Int?) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE products SET stock = ? WHERE id = ?", arguments: [stock, product.id])
        }
    }

    func salesCount(_ product: Product) async throws -> Int {
        try await database.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT sales_count FROM products WHERE id = ?", arguments: [product.id]) ?? -1
        }
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) async throws -> Int {
        try await database.writer.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    func jobs(kind: String) async throws -> [Job] {
        try await queue.jobs(limit: 1000).filter { $0.kind == kind }
    }

    func status(_ orderID: String) async throws -> OrderStatus? {
        try await database.order(id: orderID)?.status
    }

    /// Places an order for `lines` (a new cart) and returns it, with a provider checkout session
    /// `cs_<order id>` attached unless `session` is false (as checkout does).
    func placedOrder(
        _ buyer: User, _ lines: [(Product, Int)], fee: Double = 0, provider: String? = nil, session: Bool = true
    ) async throws -> Order {
        let cart = try await cart(buyer, lines)
        let order = try await database.placeOrder(draft(buyer, cart, fee: fee, provider: provider ?? self.provider)).order
        guard session, order.total > 0 else { return order }
        return try await database.attachCheckoutSession(
            orderID: order.id, sessionID: "cs_\(order.id)", redirectURL: "https://pay.example/\(order.id)")
    }

    /// A payment that matches `order`: through its checkout session, for its total, in its currency.
    func payment(_ order: Order, _ paymentID: String) -> PaymentEffect {
        .paid(Payment(id: paymentID, checkoutID: order.providerSessionID, amount: order.total, currency: order.currency))
    }

    /// A paid order (payment id `pi_<order>`).
    func paidOrder(_ buyer: User, _ lines: [(Product, Int)], fee: Double = 0) async throws -> Order {
        let order = try await placedOrder(buyer, lines, fee: fee)
        let outcome = try await database.recordPaymentEvent(event("evt_pay_\(order.id)", order.id, payment(order, "pi_\(order.id)")))
        #expect(outcome == .applied(orderID: order.id, status: .paid))
        return try #require(try await database.order(id: order.id))
    }

    func event(_ id: String, _ orderID: String, _ effect: PaymentEffect?, provider: String? = nil, type: String = "test.event")
        -> PaymentEvent
    {
        PaymentEvent(provider: provider ?? self.provider, id: id, type: type, order: .order(orderID), effect: effect)
    }
}

/// Asserts `body` throws a SoukError with `code`, and returns it.
@discardableResult
func expectSoukError<T>(
    _ code: SoukError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> SoukError? {
    do {
        _ = try await body()
        Issue.record("expected a \(code.rawValue) error, got success", sourceLocation: sourceLocation)
    } catch let error as SoukError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a \(code.rawValue) SoukError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// An `HTTPTransport` that records every request and answers from a handler.
final class RecordingTransport: HTTPTransport {
    private let recorded = Mutex<[OutgoingRequest]>([])
    private let handler: @Sendable (OutgoingRequest) async throws -> IncomingResponse

    init(_ handler: @escaping @Sendable (OutgoingRequest) async throws -> IncomingResponse) {
        self.handler = handler
    }

    var requests: [OutgoingRequest] { recorded.withLock { $0 } }

    func send(_ request: OutgoingRequest) async throws -> IncomingResponse {
        recorded.withLock { $0.append(request) }
        return try await handler(request)
    }

    static func json(_ status: Int, _ text: String) -> IncomingResponse {
        IncomingResponse(status: status, body: Data(text.utf8))
    }
}

extension OutgoingRequest {
    /// The form body decoded into (name, value) pairs, in order.
    var formPairs: [(String, String)] {
        guard let body else { return [] }
        return String(decoding: body, as: UTF8.self).split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (
                String(parts[0]).removingPercentEncoding ?? String(parts[0]),
                parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            )
        }
    }

    var form: [String: String] {
        Dictionary(formPairs, uniquingKeysWith: { first, _ in first })
    }

    var bodyText: String { body.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}

/// The money path wired the way `souk serve` wires it, over a fixture's database, with the test
/// provider (and Stripe when a transport is given).
struct MoneyPath {
    let fixture: OrdersFixture
    let providers: PaymentProviders
    let links: OrderLinks
    let checkout: CheckoutService
    let events: PaymentEventsService
    let refunds: RefundService
    let runner: JobRunner
    /// Where the receipts go (`.eml` files).
    let outbox: String
    static let secret: [UInt8] = Array(repeating: 9, count: 32)
    static let baseURL = "http://store.test"

    /// The runtime everything here comes from, as `souk serve` builds it.
    let runtime: SoukRuntime

    init(_ fixture: OrdersFixture, fee: Double = 0, stripeTransport: (any HTTPTransport)? = nil) async {
        self.fixture = fixture
        var settings = Settings()
        settings.server.baseURL = Self.baseURL
        settings.store.feePercent = fee
        if stripeTransport != nil {
            settings.payments.stripe.secretKey = "sk_test_123"
            settings.payments.stripe.webhookSecret = "whsec_abc"
            settings.payments.stripe.apiBase = "https://stripe.fake"
            // Beside a real provider the test provider is off unless enabled; these tests use both.
            settings.payments.testEnabled = true
        }
        outbox = FileManager.default.temporaryDirectory.appendingPathComponent("souk-outbox-\(UUID().uuidString)").path
        runtime = await SoukRuntime(
            settings: settings, database: fixture.database, secretKey: Self.secret, logger: OrdersFixture.quiet,
            paymentTransport: stripeTransport ?? URLSessionTransport(), mailer: OutboxMailer(directory: outbox))
        providers = runtime.providers
        links = runtime.orderLinks
        checkout = runtime.checkout
        events = runtime.paymentEvents
        refunds = runtime.refunds
        runner = runtime.jobRunner(owner: "test-runner")
    }

    var test: TestProvider { providers.test! }

    /// Runs due jobs until none is left; returns how many ran and how many failed.
    @discardableResult
    func runJobs() async throws -> (succeeded: Int, failed: Int) {
        var succeeded = 0
        var failed = 0
        for _ in 0..<20 {
            let summary = try await runner.runOnce(limit: 10)
            if summary.claimed == 0 { break }
            succeeded += summary.succeeded
            failed += summary.retrying + summary.dead
        }
        return (succeeded, failed)
    }

    /// One pass of the runner.
    func runJobsOnce() async throws -> JobRunSummary {
        try await runner.runOnce(limit: 10)
    }
}
