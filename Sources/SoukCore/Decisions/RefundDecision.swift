import Foundation

/// A refund to record against an order, decided by `RefundDecision`.
public struct RefundEntry: Sendable, Equatable {
    /// The id the refund is stored under (made by the caller, so the decision stays pure).
    public var id: String
    public var orderID: String
    public var amount: Int
    public var reason: String?
    public var providerRefundID: String?
    /// `operator`, `seller`, `admin`, `provider`, `dispute`, `system`.
    public var requestedBy: String
    /// The order's status and refunded amount once the refund is recorded.
    public var status: OrderStatus
    public var refundedAmount: Int
    /// A full refund takes back everything the order gave: grants, pages and license keys.
    public var revokesAccess: Bool { status == .refunded }
    /// What the buyer is told.
    public var notice: Notice
}

/// How much of an order may be refunded, and what a refund does to it.
public enum RefundDecision {
    /// The refund of `amount` of `order`. Throws `conflict` when more than what is left would be
    /// refunded, or the order's state forbids it (`OrderLifecycle`).
    public static func entry(
        refundID: String, order: Order, amount: Int, reason: String?, providerRefundID: String?, requestedBy: String
    ) throws -> RefundEntry {
        // An automatic refund of a late payment refunds an order that never became paid.
        let refundable = order.isUnfulfillableLatePayment ? order.total - order.refundedAmount : order.refundableAmount
        guard amount > 0, amount <= refundable else {
            throw SoukError(
                .conflict,
                "Order \(order.displayNumber) has \(Currency.display(refundable, currency: order.currency)) left to refund; "
                    + "\(Currency.display(amount, currency: order.currency)) is too much.",
                field: "amount")
        }
        let refunded = order.refundedAmount + amount
        let status: OrderStatus = refunded == order.total ? .refunded : .partiallyRefunded
        try OrderLifecycle.check(orderID: order.id, from: order.status, to: status)
        let notice = Notice(
            userID: order.buyerID, type: .orderRefunded, title: "Refund for order \(order.displayNumber)",
            body: "\(Currency.display(amount, currency: order.currency)) refunded"
                + (status == .refunded ? "; access to this order's products has ended." : "."),
            url: "/orders/\(order.id)", dedupeKey: "refund:\(refundID)")
        return RefundEntry(
            id: refundID, orderID: order.id, amount: amount, reason: reason, providerRefundID: providerRefundID,
            requestedBy: requestedBy, status: status, refundedAmount: refunded, notice: notice)
    }
}
