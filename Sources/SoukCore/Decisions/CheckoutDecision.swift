import Foundation

/// One line of an order about to be placed: the price snapshotted and the money split.
public struct PlannedOrderItem: Sendable, Equatable {
    public var product: Product
    public var quantity: Int
    public var unitAmount: Int
    public var amount: Int
    public var feeAmount: Int
    public var sellerAmount: Int
    /// The product's stock is limited: placing the order holds `quantity` of it.
    public var holdsStock: Bool { product.stock != nil }
}

/// The order a checkout places, before any stock is held.
public struct CheckoutPlan: Sendable, Equatable {
    public var currency: String
    public var total: Int
    public var items: [PlannedOrderItem]
    public var expiresAt: Date
}

/// Checkout pricing and stock: what a cart becomes as an order. Pure: the cart and the products
/// as they are now in, the plan (or the reason it cannot be placed) out.
public enum CheckoutDecision {
    /// The order for `cart`, priced from `current` (each cart line's product as it is now, by id).
    /// Throws `validationFailed` for an empty cart and `conflict` when a line cannot be bought as
    /// it is in the cart: sold out, no longer on sale, or its price changed since it was added.
    public static func plan(cart: Cart, current: [String: Product], feePercent: Double, now: Date) throws -> CheckoutPlan {
        guard !cart.lines.isEmpty else { throw SoukError.validation("cart", "Your cart is empty.") }
        if let line = cart.lines.first(where: { !$0.isAvailable }) {
            throw SoukError(
                .conflict, "\(line.product.title) cannot be bought as it is in your cart (sold out or no longer on sale).",
                field: "cart")
        }
        // Prices were checked when added; products may have changed since.
        var items: [PlannedOrderItem] = []
        for line in cart.lines {
            guard let product = current[line.product.id], product.status == .published, product.sellerListed else {
                throw SoukError(.conflict, "\(line.product.title) is no longer on sale; remove it from your cart.", field: "cart")
            }
            // The price is snapshotted now: it must still be the product's price (or, for pay
            // what you want, at least its minimum).
            let priceHolds =
                product.price.isPayWhatYouWant ? line.unitAmount >= product.price.floor : line.unitAmount == product.price.amount
            guard priceHolds, product.price.currency == cart.currency else {
                throw SoukError(
                    .conflict, "The price of \(product.title) has just changed: check your cart and try again.", field: "cart")
            }
            let split = MarketplaceFees.split(amount: line.lineAmount, feePercent: feePercent)
            items.append(
                PlannedOrderItem(
                    product: product, quantity: line.quantity, unitAmount: line.unitAmount, amount: line.lineAmount,
                    feeAmount: split.fee, sellerAmount: split.seller))
        }
        return CheckoutPlan(
            currency: cart.currency ?? "USD", total: cart.lines.reduce(0) { $0 + $1.lineAmount }, items: items,
            expiresAt: now.addingTimeInterval(CheckoutRules.orderLifetime))
    }

    /// The refusal when a limited product has too little stock left for a line.
    public static func soldOut(_ product: Product) -> SoukError {
        SoukError(
            .conflict, product.stock == 0 ? "\(product.title) is sold out." : "Only \(product.stock ?? 0) of \(product.title) left.",
            field: "cart")
    }

    /// The job that expires the order if it is still unpaid when its stock hold ends.
    public static func expiryJob(orderID: String, at expiresAt: Date) throws -> JobRequest {
        try JobRequest(
            kind: OrderJobKind.orderExpiry, payload: OrderJobPayload(orderID: orderID),
            dedupeKey: "\(OrderJobKind.orderExpiry):\(orderID)", runAt: expiresAt)
    }
}
