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
import SoukImages
import SoukOrders
import SoukPayments
import SoukRuntime

/// Prometheus is a process-wide metrics backend: bootstrapped once, whatever the number of apps.
enum MetricsBackend {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

/// Builds the web layer on `runtime`: the router with its middleware and routes. `services` run
/// beside the HTTP server and share its lifecycle (the runtime's job runner); they stop
/// gracefully with it. `souk serve` and the tests both call this, so the tests exercise the very
/// same wiring.
public func buildApplication(
    _ runtime: SoukRuntime, services extraServices: [any Service] = []
) async throws -> some ApplicationProtocol {
    let settings = runtime.settings
    let (router, notificationHub, productViews) = try buildRouter(runtime)
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [FileRegionWriter()])),
        configuration: .init(address: .hostname(settings.server.host, port: settings.server.port), serverName: "souk"),
        services: extraServices + [
            notificationHub, productViews, SalesSettler(database: runtime.database, logger: runtime.logger),
            CheckpointService(database: runtime.database, logger: runtime.logger),
            StatisticsService(database: runtime.database, logger: runtime.logger),
        ],
        logger: runtime.logger)
}

/// One registered route: a method and a path pattern (`/api/v1/products/{id}`).
public struct RegisteredRoute: Sendable, Hashable, Codable {
    public var method: String
    public var path: String
}

/// Every route the store answers, as the router holds them (`souk routes`): what the OpenAPI
/// document and the access matrix are checked against.
public func registeredRoutes(_ runtime: SoukRuntime) throws -> [RegisteredRoute] {
    let (router, _, _) = try buildRouter(runtime)
    return router.routes
        .map { RegisteredRoute(method: $0.method.rawValue, path: $0.path.description) }
        .sorted { ($0.path, $0.method) < ($1.path, $1.method) }
}

private func buildRouter(_ runtime: SoukRuntime) throws -> (Router<SoukRequestContext>, NotificationHub, ProductViewCounter) {
    let settings = runtime.settings
    let templates = try Templates(themeDirectory: runtime.themeDirectory)
    // A theme's e-mail template that does not parse stops the start too, with the file named.
    _ = try MailComposer.templates(themeDirectory: runtime.themeDirectory)
    let accounts = runtime.accounts
    let notificationHub = NotificationHub(
        database: runtime.database, heartbeatInterval: .seconds(settings.notifications.heartbeatSeconds),
        streamsPerUser: settings.notifications.streamsPerUser,
        maxLifetime: .seconds(settings.notifications.streamMaxSeconds), logger: runtime.logger)
    let services = AppServices(
        settings: settings, database: runtime.database, accounts: accounts, catalog: runtime.catalog,
        reviews: runtime.reviews,
        carts: runtime.carts, blobs: runtime.blobs,
        pages: Pages(templates: templates, settings: settings),
        limits: RateLimits(settings.limits, clock: runtime.clock),
        clientAddress: ClientAddress(trustForwardedFor: settings.server.trustForwardedFor),
        cookies: SessionCookies(secure: settings.isHTTPS, maxAge: settings.auth.sessionTTLHours * 3600),
        secretKey: SymmetricKey(data: runtime.secretKey), startedAt: runtime.clock.now(),
        providers: runtime.providers, checkout: runtime.checkout, paymentEvents: runtime.paymentEvents,
        refunds: runtime.refunds, orderMessages: runtime.orderMessages, orderLinks: runtime.orderLinks, downloadLinks: runtime.downloadLinks,
        licenses: runtime.licenses, library: runtime.library, notificationHub: notificationHub,
        unsubscribeLinks: UnsubscribeLinks(serverSecret: runtime.secretKey, baseURL: settings.publicBaseURL),
        webhooks: runtime.webhooks,
        images: ProductImageService(
            database: runtime.database,
            blobs: BlobStore(root: (settings.storage.dataDir as NSString).appendingPathComponent(ProductImageService.folder))),
        mail: MailComposer(
            database: runtime.database, settings: settings, serverSecret: runtime.secretKey,
            themeDirectory: runtime.themeDirectory),
        productViews: ProductViewCounter(database: runtime.database, logger: runtime.logger))
    let metrics = MetricsBackend.registry

    // HEAD answered wherever GET is, with the GET's headers and no body (RFC 9110 §9.3.2: a
    // monitor or a CDN may ask HEAD); downloads keep their own HEAD, which counts nothing.
    let router = Router(context: SoukRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Outermost first: every response, even an error, is logged, counted and gets the headers.
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: RequestMetricsMiddleware())
    // A signed-out visitor's store page, when kept, is answered here (see the middleware).
    let pageCache = PageCache(https: settings.isHTTPS)
    let csrf = CSRFMiddleware(key: services.secretKey, secure: settings.isHTTPS, maxBodyBytes: services.maxBodyBytes)
    router.add(
        middleware: PageCacheFrontMiddleware(
            database: runtime.database, cache: pageCache, productViews: services.productViews, csrf: csrf,
            requestsPerIP: services.limits.requestsPerIP, clientNetwork: services.clientAddress.network))
    router.add(middleware: SecurityHeadersMiddleware(https: settings.isHTTPS))
    let errors = ErrorMiddleware(pages: services.pages)
    router.add(middleware: errors)
    // Known paths asked with the wrong method: 405 before limits, sessions or CSRF look at them.
    let routeTable = RouteTableReference()
    router.add(middleware: MethodNotAllowedMiddleware(routes: routeTable, errors: errors))
    router.add(
        middleware: LimitsMiddleware(
            maxBodyBytes: services.maxBodyBytes, requestsPerIP: services.limits.requestsPerIP,
            clientNetwork: services.clientAddress.network))
    router.add(middleware: AuthenticationMiddleware(accounts: accounts, cookies: services.cookies))
    // CSRF after authentication: its tokens are bound to the session that middleware accepted.
    router.add(middleware: csrf)
    // Inside CSRF: a cached page gets each visitor's own token and cookie.
    router.add(
        middleware: PageCacheMiddleware(
            database: runtime.database, cache: pageCache, signedIn: SignedInPageCache(cookies: CookieNames(https: settings.isHTTPS)),
            productViews: services.productViews))

    SystemRoutes(services: services, metrics: metrics).register(on: router)
    AccountAPI(services: services).register(on: router)
    AccountPages(services: services).register(on: router)
    ProductsAPI(services: services).register(on: router)
    ReviewsAPI(services: services).register(on: router)
    CartAPI(services: services).register(on: router)
    CartPages(services: services).register(on: router)
    StorePages(services: services).register(on: router)
    DashboardPages(services: services).register(on: router)
    DashboardSales(services: services).register(on: router)
    DashboardMail(services: services).register(on: router)
    DashboardExport(services: services).register(on: router)
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
    PasswordResetPages(services: services).register(on: router)
    ProductImageRoutes(services: services).register(on: router)
    NotificationsAPI(services: services).register(on: router)
    EmailPreferencePages(services: services).register(on: router)
    OrderMessagesRoutes(services: services).register(on: router)
    WebhookEndpointsAPI(services: services).register(on: router)
    DashboardWebhooks(services: services).register(on: router)
    AdminPages(services: services).register(on: router)
    routeTable.set(RouteTable(router.routes))

    return (router, notificationHub, services.productViews)
}
