import Foundation

/// One line of a hosted checkout, as the buyer sees it on the provider's page (and as the test
/// provider stores it).
public struct CheckoutLine: Sendable, Equatable, Codable {
    public var title: String
    public var quantity: Int
    public var unitAmount: Int

    public init(title: String, quantity: Int, unitAmount: Int) {
        self.title = title
        self.quantity = quantity
        self.unitAmount = unitAmount
    }

    enum CodingKeys: String, CodingKey {
        case title, quantity
        case unitAmount = "unit_amount"
    }
}

/// What a provider event means for an order, whatever the provider (Stripe, PayPal, test).
public enum PaymentEffect: Sendable, Equatable {
    /// The money was taken; `paymentID` is what a refund names (payment intent, capture).
    case paid(paymentID: String)
    /// The buyer finished the hosted page but the money has not arrived yet (bank debits).
    case pending
    case failed
    /// The hosted session ran out before payment.
    case expired
    /// The provider reports `totalRefunded` given back so far (cumulative, minor units).
    case refunded(totalRefunded: Int, refundID: String?)
    case disputeOpened
    case disputeClosed(won: Bool)
}

extension PaymentEffect {
    /// A short stable name (for event ids Souk makes itself).
    public var label: String {
        switch self {
        case .paid: "paid"
        case .pending: "pending"
        case .failed: "failed"
        case .expired: "expired"
        case .refunded(let total, _): "refunded-\(total)"
        case .disputeOpened: "dispute-opened"
        case .disputeClosed(let won): won ? "dispute-won" : "dispute-lost"
        }
    }
}

/// How an event names its order.
public enum OrderReference: Sendable, Equatable {
    case order(String)
    case session(String)
    case payment(String)
}

/// A verified provider event, reduced to what Souk acts on.
public struct PaymentEvent: Sendable, Equatable {
    public var provider: String
    public var id: String
    public var type: String
    public var order: OrderReference?
    /// nil for a type Souk does not act on (answered 200 and logged).
    public var effect: PaymentEffect?

    public init(provider: String, id: String, type: String, order: OrderReference?, effect: PaymentEffect?) {
        self.provider = provider
        self.id = id
        self.type = type
        self.order = order
        self.effect = effect
    }
}

/// What recording an event did.
public enum PaymentEventOutcome: Sendable, Equatable {
    /// The order moved (or was confirmed) as the event says.
    case applied(orderID: String, status: OrderStatus)
    /// This (provider, event id) was recorded before; nothing changed.
    case duplicate
    /// Recorded, but nothing to do: an unknown type or order, or a move the order's state forbids
    /// (an old event arriving after a newer one).
    case ignored(reason: String)
    /// Paid after expiry with the stock gone: recorded, and an automatic refund queued.
    case refundQueued(orderID: String)
}

/// Job kinds the money path enqueues. Handlers are registered in `souk serve` and `souk jobs run`.
public enum OrderJobKind {
    /// Deliver what a paid order bought (the delivery issue adds keys and e-mails).
    public static let fulfil = "fulfil"
    /// Expire an unpaid order and put its reserved stock back on sale.
    public static let orderExpiry = "order_expiry"
    /// Refund a payment that arrived for an order whose stock was gone.
    public static let autoRefund = "auto_refund"
    /// Ask the provider where a completed-but-unpaid checkout stands (PayPal: capture it), with
    /// retries: the buyer may never come back to the success page.
    public static let confirmPayment = "confirm_payment"
    /// The test provider's webhook, delivered to the store like Stripe's.
    public static let testWebhook = "test_webhook"
}

/// Payload of `fulfil`, `order_expiry` and `auto_refund` jobs.
public struct OrderJobPayload: Codable, Sendable, Equatable {
    public var orderID: String
    public init(orderID: String) { self.orderID = orderID }
    enum CodingKeys: String, CodingKey { case orderID = "order_id" }
}
