import Crypto
import Foundation
import Logging
import SoukCore
import SoukDatabase
import SoukPayments

/// Checkout: the cart becomes an order with snapshotted prices and held stock, and the chosen
/// provider opens a hosted checkout for it. The same Idempotency-Key, or the same unchanged cart,
/// returns the same order and session: a double click never charges twice.
public struct CheckoutService: Sendable {
    let database: AppDatabase
    let providers: PaymentProviders
    let links: OrderLinks
    let feePercent: Double
    let locks = KeyedLock()
    let logger = Logger(label: "souk.payments")

    public init(database: AppDatabase, providers: PaymentProviders, links: OrderLinks, feePercent: Double) {
        self.database = database
        self.providers = providers
        self.links = links
        self.feePercent = feePercent
    }

    public struct Result: Sendable {
        public var order: Order
        /// Where to send the buyer: the hosted checkout, or the order page for a free order.
        public var redirectURL: String
        public var isNew: Bool
    }

    /// Checks out `cart` for `buyer`. Throws `validationFailed` for an empty cart or an unknown
    /// provider, `conflict` when something sold out, `paymentProviderError` when the provider
    /// fails (the order stays, so retrying with the same key resumes it).
    public func checkout(
        buyer: User, cart: Cart?, providerName: String?, idempotencyKey: String?, isGuest: Bool = false
    ) async throws -> Result {
        let provider = try providers.provider(named: providerName)
        // The idempotency key and the cart's digest are looked up before the cart is judged:
        // a repeated request finds its order even after the stock it holds ran out.
        let cart = cart ?? Cart(id: "", lines: [], expiresAt: .distantPast)
        let placed = try await database.placeOrder(
            CheckoutDraft(
                buyer: buyer, cart: cart, provider: provider.name,
                idempotencyKey: try CheckoutRules.idempotencyKey(idempotencyKey), feePercent: feePercent, isGuest: isGuest))
        // A repeated request resumes its order with the provider the order was made for, whatever
        // this request names: its session, payment and webhooks all belong to that provider.
        let order = try await openSession(for: placed.order, with: try providers.provider(of: placed.order))
        return Result(order: order, redirectURL: order.redirectURL ?? links.orderPage(order.id), isNew: placed.isNew)
    }

    /// Opens the provider's hosted checkout once per order. A free order needs no payment: it is
    /// recorded as paid at once, through the same event path as a real payment.
    private func openSession(for order: Order, with provider: any PaymentProvider) async throws -> Order {
        guard order.status == .created, order.providerSessionID == nil else { return order }
        if order.total == 0 {
            _ = try await database.recordPaymentEvent(
                PaymentEvent(
                    provider: order.provider, id: "free:\(order.id)", type: "free_order", order: .order(order.id),
                    effect: .paid(Payment(id: "free:\(order.id)", checkoutID: nil, amount: 0, currency: order.currency))))
            return try await database.order(id: order.id) ?? order
        }
        return try await locks.withLock(order.id) {
            // Another request may have opened it while this one waited.
            if let current = try await database.order(id: order.id), current.providerSessionID != nil { return current }
            let session: HostedCheckout
            do {
                session = try await provider.createCheckout(
                    CheckoutRequest(
                        orderID: order.id, buyerEmail: order.buyerEmail, currency: order.currency,
                        lines: order.items.map {
                            CheckoutLine(title: $0.title, quantity: $0.quantity, unitAmount: $0.unitAmount)
                        },
                        total: order.total, successURL: links.successURL(order.id), cancelURL: links.cancelURL(order.id),
                        expiresAt: order.expiresAt))
            } catch let failure as PaymentProviderFailure {
                // The order keeps its stock; the same Idempotency-Key (or cart) resumes it.
                logger.error("opening the hosted checkout failed", metadata: ["order": "\(order.id)", "error": "\(failure)"])
                throw failure.soukError
            }
            return try await database.attachCheckoutSession(
                orderID: order.id, sessionID: session.sessionID, redirectURL: session.redirectURL)
        }
    }
}

/// The store's URLs for an order, and the key that lets a guest buyer (no session) see it.
public struct OrderLinks: Sendable {
    let baseURL: String
    let key: SymmetricKey

    public init(baseURL: String, serverSecret: [UInt8]) {
        self.baseURL = baseURL
        self.key = SymmetricKey(data: serverSecret)
    }

    /// An unguessable key for one order, so the link in a guest's browser opens only that order.
    public func viewKey(_ orderID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("order-view:\(orderID)".utf8), using: key)
        return Base64URL.encode(Data(mac.prefix(18)))
    }

    public func isValidViewKey(_ candidate: String, for orderID: String) -> Bool {
        let expected = Array(viewKey(orderID).utf8)
        let given = Array(candidate.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    public func orderPage(_ orderID: String) -> String { "\(baseURL)/orders/\(orderID)?key=\(viewKey(orderID))" }

    public func successURL(_ orderID: String) -> String {
        "\(baseURL)/checkout/success?order=\(orderID)&key=\(viewKey(orderID))&session_id={CHECKOUT_SESSION_ID}"
    }

    public func cancelURL(_ orderID: String) -> String { "\(baseURL)/checkout/cancel?order=\(orderID)&key=\(viewKey(orderID))" }
}
