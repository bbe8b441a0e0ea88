import Foundation

/// One product in a cart, with the price the buyer will pay per unit.
public struct CartLine: Sendable, Equatable {
    public var product: Product
    public var quantity: Int
    /// Unit price in minor units: the product's price, or the buyer's pay-what-you-want amount.
    public var unitAmount: Int
    public var addedAt: Date

    public init(product: Product, quantity: Int, unitAmount: Int, addedAt: Date) {
        self.product = product
        self.quantity = quantity
        self.unitAmount = unitAmount
        self.addedAt = addedAt
    }

    public var lineAmount: Int { unitAmount * quantity }
    /// Still purchasable as it stands: listed, enough stock for the quantity, and an amount not
    /// below the product's (pay-what-you-want) minimum.
    public var isAvailable: Bool {
        product.status == .published && product.sellerListed && (product.stock.map { $0 >= quantity } ?? true)
            && unitAmount >= product.price.floor
    }
}

/// A buyer's cart: lines from any sellers, in one currency.
public struct Cart: Sendable, Equatable {
    public var id: String
    public var lines: [CartLine]
    public var expiresAt: Date

    public init(id: String, lines: [CartLine], expiresAt: Date) {
        self.id = id
        self.lines = lines
        self.expiresAt = expiresAt
    }

    public var currency: String? { lines.first?.product.price.currency }
    /// The total of the lines that can be bought now.
    public var total: Int { lines.filter(\.isAvailable).reduce(0) { $0 + $1.lineAmount } }
    public var itemCount: Int { lines.reduce(0) { $0 + $1.quantity } }
}

/// What may go into a cart, and at what price.
public enum CartRules {
    public static let maxQuantity = 100
    public static let maxLines = 100

    /// Throws unless `product` may join a cart whose other lines are priced in `otherCurrencies`
    /// and number `otherLines`: `conflict` for another currency (one currency per checkout),
    /// `validationFailed` past `maxLines`.
    public static func requireRoom(for product: Product, otherCurrencies: [String], otherLines: Int) throws {
        if let currency = otherCurrencies.first, currency != product.price.currency {
            throw SoukError(
                .conflict,
                "Your cart is in \(currency) and \(product.title) is priced in \(product.price.currency): check out one currency at a time.",
                field: "product_id")
        }
        guard otherLines < maxLines else {
            throw SoukError.validation("product_id", "A cart holds at most \(maxLines) products.")
        }
    }

    /// The unit price for `product` given the buyer's optional amount. Throws `validationFailed`
    /// (field `amount`) for an amount below a pay-what-you-want minimum or on a fixed price.
    public static func unitAmount(for product: Product, offered: Int?) throws -> Int {
        let price = product.price
        guard price.isPayWhatYouWant else {
            if let offered, offered != price.amount {
                throw SoukError.validation(
                    "amount",
                    "\(product.title) has a fixed price of \(Currency.display(price.amount, currency: price.currency)); leave `amount` out.")
            }
            return price.amount
        }
        let amount = offered ?? price.amount
        guard amount >= price.floor, amount <= CatalogRules.maxPrice else {
            throw SoukError.validation(
                "amount",
                "Pay at least \(Currency.display(price.floor, currency: price.currency)) for \(product.title) "
                    + "(and at most \(Currency.display(CatalogRules.maxPrice, currency: price.currency))).")
        }
        return amount
    }

    /// Throws `validationFailed` (field `quantity`) outside 1…100 or beyond the stock left.
    public static func quantity(_ quantity: Int, for product: Product) throws -> Int {
        guard (1...maxQuantity).contains(quantity) else {
            throw SoukError.validation("quantity", "Choose a quantity from 1 to \(maxQuantity).")
        }
        if let stock = product.stock, quantity > stock {
            throw SoukError.validation(
                "quantity", stock == 0 ? "\(product.title) is sold out." : "Only \(stock) of \(product.title) left.")
        }
        return quantity
    }
}
