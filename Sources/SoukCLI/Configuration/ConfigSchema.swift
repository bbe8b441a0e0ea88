import Foundation
import SoukCore

/// Every configuration key: its TOML path, type, default (read from `Settings()`), whether it is a
/// secret, what it means, and what values are valid. `config.example.toml`, `souk config dump`,
/// the environment overrides and validation are all driven by this one table.
struct ConfigKey: Sendable {
    // Key paths are immutable values; Swift just cannot prove it for this composition.
    enum Kind: @unchecked Sendable {
        case string(WritableKeyPath<Settings, String>, validate: @Sendable (String) -> String?)
        case int(WritableKeyPath<Settings, Int>, range: ClosedRange<Int>)
        case bool(WritableKeyPath<Settings, Bool>)
        /// A boolean whose absence means something of its own (explained in the key's doc).
        case optionalBool(WritableKeyPath<Settings, Bool?>, unset: String)
        case double(WritableKeyPath<Settings, Double>, range: ClosedRange<Double>)
    }

    let path: String
    let kind: Kind
    let secret: Bool
    let doc: String

    var table: String { String(path[..<path.lastIndex(of: ".")!]) }
    var name: String { String(path[path.index(after: path.lastIndex(of: ".")!)...]) }
    /// `server.port` → `SOUK_SERVER_PORT`.
    var environmentName: String { "SOUK_" + path.uppercased().replacingOccurrences(of: ".", with: "_") }

    static func string(
        _ path: String, _ keyPath: WritableKeyPath<Settings, String>, secret: Bool = false, _ doc: String,
        validate: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> ConfigKey {
        ConfigKey(path: path, kind: .string(keyPath, validate: validate), secret: secret, doc: doc)
    }
    static func int(
        _ path: String, _ keyPath: WritableKeyPath<Settings, Int>, _ range: ClosedRange<Int>, _ doc: String
    ) -> ConfigKey {
        ConfigKey(path: path, kind: .int(keyPath, range: range), secret: false, doc: doc)
    }
    static func bool(_ path: String, _ keyPath: WritableKeyPath<Settings, Bool>, _ doc: String) -> ConfigKey {
        ConfigKey(path: path, kind: .bool(keyPath), secret: false, doc: doc)
    }
    static func optionalBool(
        _ path: String, _ keyPath: WritableKeyPath<Settings, Bool?>, _ doc: String, unset: String
    ) -> ConfigKey {
        ConfigKey(path: path, kind: .optionalBool(keyPath, unset: unset), secret: false, doc: doc)
    }
    static func double(
        _ path: String, _ keyPath: WritableKeyPath<Settings, Double>, _ range: ClosedRange<Double>,
        _ doc: String
    ) -> ConfigKey {
        ConfigKey(path: path, kind: .double(keyPath, range: range), secret: false, doc: doc)
    }
}

enum ConfigSchema {
    static func oneOf(_ allowed: [String]) -> @Sendable (String) -> String? {
        { allowed.contains($0) ? nil : "expected one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))" }
    }
    static let httpURL: @Sendable (String) -> String? = { value in
        value.isEmpty || value.hasPrefix("http://") || value.hasPrefix("https://")
            ? nil : "expected an http:// or https:// URL"
    }
    static let requiredHTTPURL: @Sendable (String) -> String? = { value in
        value.hasPrefix("http://") || value.hasPrefix("https://") ? nil : "expected an http:// or https:// URL"
    }

    static let keys: [ConfigKey] = [
        .string("server.host", \.server.host, "Address to listen on. 0.0.0.0 listens on every interface.") {
            $0.isEmpty ? "expected a host name or IP address" : nil
        },
        .int("server.port", \.server.port, 1...65535, "TCP port to listen on."),
        .string(
            "server.base_url", \.server.baseURL,
            "Public URL of the store, used in e-mails, redirects and payment return URLs. Empty: http://host:port.",
            validate: httpURL),
        .bool("server.production", \.server.production, "Production mode: refuses the test payment provider unless allowed."),
        .bool(
            "server.trust_forwarded_for", \.server.trustForwardedFor,
            "Take the client address from the last X-Forwarded-For entry (the one your proxy adds). Only behind a reverse proxy you run."),

        .string("storage.data_dir", \.storage.dataDir, "Folder for the database, blobs, outbox and secret key.") {
            $0.isEmpty ? "expected a folder path" : nil
        },
        .int("storage.max_upload_mb", \.storage.maxUploadMB, 1...1_048_576, "Largest file a seller may upload, in MiB."),

        .string(
            "payments.default", \.payments.defaultProvider, "Payment provider offered by default: test, stripe or paypal (when it is not offered: the first of stripe, paypal that is).",
            validate: oneOf(["test", "stripe", "paypal"])),
        .optionalBool(
            "payments.test_enabled", \.payments.testEnabled,
            "Offer the built-in test provider: anyone who picks it gets products without paying.",
            unset: "on only while no real provider is configured"),
        .bool(
            "payments.allow_test_in_production", \.payments.allowTestInProduction,
            "Allow the test provider even when server.production = true."),
        .string("payments.stripe.secret_key", \.payments.stripe.secretKey, secret: true, "Stripe secret API key (sk_…)."),
        .string(
            "payments.stripe.webhook_secret", \.payments.stripe.webhookSecret, secret: true,
            "Stripe webhook signing secret (whsec_…)."),
        .string(
            "payments.stripe.api_base", \.payments.stripe.apiBase, "Stripe API base URL (tests point it at a fake).",
            validate: requiredHTTPURL),
        .string("payments.paypal.client_id", \.payments.paypal.clientID, "PayPal REST client id."),
        .string("payments.paypal.client_secret", \.payments.paypal.clientSecret, secret: true, "PayPal REST client secret."),
        .string("payments.paypal.webhook_id", \.payments.paypal.webhookID, "PayPal webhook id, for signature checks."),
        .string(
            "payments.paypal.api_base", \.payments.paypal.apiBase, "PayPal API base URL (tests point it at a fake).",
            validate: requiredHTTPURL),
        .string(
            "payments.paypal.cert_roots_file", \.payments.paypal.certRootsFile,
            "PEM file of the roots PayPal's webhook signing certificate must chain to. Empty: the system's (/etc/ssl/certs/ca-certificates.crt)."),

        .string(
            "mail.smtp_url", \.mail.smtpURL, secret: true,
            "SMTP server, e.g. smtp://user:pass@mail.example.com:587 (STARTTLS) or smtps://…:465. Empty: write .eml files to <data_dir>/outbox."
        ) { value in
            value.isEmpty || value.hasPrefix("smtp://") || value.hasPrefix("smtps://")
                ? nil : "expected an smtp:// or smtps:// URL"
        },
        .string("mail.from", \.mail.from, "Sender of the store's e-mails.") { $0.contains("@") ? nil : "expected an e-mail address" },
        .string("mail.reply_to", \.mail.replyTo, "Reply-To of the store's e-mails. Empty: none."),

        .string("store.name", \.store.name, "The store's name, shown on every page and e-mail.") {
            $0.isEmpty ? "expected a name" : nil
        },
        .bool("store.marketplace", \.store.marketplace, "Let sellers sign up (verified by an admin). false: a single creator's store."),
        .string("store.currency", \.store.currency, "Default ISO 4217 currency for new products.") { value in
            value.count == 3 && value.allSatisfy({ $0.isASCII && $0.isUppercase }) ? nil
                : "expected a three-letter upper-case ISO 4217 code such as \"USD\""
        },
        .double("store.fee_percent", \.store.feePercent, 0...100, "Platform fee taken from each sale, in percent."),
        .string(
            "store.logo_url", \.store.logoURL,
            "The store's logo in e-mails and the page header: an https:// URL or a path on this store (/images/….webp). Empty: the name alone."
        ) { value in
            value.isEmpty || value.hasPrefix("https://") || value.hasPrefix("http://") || (value.hasPrefix("/") && !value.hasPrefix("//"))
                ? nil : "expected an https:// URL or a path starting with /"
        },

        .int("delivery.link_ttl_seconds", \.delivery.linkTTLSeconds, 10...604_800, "Lifetime of a signed download link."),
        .int(
            "delivery.download_limit", \.delivery.downloadLimit, 0...1_000_000,
            "Downloads per file per purchase. 0: unlimited. Products may override it."),

        .int("limits.signup_per_ip_per_hour", \.limits.signupPerIPPerHour, 0...1_000_000, "Sign-ups per client address per hour. 0: no limit."),
        .int(
            "limits.login_failures_per_account", \.limits.loginFailuresPerAccount, 0...1_000_000,
            "Failed sign-ins per account per 15 minutes before it is locked for the rest of the window. 0: no limit."),
        .int("limits.login_per_ip_per_minute", \.limits.loginPerIPPerMinute, 0...1_000_000, "Sign-in attempts per client address per minute. 0: no limit."),
        .int(
            "limits.requests_per_ip_per_minute", \.limits.requestsPerIPPerMinute, 0...100_000_000,
            "Requests per client address per minute. 0: no limit."),
        .int(
            "limits.guest_checkouts_per_ip_per_hour", \.limits.guestCheckoutsPerIPPerHour, 0...1_000_000,
            "Guest checkouts (nobody signed in) per client address per hour. 0: no limit."),
        .int(
            "limits.guest_checkouts_per_email_per_hour", \.limits.guestCheckoutsPerEmailPerHour, 0...1_000_000,
            "Guest checkouts per buyer e-mail address per hour, whatever the address they come from. 0: no limit."),
        .int("limits.max_json_body_kb", \.limits.maxJSONBodyKB, 1...1_048_576, "Largest JSON or form body accepted, in KiB."),

        .int("auth.bcrypt_cost", \.auth.bcryptCost, 4...31, "bcrypt cost for passwords. Keep 12 or more in production."),
        .int("auth.session_ttl_hours", \.auth.sessionTTLHours, 1...87_600, "How long a browser stays signed in."),

        .string(
            "search.engine", \.search.engine,
            "Search engine: \"memory\" (an in-memory index built at start-up: fast, ~1 KB of memory per product) or \"fts5\" (SQLite only).",
            validate: oneOf(["memory", "fts5"])),

        .int(
            "jobs.lease_seconds", \.jobs.leaseSeconds, 2...86_400,
            "Seconds a worker holds a background job before another may take it over (renewed while it runs)."),
        .int("jobs.poll_milliseconds", \.jobs.pollMilliseconds, 10...60_000, "How often an idle worker looks for due jobs."),
        .int("jobs.concurrency", \.jobs.concurrency, 1...256, "Background jobs run at once by one process (most wait on a mail or webhook server, not the CPU)."),
        .bool(
            "jobs.wake_on_commit", \.jobs.wakeOnCommit,
            "Start a job as soon as this process queues it (off: only the poll finds new jobs)."),
        .int(
            "jobs.retry_base_seconds", \.jobs.retryBaseSeconds, 1...3600,
            "Delay before a failed job's first retry; it doubles with each attempt, up to an hour."),

        .int(
            "notifications.heartbeat_seconds", \.notifications.heartbeatSeconds, 1...3600,
            "Seconds between keep-alive comments on the live notification stream (keep it below your proxy's idle timeout)."),
        .int(
            "notifications.streams_per_user", \.notifications.streamsPerUser, 1...100,
            "Live notification streams one user may hold open at once; one more gets 429."),
        .int(
            "notifications.stream_max_seconds", \.notifications.streamMaxSeconds, 1...86_400,
            "Seconds a live notification stream lasts before the server ends it (clients reconnect with Last-Event-ID and miss nothing)."),

        .bool(
            "webhooks.allow_private", \.webhooks.allowPrivate,
            "Let seller webhooks reach loopback and private addresses (127/8, 10/8, 192.168/16, ::1, fc00::/7…); off, such URLs are refused when registered and at every delivery."),
        .int(
            "webhooks.timeout_seconds", \.webhooks.timeoutSeconds, 1...60,
            "The most one webhook delivery attempt may take, connection included."),

        .string("log.level", \.log.level, "Log level.", validate: oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"])),
    ]

    static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })
}
