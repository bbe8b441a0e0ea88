import Foundation

/// A hosted checkout of the built-in test provider.
public struct TestCheckoutSession: Sendable, Equatable {
    public enum Status: String, Sendable {
        case open, paid, pending, declined
    }

    /// The lines as the hosted page shows them.
    public typealias Line = CheckoutLine

    public var id: String
    public var orderID: String
    public var paymentID: String
    public var amount: Int
    public var currency: String
    public var lines: [Line]
    public var buyerEmail: String
    public var successURL: String
    public var cancelURL: String
    public var status: Status
    public var refundedAmount: Int
    public var createdAt: Date

    public init(
        id: String, orderID: String, paymentID: String, amount: Int, currency: String, lines: [Line], buyerEmail: String,
        successURL: String, cancelURL: String, status: Status, refundedAmount: Int, createdAt: Date
    ) {
        self.id = id
        self.orderID = orderID
        self.paymentID = paymentID
        self.amount = amount
        self.currency = currency
        self.lines = lines
        self.buyerEmail = buyerEmail
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.status = status
        self.refundedAmount = refundedAmount
        self.createdAt = createdAt
    }
}
