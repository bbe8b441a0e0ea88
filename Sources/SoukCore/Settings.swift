import Foundation

/// The effective configuration of a Souk process: defaults, then the TOML file, then `SOUK_*`
/// environment variables (see `SoukCLI.ConfigLoader`). Plain values only, so every module can read it.
public struct Settings: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Public URL of the store, used in e-mails and redirects. Empty: `http://host:port`.
        public var baseURL = ""
        /// Production mode: refuses the test payment provider unless `payments.allow_test_in_production`.
        public var production = false
        /// Trust the first `X-Forwarded-For` address (only behind a reverse proxy you run).
        public var trustForwardedFor = false
    }
    public struct Storage: Sendable, Equatable {
        public var dataDir = "./souk-data"
        public var maxUploadMB = 1024
    }
    public struct Stripe: Sendable, Equatable {
        public var secretKey = ""
        public var webhookSecret = ""
        public var apiBase = "https://api.stripe.com"
    }
    public struct PayPal: Sendable, Equatable {
        public var clientID = ""
        public var clientSecret = ""
        public var webhookID = ""
        public var apiBase = "https://api-m.paypal.com"
        /// PEM roots that PayPal's webhook signing certificate must chain to. Empty: the system's.
        public var certRootsFile = ""
    }
    public struct Payments: Sendable, Equatable {
        public var defaultProvider = "test"
        /// The built-in test provider (anyone who picks it gets products without paying). nil: on
        /// only while no real provider is configured.
        public var testEnabled: Bool? = nil
        public var allowTestInProduction = false
        public var stripe = Stripe()
        public var paypal = PayPal()

        /// Stripe is switched on by its secret key.
        public var stripeConfigured: Bool { !stripe.secretKey.isEmpty }
        /// PayPal is switched on by its client id and secret.
        public var paypalConfigured: Bool { !paypal.clientID.isEmpty && !paypal.clientSecret.isEmpty }
        public var realProviderConfigured: Bool { stripeConfigured || paypalConfigured }
    }
    public struct Mail: Sendable, Equatable {
        /// `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465`. Empty: write `.eml` files to the outbox.
        public var smtpURL = ""
        public var from = "Souk <store@localhost>"
        public var replyTo = ""
    }
    public struct Store: Sendable, Equatable {
        public var name = "Souk"
        public var marketplace = false
        public var currency = "USD"
        public var feePercent = 0.0
        /// The store's logo for e-mails and the page header: an https URL, or a path on this
        /// store (`/images/….webp`). Empty: the store's name alone.
        public var logoURL = ""
    }
    public struct Delivery: Sendable, Equatable {
        public var linkTTLSeconds = 900
        public var downloadLimit = 10
    }
    public struct Limits: Sendable, Equatable {
        public var signupPerIPPerHour = 10
        public var loginFailuresPerAccount = 5
        public var loginPerIPPerMinute = 20
        public var requestsPerIPPerMinute = 1200
        /// Guest checkouts (no account signed in) per client address, and per e-mail, per hour.
        public var guestCheckoutsPerIPPerHour = 30
        public var guestCheckoutsPerEmailPerHour = 10
        public var maxJSONBodyKB = 1024
    }
    public struct Auth: Sendable, Equatable {
        public var bcryptCost = 12
        public var sessionTTLHours = 720
    }
    public struct Search: Sendable, Equatable {
        /// "memory": an in-memory index rebuilt at start-up (fast); "fts5": SQLite FTS5 only.
        public var engine = "memory"
    }
    public struct Jobs: Sendable, Equatable {
        /// Seconds a worker holds a job before another may take it (renewed while it runs).
        public var leaseSeconds = 60
        /// How often an idle worker looks for due jobs, in milliseconds.
        public var pollMilliseconds = 1000
        /// Jobs run at once by one process (most wait on a mail or webhook server, not the CPU).
        public var concurrency = 16
        /// Start a job as soon as this process queues it (`JobArrivals`); off, only the poll finds
        /// new jobs (tests that need a job to stay queued use it).
        public var wakeOnCommit = true
        /// Delay before a failed job's first retry; it doubles with each attempt (capped at an hour).
        public var retryBaseSeconds = 5
    }
    public struct Notifications: Sendable, Equatable {
        /// Seconds between the live stream's keep-alive comments (proxies close silent connections).
        public var heartbeatSeconds = 15
        /// Live streams one user may hold open at once (tabs, devices).
        public var streamsPerUser = 5
        /// How long one stream lives before the server ends it; the client reconnects by itself
        /// with Last-Event-ID and misses nothing. Bounds what a forgotten tab or a stuck client holds.
        public var streamMaxSeconds = 1800
    }
    public struct Webhooks: Sendable, Equatable {
        /// Let seller webhooks reach loopback and private addresses (a test rig, or a store whose
        /// sellers' systems live on its own network). Off: such URLs are refused, at creation and
        /// at every delivery.
        public var allowPrivate = false
        /// The most one delivery attempt may take, connection included.
        public var timeoutSeconds = 10
    }
    public struct Log: Sendable, Equatable {
        public var level = "info"
    }

    public var server = Server()
    public var storage = Storage()
    public var payments = Payments()
    public var mail = Mail()
    public var store = Store()
    public var delivery = Delivery()
    public var limits = Limits()
    public var auth = Auth()
    public var search = Search()
    public var jobs = Jobs()
    public var notifications = Notifications()
    public var webhooks = Webhooks()
    public var log = Log()

    public init() {}

    /// The store's public URL without a trailing slash.
    public var publicBaseURL: String {
        let configured = server.baseURL.trimmingCharacters(in: .whitespaces)
        if !configured.isEmpty { return configured.hasSuffix("/") ? String(configured.dropLast()) : configured }
        return "http://\(server.host.contains(":") ? "[\(server.host)]" : server.host):\(server.port)"
    }

    /// Whether buyers are offered the test provider: `payments.test_enabled` (by default only
    /// while neither Stripe nor PayPal is configured), and never in production mode unless allowed.
    public var offersTestPayments: Bool {
        (payments.testEnabled ?? !payments.realProviderConfigured)
            && (!server.production || payments.allowTestInProduction)
    }

    /// The provider checkout picks when the buyer names none: `payments.default` if it is
    /// offered, else the first real provider configured (a store given Stripe keys and nothing
    /// else takes Stripe, not the test provider it no longer offers).
    public var defaultPaymentProvider: String {
        let offered = [
            "test": offersTestPayments, "stripe": payments.stripeConfigured, "paypal": payments.paypalConfigured,
        ]
        if offered[payments.defaultProvider] == true { return payments.defaultProvider }
        return ["stripe", "paypal", "test"].first { offered[$0] == true } ?? payments.defaultProvider
    }

    /// Cookies get `Secure` and responses HSTS only when the store is served over https.
    public var isHTTPS: Bool { publicBaseURL.lowercased().hasPrefix("https://") }
}
