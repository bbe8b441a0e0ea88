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

/// A payment as the provider reports it. Nothing is granted until it matches its order
/// (`PaymentMatch`): the provider's own checkout object, the amount and the currency.
public struct Payment: Sendable, Equatable {
    /// What a refund names (Stripe payment intent, PayPal capture).
    public var id: String
    /// The provider's checkout object the money was paid through (Stripe Checkout Session id,
    /// PayPal order id); nil for a free order, which has none.
    public var checkoutID: String?
    /// Minor units, as the provider took them (nil: the provider's answer did not say).
    public var amount: Int?
    /// ISO 4217, upper case (nil: the provider's answer did not say).
    public var currency: String?
    /// The order the payment's own metadata names (Stripe `metadata.order_id` or
    /// `client_reference_id`, PayPal `custom_id`): only used to report a mismatch to the operator,
    /// never to find the order that is paid.
    public var claimedOrderID: String?

    public init(id: String, checkoutID: String?, amount: Int?, currency: String?, claimedOrderID: String? = nil) {
        self.id = id
        self.checkoutID = checkoutID
        self.amount = amount
        self.currency = currency?.uppercased()
        self.claimedOrderID = claimedOrderID
    }
}

/// The rule that binds a payment to its order: paid through the checkout the store opened for
/// it, for exactly its total, in its currency.
public enum PaymentMatch {
    /// Why `payment` does not pay `order`, or nil when it does.
    public static func mismatch(_ payment: Payment, order: Order) -> String? {
        if order.total == 0 && payment.checkoutID == nil && payment.amount == 0 { return nil }
        guard let checkout = payment.checkoutID, let expected = order.providerSessionID else {
            return "the payment names no checkout of this store's (the order's is \(order.providerSessionID ?? "none"))"
        }
        guard checkout == expected else {
            return "paid through checkout \(checkout), but the order's checkout is \(expected)"
        }
        guard let currency = payment.currency, let amount = payment.amount else {
            return "the provider did not say how much was paid, in which currency"
        }
        guard currency == order.currency.uppercased() else {
            return "paid in \(currency), but the order is in \(order.currency.uppercased())"
        }
        guard amount == order.total else {
            return "paid \(Currency.display(amount, currency: currency)), but the order's total is \(Currency.display(order.total, currency: currency))"
        }
        return nil
    }
}

/// What a provider event means for an order, whatever the provider (Stripe, PayPal, test).
public enum PaymentEffect: Sendable, Equatable {
    /// The money was taken, as `Payment` says; granted only if it matches the order.
    case paid(Payment)
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
    /// A payment that does not match its order (`PaymentMatch`): nothing granted; recorded as
    /// `mismatchID`, the admins told, and a refund of the whole payment queued.
    case mismatched(orderID: String, mismatchID: String, reason: String)
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
    /// Give back a payment that did not match its order (payload `MismatchRefundPayload`).
    public static let mismatchRefund = "mismatch_refund"
}

/// Payload of `mismatch_refund` jobs.
public struct MismatchRefundPayload: Codable, Sendable, Equatable {
    public var mismatchID: String
    public init(mismatchID: String) { self.mismatchID = mismatchID }
    enum CodingKeys: String, CodingKey { case mismatchID = "mismatch_id" }
}

/// A payment that did not match its order, kept for the operator until it is refunded.
public struct PaymentMismatch: Sendable, Equatable {
    public enum RefundState: String, Sendable {
        case queued, refunded, failed
    }

    public var id: String
    public var provider: String
    public var eventID: String
    /// The order it was bound to or claimed.
    public var orderID: String
    public var payment: Payment
    public var reason: String
    public var refundState: RefundState
    public var refundID: String?
    public var lastError: String?
    public var createdAt: Date

    public init(
        id: String, provider: String, eventID: String, orderID: String, payment: Payment, reason: String,
        refundState: RefundState, refundID: String?, lastError: String?, createdAt: Date
    ) {
        self.id = id
        self.provider = provider
        self.eventID = eventID
        self.orderID = orderID
        self.payment = payment
        self.reason = reason
        self.refundState = refundState
        self.refundID = refundID
        self.lastError = lastError
        self.createdAt = createdAt
    }
}

/// Payload of `fulfil`, `order_expiry` and `auto_refund` jobs.
public struct OrderJobPayload: Codable, Sendable, Equatable {
    public var orderID: String
    public init(orderID: String) { self.orderID = orderID }
    enum CodingKeys: String, CodingKey { case orderID = "order_id" }
}
