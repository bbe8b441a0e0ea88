import Crypto
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SoukAuth
import SoukCatalog
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukOrders
import SoukPayments

/// What a Souk server is built from. `souk serve` and the tests both fill this in and call
/// `buildApplication`, so the tests exercise the very same wiring.
public struct AppEnvironment: Sendable {
    public var settings: Settings
    public var database: AppDatabase
    /// The server secret (HMAC key for CSRF tokens and signed links), from `<data_dir>/secret.key`.
    public var secretKey: [UInt8]
    public var clock: any WallClock
    public var logger: Logger
    /// `<data_dir>/theme`: templates there override the built-in ones.
    public var themeDirectory: String?
    /// How Souk calls payment providers' APIs (tests substitute a fake).
    public var paymentTransport: any HTTPTransport

    public init(
        settings: Settings, database: AppDatabase, secretKey: [UInt8], clock: any WallClock = SystemClock(),
        logger: Logger = Logger(label: "souk"), themeDirectory: String? = nil,
        paymentTransport: any HTTPTransport = URLSessionTransport()
    ) {
        self.paymentTransport = paymentTransport
        self.settings = settings
        self.database = database
        self.secretKey = secretKey
        self.clock = clock
        self.logger = logger
        self.themeDirectory = themeDirectory
    }
}

/// Prometheus is a process-wide metrics backend: bootstrapped once, whatever the number of apps.
enum MetricsBackend {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

/// The composition root: builds the router with its middleware and routes. `services` run beside
/// the HTTP server and share its lifecycle (the job runner); they stop gracefully with it.
public func buildApplication(
    _ environment: AppEnvironment, services extraServices: [any Service] = []
) async throws -> some ApplicationProtocol {
    let settings = environment.settings
    let templates = try Templates(themeDirectory: environment.themeDirectory)
    let accounts = await AccountService(
        database: environment.database, hasher: PasswordHasher(cost: settings.auth.bcryptCost),
        sessionLifetime: TimeInterval(settings.auth.sessionTTLHours) * 3600)
    let blobs = BlobStore(root: (settings.storage.dataDir as NSString).appendingPathComponent("blobs"))
    let providers = PaymentProviders(
        settings: settings, database: environment.database, serverSecret: environment.secretKey,
        transport: environment.paymentTransport)
    let orderLinks = OrderLinks(baseURL: settings.publicBaseURL, serverSecret: environment.secretKey)
    let services = AppServices(
        settings: settings, database: environment.database, accounts: accounts,
        catalog: CatalogService(database: environment.database, blobs: blobs, defaultCurrency: settings.store.currency),
        carts: CartService(database: environment.database),
        blobs: blobs,
        pages: Pages(templates: templates, settings: settings),
        limits: RateLimits(settings.limits, clock: environment.clock),
        clientAddress: ClientAddress(trustForwardedFor: settings.server.trustForwardedFor),
        cookies: SessionCookies(secure: settings.isHTTPS, maxAge: settings.auth.sessionTTLHours * 3600),
        secretKey: SymmetricKey(data: environment.secretKey), startedAt: environment.clock.now(),
        providers: providers,
        checkout: CheckoutService(
            database: environment.database, providers: providers, links: orderLinks, feePercent: settings.store.feePercent),
        paymentEvents: PaymentEventsService(database: environment.database, providers: providers),
        refunds: RefundService(database: environment.database, providers: providers),
        orderLinks: orderLinks,
        downloadLinks: DownloadLinks(
            serverSecret: environment.secretKey, lifetime: TimeInterval(settings.delivery.linkTTLSeconds),
            clock: environment.clock))
    let metrics = MetricsBackend.registry

    let router = Router(context: SoukRequestContext.self)
    // Outermost first: every response, even an error, is logged, counted and gets the headers.
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(https: settings.isHTTPS))
    router.add(middleware: ErrorMiddleware(pages: services.pages))
    router.add(
        middleware: LimitsMiddleware(
            maxBodyBytes: services.maxBodyBytes, requestsPerIP: services.limits.requestsPerIP,
            clientNetwork: services.clientAddress.network))
    router.add(middleware: AuthenticationMiddleware(accounts: accounts, cookies: services.cookies))
    // CSRF after authentication: its tokens are bound to the session that middleware accepted.
    router.add(
        middleware: CSRFMiddleware(key: services.secretKey, secure: settings.isHTTPS, maxBodyBytes: services.maxBodyBytes))

    SystemRoutes(services: services, metrics: metrics).register(on: router)
    AccountAPI(services: services).register(on: router)
    AccountPages(services: services).register(on: router)
    ProductsAPI(services: services).register(on: router)
    CartAPI(services: services).register(on: router)
    CartPages(services: services).register(on: router)
    StorePages(services: services).register(on: router)
    DashboardPages(services: services).register(on: router)
    DashboardSales(services: services).register(on: router)
    CheckoutAPI(services: services).register(on: router)
    OrdersAPI(services: services).register(on: router)
    WebhookRoutes(services: services).register(on: router)
    CheckoutPages(services: services).register(on: router)
    OrderPages(services: services).register(on: router)
    TestCheckoutPages(services: services).register(on: router)
    DownloadRoutes(services: services).register(on: router)
    LibraryAPI(services: services).register(on: router)
    LibraryPages(services: services).register(on: router)
    DownloadLogRoutes(services: services).register(on: router)
    LicenseAPI(services: services).register(on: router)
    LicensePages(services: services).register(on: router)
    LibraryContentRoutes(services: services).register(on: router)
    MagicLinkRoutes(services: services).register(on: router)
    NotificationsAPI(services: services).register(on: router)

    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.server.host, port: settings.server.port), serverName: "souk"),
        services: extraServices,
        logger: environment.logger)
}
