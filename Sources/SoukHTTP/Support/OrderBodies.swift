import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// Who may see an order, and how much of it: the buyer and admins see all of it; a seller in good
/// standing (`SellerStanding`) sees only their own lines (and a total of those). Anyone else is
/// told it does not exist.
enum OrderViewer {
    case full
    case seller(String)

    static func of(_ order: Order, user: User?) -> OrderViewer? {
        guard let user else { return nil }
        if user.role == .admin || user.id == order.buyerID { return .full }
        if order.sellerIDs.contains(user.id), user.canSell { return .seller(user.id) }
        return nil
    }

    /// Throws `notFound` for an order the user may not see, or `forbidden` with the reason for a
    /// seller of one of its lines who is not verified (they know the order exists).
    static func require(_ order: Order?, id: String, user: User?) throws -> (Order, OrderViewer) {
        guard let order else { throw SoukError.notFound("The order \(id)") }
        if let viewer = of(order, user: user) { return (order, viewer) }
        if let user, order.sellerIDs.contains(user.id) { try SellerStanding.require(user) }
        throw SoukError.notFound("The order \(id)")
    }

    func items(of order: Order) -> [OrderItem] {
        switch self {
        case .full: order.items
        case .seller(let id): order.items.filter { $0.sellerID == id }
        }
    }
}

/// An order as the API shows it.
struct OrderBody: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var id: String
        var productID: String
        var sellerID: String
        var title: String
        var kind: String
        var quantity: Int
        var unitAmount: Int
        var amount: Int
        var feeAmount: Int
        var sellerAmount: Int
    }

    var id: String
    /// The store's number for the order (`#1042` on receipts and pages).
    var number: Int
    var status: String
    var total: Int
    var refundedAmount: Int
    var currency: String
    var provider: String
    /// Paid (if at all) with the test provider: no money moved.
    var test: Bool
    var items: [Item]
    var buyerEmail: String
    var createdAt: String
    @Nullable var paidAt: String?
    var expiresAt: String
    /// Where the buyer pays, while the order awaits payment (buyer's view only).
    @Nullable var paymentURL: String?

    init(_ order: Order, viewer: OrderViewer) {
        let items = viewer.items(of: order)
        id = order.id
        number = order.number
        status = order.status.rawValue
        currency = order.currency
        provider = order.provider
        test = order.isTest
        buyerEmail = order.buyerEmail
        createdAt = Timestamp.rfc3339(order.createdAt)
        paidAt = order.paidAt.map(Timestamp.rfc3339)
        expiresAt = Timestamp.rfc3339(order.expiresAt)
        self.items = items.map {
            Item(
                id: $0.id, productID: $0.productID, sellerID: $0.sellerID, title: $0.title, kind: $0.kind.rawValue,
                quantity: $0.quantity, unitAmount: $0.unitAmount, amount: $0.amount, feeAmount: $0.feeAmount,
                sellerAmount: $0.sellerAmount)
        }
        switch viewer {
        case .full:
            total = order.total
            refundedAmount = order.refundedAmount
            paymentURL = order.status == .created ? order.redirectURL : nil
        case .seller:
            total = items.reduce(0) { $0 + $1.amount }
            refundedAmount = order.sellerIDs.count == 1 ? order.refundedAmount : 0
            paymentURL = nil
        }
    }
}

/// `POST /api/v1/checkout`'s answer.
struct CheckoutBody: Encodable, Sendable {
    var order: OrderBody
    var redirectURL: String
}
