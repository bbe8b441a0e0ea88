import Foundation

/// What the store knows of an order when a provider event about it arrives, read in the
/// transaction that records the event.
public struct PaymentEventFacts: Sendable, Equatable {
    public var order: Order
    /// Why a payment with the event's payment id was refused before, if it was: such a payment
    /// never pays anything later, whatever another event says about it.
    public var paymentRefusedBefore: String?
    /// The status the order had when its dispute opened.
    public var statusBeforeDispute: OrderStatus?
    /// The refund the event names (by the provider's refund id) is recorded already.
    public var refundRecorded: Bool
    /// For a payment arriving after the order expired or failed: every limited line's stock can
    /// be held again.
    public var stockAvailableAgain: Bool
    /// The id a refund this event leads to is stored under.
    public var newRefundID: String

    public init(
        order: Order, paymentRefusedBefore: String? = nil, statusBeforeDispute: OrderStatus? = nil,
        refundRecorded: Bool = false, stockAvailableAgain: Bool = true, newRefundID: String = "ref_new"
    ) {
        self.order = order
        self.paymentRefusedBefore = paymentRefusedBefore
        self.statusBeforeDispute = statusBeforeDispute
        self.refundRecorded = refundRecorded
        self.stockAvailableAgain = stockAvailableAgain
        self.newRefundID = newRefundID
    }
}

/// The change a provider event makes to its order. The storage layer applies it, with the jobs
/// of the plan, in the transaction that records the event.
public enum OrderChange: Sendable, Equatable {
    /// Nothing changes (an old event arriving after a newer one, or one already applied).
    case none(reason: String)
    /// Approved or under way but not paid: ask the provider from a job (PayPal captures).
    case awaitConfirmation
    /// The payment does not pay this order: keep it for the operator and give it back.
    case refusePayment(Payment, reason: String)
    /// Paid after the order expired, with its stock sold since: keep the payment id and refund it.
    case refundLatePayment(paymentID: String)
    /// Paid: status `paid`, one grant per line, the bought lines leave the cart; `holdStockAgain`
    /// for a late payment whose stock went back on sale; `countsAsSale` unless a test order.
    case pay(paymentID: String, holdStockAgain: Bool, countsAsSale: Bool)
    /// A plain move along the lifecycle; `releaseStock` puts held stock back on sale.
    case move(to: OrderStatus, releaseStock: Bool)
    case refund(RefundEntry)
    /// The bank disputes the charge; the status before it is kept, to return to if it is won.
    case openDispute(from: OrderStatus)
    /// A won dispute: back to where the order was.
    case closeDispute(restore: OrderStatus)
}

/// A decision: the change and the jobs that follow it.
public struct PaymentEventPlan: Sendable, Equatable {
    public var change: OrderChange
    public var jobs: [JobRequest]
    /// Who hears of it, in the same transaction (so the stream has it as soon as it is true).
    public var notices: [Notice]

    public init(_ change: OrderChange, jobs: [JobRequest] = [], notices: [Notice] = []) {
        self.change = change
        self.jobs = jobs
        self.notices = notices
    }

    /// What recording the event did, once applied (`mismatchID`: the refused payment's record).
    public func outcome(orderID: String, mismatchID: String? = nil) -> PaymentEventOutcome {
        switch change {
        case .none(let reason): .ignored(reason: reason)
        case .awaitConfirmation: .applied(orderID: orderID, status: .created)
        case .refusePayment(_, let reason): .mismatched(orderID: orderID, mismatchID: mismatchID ?? "", reason: reason)
        case .refundLatePayment: .refundQueued(orderID: orderID)
        case .pay: .applied(orderID: orderID, status: .paid)
        case .move(let status, _): .applied(orderID: orderID, status: status)
        case .refund(let entry): .applied(orderID: orderID, status: entry.status)
        case .openDispute: .applied(orderID: orderID, status: .disputed)
        case .closeDispute(let status): .applied(orderID: orderID, status: status)
        }
    }
}

/// The effect of a provider event on its order, through the one lifecycle table (`OrderLifecycle`).
/// Pure: the facts in, the change and its jobs out.
public enum PaymentEventDecision {
    public static func decide(_ effect: PaymentEffect, facts: PaymentEventFacts) throws -> PaymentEventPlan {
        let order = facts.order
        let refused = PaymentEventPlan(.none(reason: "order \(order.id) is \(order.status.rawValue)"))
        func move(_ to: OrderStatus, releaseStock: Bool = false) -> PaymentEventPlan {
            OrderLifecycle.allows(order.status, to) ? PaymentEventPlan(.move(to: to, releaseStock: releaseStock)) : refused
        }
        let payload = OrderJobPayload(orderID: order.id)
        switch effect {
        case .pending:
            guard order.status == .created else { return refused }
            return PaymentEventPlan(
                .awaitConfirmation, jobs: [try JobRequest(kind: OrderJobKind.confirmPayment, payload: payload)])

        case .paid(let payment):
            // Bound to its order by the provider's own checkout, amount and currency, or nothing
            // is granted: the payment is kept for the operator and given back.
            if let reason = facts.paymentRefusedBefore ?? PaymentMatch.mismatch(payment, order: order) {
                return PaymentEventPlan(.refusePayment(payment, reason: reason))
            }
            let late = order.status == .expired || order.status == .paymentFailed
            if late && !facts.stockAvailableAgain {
                return PaymentEventPlan(
                    .refundLatePayment(paymentID: payment.id),
                    jobs: [
                        try JobRequest(
                            kind: OrderJobKind.autoRefund, payload: payload, dedupeKey: "\(OrderJobKind.autoRefund):\(order.id)")
                    ])
            }
            guard OrderLifecycle.allows(order.status, .paid) else { return refused }
            return PaymentEventPlan(
                .pay(paymentID: payment.id, holdStockAgain: late, countsAsSale: !order.isTest),
                jobs: [try JobRequest(kind: OrderJobKind.fulfil, payload: payload, dedupeKey: "\(OrderJobKind.fulfil):\(order.id)")],
                notices: PaidOrderNotices.notices(for: order))

        case .failed:
            return move(.paymentFailed, releaseStock: true)

        case .expired:
            return move(.expired, releaseStock: true)

        case .refunded(let totalRefunded, let refundID):
            // Providers report the total refunded so far: only what is new is recorded.
            let newTotal = min(totalRefunded, order.total)
            guard newTotal > order.refundedAmount, !facts.refundRecorded else {
                return PaymentEventPlan(.none(reason: "refund already recorded"))
            }
            let status: OrderStatus = newTotal == order.total ? .refunded : .partiallyRefunded
            guard OrderLifecycle.allows(order.status, status) else { return refused }
            return PaymentEventPlan(
                .refund(
                    try RefundDecision.entry(
                        refundID: facts.newRefundID, order: order, amount: newTotal - order.refundedAmount, reason: nil,
                        providerRefundID: refundID, requestedBy: "provider")))

        case .disputeOpened:
            guard OrderLifecycle.allows(order.status, .disputed) else { return refused }
            return PaymentEventPlan(.openDispute(from: order.status))

        case .disputeClosed(let won):
            guard order.status == .disputed else { return refused }
            guard won else {
                return PaymentEventPlan(
                    .refund(
                        try RefundDecision.entry(
                            refundID: facts.newRefundID, order: order, amount: order.total - order.refundedAmount,
                            reason: "dispute lost", providerRefundID: nil, requestedBy: "dispute")))
            }
            let previous = facts.statusBeforeDispute ?? .paid
            // The dispute may have held up fulfilment: queue it again (it is idempotent, and this
            // event is applied only once), outside the first fulfilment's dedupe key.
            let jobs = previous == .paid ? [try JobRequest(kind: OrderJobKind.fulfil, payload: payload)] : []
            return PaymentEventPlan(.closeDispute(restore: previous), jobs: jobs)
        }
    }
}
