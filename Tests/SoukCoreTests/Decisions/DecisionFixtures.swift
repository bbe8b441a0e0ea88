import Foundation
import SoukCore

/// Orders and products built as values, for the decisions' tests (no database anywhere).
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func item(
        _ id: String, product: String = "prod_a", seller: String = "usr_seller", kind: ProductKind = .download,
        quantity: Int = 1, unit: Int = 1000, fee: Int = 0
    ) -> OrderItem {
        OrderItem(
            id: id, productID: product, sellerID: seller, title: "Title of \(product)", kind: kind, quantity: quantity,
            unitAmount: unit, amount: unit * quantity, feeAmount: fee, sellerAmount: unit * quantity - fee)
    }

    static func order(
        _ status: OrderStatus, total: Int? = nil, refunded: Int = 0, provider: String = "stripe", session: String? = "cs_1",
        payment: String? = nil, currency: String = "USD", items: [OrderItem] = [item("oi_1")]
    ) -> Order {
        Order(
            id: "ord_1", buyerID: "usr_buyer", buyerEmail: "buyer@example.com", status: status, currency: currency,
            total: total ?? items.reduce(0) { $0 + $1.amount }, refundedAmount: refunded, provider: provider,
            providerSessionID: session, providerPaymentID: payment, redirectURL: nil, items: items, createdAt: now,
            updatedAt: now, expiresAt: now.addingTimeInterval(1800), paidAt: nil)
    }

    /// A payment that matches `order()`: its checkout, total and currency.
    static func payment(id: String = "pi_1", checkout: String? = "cs_1", amount: Int? = 1000, currency: String? = "usd")
        -> Payment
    {
        Payment(id: id, checkoutID: checkout, amount: amount, currency: currency, claimedOrderID: "ord_1")
    }

    static func product(
        _ id: String = "prod_a", price: Int = 1000, minimum: Int? = nil, currency: String = "USD", stock: Int? = nil,
        status: ProductStatus = .published, listed: Bool = true, seller: String = "usr_seller"
    ) -> Product {
        Product(
            id: id, sellerID: seller, sellerName: "Seller", title: "Title of \(id)", slug: id, summary: "", description: "",
            descriptionHTML: "", category: "Books", tags: [], kind: .download,
            price: Price(amount: price, currency: currency, minimum: minimum), stock: stock, status: status,
            attributesJSON: "{}", downloadLimit: nil, activationLimit: nil, ratingAverage: 0, ratingCount: 0, salesCount: 0,
            createdAt: now, updatedAt: now, publishedAt: now, sellerListed: listed)
    }

    static func cartLine(_ product: Product, quantity: Int = 1, unit: Int? = nil) -> CartLine {
        CartLine(product: product, quantity: quantity, unitAmount: unit ?? product.price.amount, addedAt: now)
    }
}
