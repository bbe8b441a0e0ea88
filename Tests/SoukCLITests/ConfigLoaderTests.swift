import Foundation
import SoukCore
import Testing

@testable import SoukCLI

private func write(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-\(UUID().uuidString).toml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Configuration: defaults, then the file, then the environment")
struct ConfigLoaderTests {
    @Test("No file, no environment: the embedded defaults")
    func defaults() throws {
        let settings = try ConfigLoader.load(file: nil, environment: [:])
        #expect(settings == Settings())
        #expect(settings.storage.dataDir == "./souk-data")
        #expect(settings.server.port == 8080)
        #expect(settings.payments.defaultProvider == "test")
    }

    @Test("Test payments: on while no real provider is configured, off beside one unless set (with a warning), never in production unless allowed")
    func testPayments() throws {
        let stripe = [
            "SOUK_PAYMENTS_STRIPE_SECRET_KEY": "sk_test_1", "SOUK_PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_1",
        ]
        let bare = try ConfigLoader.load(file: nil, environment: [:])
        #expect(bare.payments.testEnabled == nil && bare.offersTestPayments && bare.defaultPaymentProvider == "test")
        #expect(ConfigLoader.warnings(bare).isEmpty)

        let withStripe = try ConfigLoader.load(file: nil, environment: stripe)
        #expect(!withStripe.offersTestPayments, "Stripe keys alone switch test payments off")
        #expect(withStripe.defaultPaymentProvider == "stripe", "payments.default = test falls back to the real provider")
        #expect(ConfigLoader.warnings(withStripe).isEmpty)

        let both = try ConfigLoader.load(file: try write("[payments]\ntest_enabled = true\n"), environment: stripe)
        #expect(both.payments.testEnabled == true && both.offersTestPayments && both.defaultPaymentProvider == "test")
        #expect(ConfigLoader.warnings(both).count == 1)
        #expect(ConfigLoader.warnings(both).first?.contains("without paying") == true)

        // Webhooks to private addresses: off by default; on (from the environment), a warning.
        #expect(!bare.webhooks.allowPrivate && bare.webhooks.timeoutSeconds == 10)
        let privateHooks = try ConfigLoader.load(file: nil, environment: ["SOUK_WEBHOOKS_ALLOW_PRIVATE": "true"])
        #expect(privateHooks.webhooks.allowPrivate)
        #expect(ConfigLoader.warnings(privateHooks).map { $0.hasPrefix("webhooks.allow_private") } == [true])

        let production = try ConfigLoader.load(
            file: nil, environment: stripe.merging(["SOUK_SERVER_PRODUCTION": "true", "SOUK_PAYMENTS_TEST_ENABLED": "yes"]) { $1 })
        #expect(!production.offersTestPayments, "production refuses test payments unless allowed")
        let allowed = try ConfigLoader.load(
            file: nil,
            environment: stripe.merging(
                ["SOUK_SERVER_PRODUCTION": "true", "SOUK_PAYMENTS_TEST_ENABLED": "on", "SOUK_PAYMENTS_ALLOW_TEST_IN_PRODUCTION": "true"]) { $1 })
        #expect(allowed.offersTestPayments)

        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: ["SOUK_PAYMENTS_TEST_ENABLED": "maybe"]) }
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: try write("[payments]\ntest_enabled = \"yes\"\n"), environment: [:]) }
        // Off with nothing else configured: no buyer could pay.
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: ["SOUK_PAYMENTS_TEST_ENABLED": "false"]) }
    }

    @Test("The file sets values and the environment wins over it")
    func layering() throws {
        let file = try write(
            """
            [server]
            port = 9000
            host = "0.0.0.0"
            [store]
            marketplace = true
            fee_percent = 5
            [payments.stripe]
            api_base = "http://127.0.0.1:12111"
            """)
        let settings = try ConfigLoader.load(
            file: file, environment: ["SOUK_SERVER_PORT": "9100", "SOUK_STORE_MARKETPLACE": "false", "UNRELATED": "x"])
        #expect(settings.server.port == 9100)
        #expect(settings.server.host == "0.0.0.0")
        #expect(settings.store.marketplace == false)
        #expect(settings.store.feePercent == 5)
        #expect(settings.payments.stripe.apiBase == "http://127.0.0.1:12111")
    }

    @Test("A wrong type names the key and its line")
    func wrongType() throws {
        let file = try write("# comment\n[server]\nhost = \"127.0.0.1\"\nport = \"abc\"\n")
        #expect {
            _ = try ConfigLoader.load(file: file, environment: [:])
        } throws: { error in
            let message = (error as? ConfigError)?.message ?? ""
            return message.contains("server.port") && message.contains("\(file):4") && message.contains("\"abc\"")
        }
    }

    @Test("Out of range, unknown keys, bad choices and broken TOML are all refused with the key named", arguments: [
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nprot = 80\n", "unknown key server.prot"),
        ("[payments]\ndefault = \"bitcoin\"\n", "payments.default"),
        ("[store]\ncurrency = \"usd\"\n", "store.currency"),
        ("[auth]\nbcrypt_cost = 2\n", "auth.bcrypt_cost"),
        ("[server\nport = 1\n", ":1: not valid TOML"),
        ("[payments]\ndefault = \"stripe\"\n", "payments.stripe.secret_key"),
        ("[server]\nproduction = true\n", "test provider is refused in production"),
        ("[payments.stripe]\nsecret_key = \"sk_live_x\"\n", "payments.stripe.webhook_secret is empty"),
        ("[payments.paypal]\nclient_id = \"c\"\nclient_secret = \"s\"\n", "payments.paypal.webhook_id is empty"),
    ])
    func invalid(text: String, expected: String) throws {
        let file = try write(text)
        #expect {
            _ = try ConfigLoader.load(file: file, environment: [:])
        } throws: { error in
            ((error as? ConfigError)?.message ?? "").contains(expected)
        }
    }

    @Test("A bad environment value names the variable and the key")
    func badEnvironment() {
        #expect {
            _ = try ConfigLoader.load(file: nil, environment: ["SOUK_SERVER_PORT": "abc"])
        } throws: { error in
            let message = (error as? ConfigError)?.message ?? ""
            return message.contains("SOUK_SERVER_PORT") && message.contains("server.port")
        }
    }

    @Test("A missing file is a clear error")
    func missingFile() {
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: "/nonexistent/souk.toml", environment: [:]) }
    }

    @Test("dump redacts every secret that is set")
    func dumpRedacts() throws {
        var settings = Settings()
        settings.payments.stripe.secretKey = "sk_test_SECRET1"
        settings.payments.stripe.webhookSecret = "whsec_SECRET2"
        settings.payments.paypal.clientSecret = "SECRET3"
        settings.mail.smtpURL = "smtp://user:SECRET4@mail.example.com:587"
        let dump = ConfigRendering.dump(settings)
        for secret in ["SECRET1", "SECRET2", "SECRET3", "SECRET4"] { #expect(!dump.contains(secret)) }
        #expect(dump.components(separatedBy: "<redacted>").count - 1 == 4)
        #expect(dump.contains("port = 8080"))
    }

    @Test("The example documents every key, parses back to the defaults, and is config.example.toml")
    func example() throws {
        let example = ConfigRendering.example()
        for key in ConfigSchema.keys {
            #expect(example.contains("\(key.name) = "), "\(key.path) is not documented")
            #expect(example.contains(key.environmentName))
        }
        #expect(try ConfigLoader.load(file: try write(example), environment: [:]) == Settings())
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let committed = try String(
            contentsOf: repository.appendingPathComponent("config.example.toml"), encoding: .utf8)
        #expect(committed == example, "config.example.toml is stale: regenerate it with `souk config example`")
    }
}
