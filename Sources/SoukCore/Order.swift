import Foundation

/// Where an order is in its life. See `OrderLifecycle` for the moves allowed between them.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    /// Checked out; stock reserved; waiting for the payment.
    case created
    /// The provider confirmed the payment; access granted; fulfilment queued.
    case paid
    /// Every delivery step ran (keys issued, links ready).
    case fulfilled
    /// Fulfilled and every notification accepted.
    case completed
    /// Not paid in time; its reserved stock went back on sale.
    case expired
    /// The provider reported the payment failed.
    case paymentFailed = "payment_failed"
    case refunded
    case partiallyRefunded = "partially_refunded"
    /// The buyer's bank is disputing the charge.
    case disputed
    case canceled

    /// The buyer holds (or held) access: the money was taken and is not all given back.
    public var isPaidUp: Bool { [.paid, .fulfilled, .completed, .partiallyRefunded, .disputed].contains(self) }

    /// Orders that were sales: the money was taken at some point (refunds included, shown as
    /// such). Awaiting, failed, expired and canceled checkouts never were.
    public static let sold: Set<OrderStatus> = [.paid, .fulfilled, .completed, .partiallyRefunded, .disputed, .refunded]
}

/// The one place that says which status changes are legal. An illegal change is an error, never
/// a silent overwrite: a late or replayed provider event cannot move an order backwards.
public enum OrderLifecycle {
    private static let allowed: [OrderStatus: Set<OrderStatus>] = [
        .created: [.paid, .expired, .paymentFailed, .canceled],
        // A payment that arrives after expiry is accepted when the stock is still there, and
        // refunded automatically when it is not.
        .expired: [.paid, .refunded],
        .paymentFailed: [.paid, .expired, .refunded],
        .paid: [.fulfilled, .refunded, .partiallyRefunded, .disputed],
        .fulfilled: [.completed, .refunded, .partiallyRefunded, .disputed],
        .completed: [.refunded, .partiallyRefunded, .disputed],
        .partiallyRefunded: [.partiallyRefunded, .refunded, .disputed, .fulfilled, .completed],
        // A won dispute returns the order to where it was; a lost one refunds it.
        .disputed: [.paid, .fulfilled, .completed, .partiallyRefunded, .refunded],
        .refunded: [],
        .canceled: [],
    ]

    public static func allows(_ from: OrderStatus, _ to: OrderStatus) -> Bool {
        allowed[from]?.contains(to) ?? false
    }

    /// Throws `conflict` naming the order and both states when the move is not allowed.
    public static func check(orderID: String, from: OrderStatus, to: OrderStatus) throws {
        guard allows(from, to) else {
            throw SoukError(.conflict, "Order \(orderID) is \(from.rawValue) and cannot become \(to.rawValue).")
        }
    }
}

/// One product bought in an order, with its price snapshotted at checkout and the money split.
public struct OrderItem: Sendable, Equatable {
    public var id: String
    public var productID: String
    public var sellerID: String
    public var title: String
    public var kind: ProductKind
    public var quantity: Int
    public var unitAmount: Int
    /// `unitAmount × quantity`.
    public var amount: Int
    /// The platform's share of `amount`.
    public var feeAmount: Int
    /// What the seller is owed for this line: `amount − feeAmount`.
    public var sellerAmount: Int

    public init(
        id: String, productID: String, sellerID: String, title: String, kind: ProductKind, quantity: Int,
        unitAmount: Int, amount: Int, feeAmount: Int, sellerAmount: Int
    ) {
        self.id = id
        self.productID = productID
        self.sellerID = sellerID
        self.title = title
        self.kind = kind
        self.quantity = quantity
        self.unitAmount = unitAmount
        self.amount = amount
        self.feeAmount = feeAmount
        self.sellerAmount = sellerAmount
    }
}

public struct Order: Sendable, Equatable {
    public var id: String
    /// The store's number for the order, counted from 1001 (`#1042`): what people read and quote.
    public var number: Int
    public var buyerID: String
    public var buyerEmail: String
    public var status: OrderStatus
    public var currency: String
    public var total: Int
    public var refundedAmount: Int
    /// `stripe`, `paypal` or `test`.
    public var provider: String
    /// The provider's checkout session (Stripe) or order (PayPal) id, once created.
    public var providerSessionID: String?
    /// The provider's payment id (Stripe payment intent, PayPal capture), once paid.
    public var providerPaymentID: String?
    /// Where the buyer pays (the hosted checkout page).
    public var redirectURL: String?
    public var items: [OrderItem]
    public var createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date
    public var paidAt: Date?

    public init(
        id: String, buyerID: String, buyerEmail: String, status: OrderStatus, currency: String, total: Int,
        refundedAmount: Int, provider: String, providerSessionID: String?, providerPaymentID: String?,
        redirectURL: String?, items: [OrderItem], createdAt: Date, updatedAt: Date, expiresAt: Date, paidAt: Date?,
        number: Int = 0
    ) {
        self.id = id
        self.number = number
        self.buyerID = buyerID
        self.buyerEmail = buyerEmail
        self.status = status
        self.currency = currency
        self.total = total
        self.refundedAmount = refundedAmount
        self.provider = provider
        self.providerSessionID = providerSessionID
        self.providerPaymentID = providerPaymentID
        self.redirectURL = redirectURL
        self.items = items
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.paidAt = paidAt
    }

    public var sellerIDs: Set<String> { Set(items.map(\.sellerID)) }

    /// "#1042", how pages, e-mails and the CLI name the order (its id where it has no number yet).
    public var displayNumber: String { number > 0 ? "#\(number)" : id }
    /// Paid with the built-in test provider: no money moved, so it is never money owed to a seller
    /// nor a sale. (A free order needs no provider: whatever it names, it is a real one.)
    public var isTest: Bool { provider == Self.testProvider && total > 0 }
    public static let testProvider = "test"
    public var refundableAmount: Int { status.isPaidUp ? total - refundedAmount : 0 }

    /// Paid after it expired or failed, with its stock gone: the payment must go back in full.
    public var isUnfulfillableLatePayment: Bool {
        (status == .expired || status == .paymentFailed) && providerPaymentID != nil
    }
}

/// The platform's fee on a line, in whole minor units (rounded half up), and the seller's rest.
public enum MarketplaceFees {
    /// `feePercent` is clamped to 0…100; a fraction of a cent goes to the seller when it is below half.
    public static func split(amount: Int, feePercent: Double) -> (fee: Int, seller: Int) {
        let percent = feePercent.isFinite ? min(max(feePercent, 0), 100) : 0
        let basisPoints = Int((percent * 100).rounded())
        let fee = (amount * basisPoints + 5_000) / 10_000
        return (fee, amount - fee)
    }
}

/// How long a checkout holds its stock before the order expires.
public enum CheckoutRules {
    public static let orderLifetime: TimeInterval = 30 * 60
    public static let providers = ["stripe", "paypal", "test"]
    /// Idempotency keys: printable ASCII, 1…255 characters (as Stripe accepts).
    public static func idempotencyKey(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        guard (1...255).contains(raw.count), raw.allSatisfy({ (33...126).contains($0.asciiValue ?? 0) })
        else {
            throw SoukError(.badRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.")
        }
        return raw
    }
}
