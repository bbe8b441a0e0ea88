import Foundation
import Logging
import SoukAuth
import SoukCatalog
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukMail
import SoukOrders
import SoukPayments

/// The composition root: builds, once, everything a Souk process runs on: the database and its
/// clock, the payment providers, the mailer, the services and the job registry.
///
/// `souk serve` (the web layer and the job runner beside it), `souk jobs run`, `souk order refund`
/// and the test stores all get theirs from here, so a job runs the same way in every process and
/// shares the providers' locks and transport with the web layer. There is one clock, the
/// database's: expiry, retries, lifetimes and signatures all read it, so tests move time instead
/// of sleeping.
public final class SoukRuntime: Sendable {
    public let settings: Settings
    public let database: AppDatabase
    /// The server secret (HMAC key for CSRF tokens and signed links), from `<data_dir>/secret.key`.
    public let secretKey: [UInt8]
    public let logger: Logger
    /// `<data_dir>/theme`: templates there override the built-in ones.
    public let themeDirectory: String?

    public let providers: PaymentProviders
    public let mailer: any Mailer
    public let accounts: AccountService
    public let blobs: BlobStore
    public let catalog: CatalogService
    public let reviews: ReviewService
    public let carts: CartService
    public let orderLinks: OrderLinks
    public let downloadLinks: DownloadLinks
    public let checkout: CheckoutService
    public let paymentEvents: PaymentEventsService
    public let refunds: RefundService
    public let orderMessages: OrderMessageService
    public let licenses: LicenseService
    public let library: LibraryService
    public let webhooks: WebhookEndpointService
    public let jobQueue: JobQueue
    /// The handler of every job kind.
    public let jobs: JobRegistry

    /// The one clock.
    public var clock: any WallClock { database.clock }

    /// - Parameters:
    ///   - paymentTransport: how Souk calls the providers' APIs (tests pass a fake).
    ///   - mailer: where mail goes; by default SMTP when `[mail] smtp_url` is set, else the outbox.
    ///   - webhookTransport: how seller webhooks are sent; by default libcurl under `[webhooks]`.
    public init(
        settings: Settings, database: AppDatabase, secretKey: [UInt8], logger: Logger = Logger(label: "souk"),
        themeDirectory: String? = nil, paymentTransport: any HTTPTransport = URLSessionTransport(),
        mailer: (any Mailer)? = nil, webhookTransport: (any WebhookTransport)? = nil
    ) async {
        self.settings = settings
        self.database = database
        self.secretKey = secretKey
        self.logger = logger
        self.themeDirectory = themeDirectory
        let dataDir = settings.storage.dataDir as NSString
        let providers = PaymentProviders(
            settings: settings, database: database, serverSecret: secretKey, transport: paymentTransport)
        self.providers = providers
        let mailer = mailer ?? Mailers.make(settings: settings.mail, outboxDirectory: dataDir.appendingPathComponent("outbox"))
        self.mailer = mailer
        accounts = await AccountService(
            database: database, hasher: PasswordHasher(cost: settings.auth.bcryptCost),
            sessionLifetime: TimeInterval(settings.auth.sessionTTLHours) * 3600)
        let blobs = BlobStore(root: dataDir.appendingPathComponent("blobs"))
        self.blobs = blobs
        let catalog = CatalogService(database: database, blobs: blobs, defaultCurrency: settings.store.currency)
        self.catalog = catalog
        reviews = ReviewService(database: database, catalog: catalog)
        carts = CartService(database: database)
        let orderLinks = OrderLinks(baseURL: settings.publicBaseURL, serverSecret: secretKey)
        self.orderLinks = orderLinks
        downloadLinks = DownloadLinks(
            serverSecret: secretKey, lifetime: TimeInterval(settings.delivery.linkTTLSeconds), clock: database.clock)
        checkout = CheckoutService(
            database: database, providers: providers, links: orderLinks, feePercent: settings.store.feePercent)
        let events = PaymentEventsService(database: database, providers: providers, logger: Self.child(logger, "payments"))
        let refunds = RefundService(database: database, providers: providers, logger: Self.child(logger, "payments"))
        paymentEvents = events
        self.refunds = refunds
        orderMessages = OrderMessageService(database: database, logger: Self.child(logger, "orders"))
        licenses = LicenseService(database: database)
        library = LibraryService(database: database, defaultDownloadLimit: settings.delivery.downloadLimit)
        webhooks = WebhookEndpointService(database: database, allowPrivate: settings.webhooks.allowPrivate)
        let retryBase = TimeInterval(settings.jobs.retryBaseSeconds)
        jobQueue = JobQueue(
            database: database, backoff: JobBackoff(base: retryBase),
            backoffByKind: [WebhookJobKind.deliver: JobBackoff(base: retryBase, cap: WebhookRetry.cap)])

        var registry = JobRegistry.builtIn
        OrderJobs(
            database: database, providers: providers, events: events, refunds: refunds, logger: Self.child(logger, "orders")
        ).register(in: &registry)
        DeliveryJobs(
            database: database, mailer: mailer, composer: MailComposer(database: database, settings: settings, serverSecret: secretKey, themeDirectory: themeDirectory),
            logger: Self.child(logger, "delivery")
        ).register(in: &registry)
        WebhookJobs(
            database: database,
            transport: webhookTransport
                ?? CurlWebhookTransport(
                    allowPrivate: settings.webhooks.allowPrivate, timeoutSeconds: settings.webhooks.timeoutSeconds),
            logger: Self.child(logger, "webhooks")
        ).register(in: &registry)
        jobs = registry
    }

    /// A runner of this runtime's jobs (`souk serve` runs one beside the web layer; `souk jobs
    /// run` one pass of one).
    public func jobRunner(concurrency: Int? = nil, owner: String = JobRunner.defaultOwner()) -> JobRunner {
        JobRunner(
            queue: jobQueue, registry: jobs, owner: owner, lease: TimeInterval(settings.jobs.leaseSeconds),
            pollInterval: .milliseconds(settings.jobs.pollMilliseconds),
            concurrency: concurrency ?? settings.jobs.concurrency, wakesOnCommit: settings.jobs.wakeOnCommit,
            logger: Self.child(logger, "jobs"))
    }

    /// A logger for one part of the store: same level, label `souk.<part>`.
    private static func child(_ logger: Logger, _ part: String) -> Logger {
        var child = Logger(label: "\(logger.label).\(part)")
        child.logLevel = logger.logLevel
        return child
    }
}
