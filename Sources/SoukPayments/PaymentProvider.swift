import Foundation
import SoukCore

/// What a provider needs to open a hosted checkout for an order.
public struct CheckoutRequest: Sendable, Equatable {
    public var orderID: String
    public var buyerEmail: String
    public var currency: String
    public var lines: [CheckoutLine]
    public var total: Int
    /// Where the provider sends the buyer after paying; Stripe replaces `{CHECKOUT_SESSION_ID}`.
    public var successURL: String
    public var cancelURL: String
    /// When the order stops holding its stock.
    public var expiresAt: Date

    public init(
        orderID: String, buyerEmail: String, currency: String, lines: [CheckoutLine], total: Int, successURL: String,
        cancelURL: String, expiresAt: Date
    ) {
        self.orderID = orderID
        self.buyerEmail = buyerEmail
        self.currency = currency
        self.lines = lines
        self.total = total
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.expiresAt = expiresAt
    }
}

/// A provider's hosted checkout: its id and the page the buyer is sent to.
public struct HostedCheckout: Sendable, Equatable {
    public var sessionID: String
    public var redirectURL: String

    public init(sessionID: String, redirectURL: String) {
        self.sessionID = sessionID
        self.redirectURL = redirectURL
    }
}

/// A provider's webhook request: lower-cased header names, and the raw body (signatures cover
/// the exact bytes).
public struct WebhookRequest: Sendable {
    public var headers: [String: String]
    public var body: Data

    public init(headers: [String: String], body: Data) {
        self.headers = headers
        self.body = body
    }
}

/// A payment provider: hosted checkout, confirmation on the buyer's return, refunds, webhooks.
/// Card data never reaches Souk; it only sees ids and signed events.
public protocol PaymentProvider: Sendable {
    /// `stripe`, `paypal` or `test`.
    var name: String { get }

    /// Opens a hosted checkout. Calling it twice for one order must not open two (providers
    /// get an idempotency key derived from the order id).
    func createCheckout(_ request: CheckoutRequest) async throws -> HostedCheckout

    /// Asks the provider where the order's payment stands when the buyer comes back from the
    /// hosted page (Stripe: retrieve the session; PayPal: capture the order). Returns an event
    /// for the same idempotent path as webhooks, or nil when there is nothing to record yet.
    func confirm(sessionID: String, orderID: String) async throws -> PaymentEvent?

    /// Refunds `amount` of the order's payment; returns the provider's refund id.
    func refund(paymentID: String, orderID: String, amount: Int, currency: String, idempotencyKey: String) async throws
        -> String

    /// Verifies a webhook's signature and reduces it to a `PaymentEvent`. Throws `badRequest`
    /// for a bad or stale signature or an unreadable body.
    func verifyWebhook(_ request: WebhookRequest) async throws -> PaymentEvent
}

/// A provider call that failed. `refused`: the provider answered and said no (its message is
/// safe to show). `unreachable`: no usable answer (network, timeout, garbage), so whether the
/// provider acted is unknown and a retry must reuse the same idempotency key.
public struct PaymentProviderFailure: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case refused(String)
        case unreachable(String)
    }

    public var provider: String
    /// What Souk was doing, e.g. "refund order ord_…".
    public var action: String
    public var kind: Kind

    public init(provider: String, action: String, kind: Kind) {
        self.provider = provider
        self.action = action
        self.kind = kind
    }

    static func refused(_ provider: String, _ action: String, _ message: String) -> Self {
        Self(provider: provider, action: action, kind: .refused(message))
    }

    static func unreachable(_ provider: String, _ action: String, _ detail: String) -> Self {
        Self(provider: provider, action: action, kind: .unreachable(detail))
    }

    /// The whole story, for the operator's log.
    public var description: String {
        switch kind {
        case .refused(let message): "\(provider) refused to \(action): \(message)"
        case .unreachable(let detail): "\(provider) did not answer while trying to \(action): \(detail)"
        }
    }

    /// What the caller is told: the provider's own refusal, or that it could not be reached
    /// (never the URL or the transport's error text, which are for the log).
    public var soukError: SoukError {
        let name = provider == "paypal" ? "PayPal" : provider.capitalized
        return switch kind {
        case .refused(let message):
            SoukError(.paymentProviderError, "\(name) refused to \(action): \(message)")
        case .unreachable:
            SoukError(.paymentProviderError, "\(name) could not be reached to \(action). Try again in a moment.")
        }
    }
}
