import Foundation
import SoukCore
import SoukDatabase
import SoukPayments

/// The providers this store takes payments with, built from the configuration: `test` only when
/// `Settings.offersTestPayments` (by default, only while no real provider is configured),
/// `stripe` when it has a secret key, `paypal` when it has a client. A provider not offered does
/// not exist for buyers: checkout refuses it, and its pages and webhook endpoint are not there.
public struct PaymentProviders: Sendable {
    public let byName: [String: any PaymentProvider]
    public let test: TestProvider?
    public let defaultName: String

    public init(
        settings: Settings, database: AppDatabase, serverSecret: [UInt8], transport: any HTTPTransport = URLSessionTransport()
    ) {
        ConstructionCounts.record("PaymentProviders")
        var providers: [String: any PaymentProvider] = [:]
        var test: TestProvider?
        if settings.offersTestPayments {
            let provider = TestProvider(
                sessions: StoredTestCheckouts(database: database), clock: database.clock, baseURL: settings.publicBaseURL,
                serverSecret: serverSecret)
            providers[provider.name] = provider
            test = provider
        }
        let stripe = settings.payments.stripe
        if settings.payments.stripeConfigured {
            providers["stripe"] = StripeProvider(
                secretKey: stripe.secretKey, webhookSecret: stripe.webhookSecret, apiBase: stripe.apiBase,
                transport: transport, clock: database.clock)
        }
        let paypal = settings.payments.paypal
        if settings.payments.paypalConfigured {
            providers["paypal"] = PayPalProvider(
                clientID: paypal.clientID, clientSecret: paypal.clientSecret, webhookID: paypal.webhookID,
                apiBase: paypal.apiBase, transport: transport, clock: database.clock,
                certificateTrust: PayPalCertificateTrust(rootsFile: paypal.certRootsFile))
        }
        self.byName = providers
        self.test = test
        self.defaultName = settings.defaultPaymentProvider
    }

    /// Names of the providers a buyer may choose, the default first.
    public var available: [String] {
        byName.keys.sorted { ($0 == defaultName ? 0 : 1, $0) < ($1 == defaultName ? 0 : 1, $1) }
    }

    /// The provider `name` (the default when nil). Throws `validationFailed` (field `provider`)
    /// for an unknown or unconfigured one.
    public func provider(named name: String?) throws -> any PaymentProvider {
        let name = name ?? defaultName
        guard let provider = byName[name] else {
            let known = CheckoutRules.providers.contains(name)
            throw SoukError.validation(
                "provider",
                known
                    ? "This store does not take payments with \(name); choose one of: \(available.joined(separator: ", "))."
                    : "Unknown payment provider '\(name)'; choose one of: \(available.joined(separator: ", ")).")
        }
        return provider
    }

    /// The provider an existing order uses (it may have been configured away since).
    public func provider(of order: Order) throws -> any PaymentProvider {
        guard let provider = byName[order.provider] else {
            throw SoukError(
                .paymentProviderError,
                "Order \(order.id) was paid with \(order.provider), which is not configured any more; configure [payments.\(order.provider)] again to act on it.")
        }
        return provider
    }
}

/// The test provider's sessions, kept in the store's database (`test_checkout_sessions`).
struct StoredTestCheckouts: TestCheckoutSessions {
    let database: AppDatabase

    func openTestSession(
        orderID: String, amount: Int, currency: String, lines: [TestCheckoutSession.Line], buyerEmail: String,
        successURL: String, cancelURL: String
    ) async throws -> TestCheckoutSession {
        try await database.openTestSession(
            orderID: orderID, amount: amount, currency: currency, lines: lines, buyerEmail: buyerEmail,
            successURL: successURL, cancelURL: cancelURL)
    }

    func testSession(id: String) async throws -> TestCheckoutSession? { try await database.testSession(id: id) }

    func settleTestSession(id: String, to status: TestCheckoutSession.Status, webhooks: [(body: String, delay: TimeInterval)])
        async throws -> TestCheckoutSession
    {
        try await database.settleTestSession(id: id, to: status, webhooks: webhooks)
    }

    func refundTestSession(paymentID: String, amount: Int, webhook: @Sendable (Int) -> String) async throws -> Int {
        try await database.refundTestSession(paymentID: paymentID, amount: amount, webhook: webhook)
    }
}
