import Foundation

// The `data` of each webhook event: the object as the API shows it, trimmed to what a seller's
// system acts on. Keys are spelled in snake_case here, since the payload is stored and signed as
// written (no encoder strategy between the value and the bytes).

/// `order.paid`, `order.refunded`, `order.disputed`. An order with lines from several sellers
/// tells each seller of their own lines only (`lines`, `seller_total`); `total` is the order's.
public struct WebhookOrderData: Encodable, Sendable, Equatable {
    public struct Line: Encodable, Sendable, Equatable {
        var id: String
        var productID: String
        var title: String
        var kind: String
        var quantity: Int
        var unitAmount: Int
        var amount: Int
        var feeAmount: Int
        var sellerAmount: Int

        enum CodingKeys: String, CodingKey {
            case id, title, kind, quantity, amount
            case productID = "product_id"
            case unitAmount = "unit_amount"
            case feeAmount = "fee_amount"
            case sellerAmount = "seller_amount"
        }
    }

    public struct Refund: Encodable, Sendable, Equatable {
        var id: String
        var amount: Int
        var reason: String?
        var requestedBy: String

        enum CodingKeys: String, CodingKey {
            case id, amount, reason
            case requestedBy = "requested_by"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(amount, forKey: .amount)
            try container.encode(reason, forKey: .reason)
            try container.encode(requestedBy, forKey: .requestedBy)
        }
    }

    var id: String
    var status: String
    var currency: String
    var total: Int
    var refundedAmount: Int
    var sellerTotal: Int
    var buyerEmail: String
    var test: Bool
    var lines: [Line]
    var refund: Refund?
    var createdAt: String
    var paidAt: String?

    enum CodingKeys: String, CodingKey {
        case id, status, currency, total, test, lines, refund
        case refundedAmount = "refunded_amount"
        case sellerTotal = "seller_total"
        case buyerEmail = "buyer_email"
        case createdAt = "created_at"
        case paidAt = "paid_at"
    }

    /// `order` as `sellerID` sees it; `refund` for `order.refunded`.
    public init(order: Order, sellerID: String, refund: (id: String, amount: Int, reason: String?, requestedBy: String)? = nil) {
        let own = order.items.filter { $0.sellerID == sellerID }
        id = order.id
        status = order.status.rawValue
        currency = order.currency
        total = order.total
        refundedAmount = order.refundedAmount
        sellerTotal = own.reduce(0) { $0 + $1.amount }
        buyerEmail = order.buyerEmail
        test = order.isTest
        lines = own.map {
            Line(
                id: $0.id, productID: $0.productID, title: $0.title, kind: $0.kind.rawValue, quantity: $0.quantity,
                unitAmount: $0.unitAmount, amount: $0.amount, feeAmount: $0.feeAmount, sellerAmount: $0.sellerAmount)
        }
        self.refund = refund.map { Refund(id: $0.id, amount: $0.amount, reason: $0.reason, requestedBy: $0.requestedBy) }
        createdAt = Timestamp.rfc3339(order.createdAt)
        paidAt = order.paidAt.map(Timestamp.rfc3339)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(currency, forKey: .currency)
        try container.encode(total, forKey: .total)
        try container.encode(refundedAmount, forKey: .refundedAmount)
        try container.encode(sellerTotal, forKey: .sellerTotal)
        try container.encode(buyerEmail, forKey: .buyerEmail)
        try container.encode(test, forKey: .test)
        try container.encode(lines, forKey: .lines)
        try container.encodeIfPresent(refund, forKey: .refund)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(paidAt, forKey: .paidAt)
    }
}

/// `license.activated`, `license.deactivated`: the key and the instance that took or freed a seat.
public struct WebhookLicenseData: Encodable, Sendable, Equatable {
    public struct Instance: Encodable, Sendable, Equatable {
        var id: String
        var name: String
    }

    var id: String
    var key: String
    var productID: String
    var orderID: String
    var status: String
    var activationLimit: Int?
    var activationsCount: Int
    var instance: Instance

    enum CodingKeys: String, CodingKey {
        case id, key, status, instance
        case productID = "product_id"
        case orderID = "order_id"
        case activationLimit = "activation_limit"
        case activationsCount = "activations_count"
    }

    public init(license: LicenseKey, instanceID: String, instanceName: String, at now: Date) {
        id = license.id
        key = license.key
        productID = license.productID
        orderID = license.orderID
        status = license.status(at: now).rawValue
        activationLimit = license.activationLimit
        activationsCount = license.activations.count
        instance = Instance(id: instanceID, name: instanceName)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(key, forKey: .key)
        try container.encode(productID, forKey: .productID)
        try container.encode(orderID, forKey: .orderID)
        try container.encode(status, forKey: .status)
        try container.encode(activationLimit, forKey: .activationLimit)
        try container.encode(activationsCount, forKey: .activationsCount)
        try container.encode(instance, forKey: .instance)
    }
}

/// `review.created`.
public struct WebhookReviewData: Encodable, Sendable, Equatable {
    var id: String
    var productID: String
    var rating: Int
    var title: String?
    var body: String
    var authorName: String
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, rating, title, body
        case productID = "product_id"
        case authorName = "author_name"
        case createdAt = "created_at"
    }

    public init(_ review: Review) {
        id = review.id
        productID = review.productID
        rating = review.rating
        title = review.title
        body = review.body
        authorName = review.authorName
        createdAt = Timestamp.rfc3339(review.createdAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(productID, forKey: .productID)
        try container.encode(rating, forKey: .rating)
        try container.encode(title, forKey: .title)
        try container.encode(body, forKey: .body)
        try container.encode(authorName, forKey: .authorName)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// `product.updated`: the product after the change.
public struct WebhookProductData: Encodable, Sendable, Equatable {
    var id: String
    var title: String
    var slug: String
    var status: String
    var kind: String
    var category: String
    var tags: [String]
    var price: Int
    var minPrice: Int?
    var currency: String
    var stock: Int?
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, title, slug, status, kind, category, tags, price, currency, stock
        case minPrice = "min_price"
        case updatedAt = "updated_at"
    }

    public init(_ product: Product) {
        id = product.id
        title = product.title
        slug = product.slug
        status = product.status.rawValue
        kind = product.kind.rawValue
        category = product.category
        tags = product.tags
        price = product.price.amount
        minPrice = product.price.minimum
        currency = product.price.currency
        stock = product.stock
        updatedAt = Timestamp.rfc3339(product.updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(slug, forKey: .slug)
        try container.encode(status, forKey: .status)
        try container.encode(kind, forKey: .kind)
        try container.encode(category, forKey: .category)
        try container.encode(tags, forKey: .tags)
        try container.encode(price, forKey: .price)
        try container.encode(minPrice, forKey: .minPrice)
        try container.encode(currency, forKey: .currency)
        try container.encode(stock, forKey: .stock)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// `webhook.test`: says which endpoint asked, so a receiver can tell it from a real event.
public struct WebhookTestData: Encodable, Sendable, Equatable {
    var endpointID: String
    var message: String

    enum CodingKeys: String, CodingKey {
        case endpointID = "endpoint_id"
        case message
    }

    public init(endpointID: String) {
        self.endpointID = endpointID
        message = "A test event sent from the Souk dashboard or API."
    }
}
