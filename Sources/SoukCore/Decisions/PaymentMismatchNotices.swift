import Foundation

/// What the operator is told about a payment that did not match its order (`PaymentMatch`), and
/// the job that gives it back.
public enum PaymentMismatchNotices {
    /// The `mismatch_refund` job of mismatch `mismatchID` (one per mismatch).
    public static func refundJob(mismatchID: String) throws -> JobRequest {
        try JobRequest(
            kind: OrderJobKind.mismatchRefund, payload: MismatchRefundPayload(mismatchID: mismatchID),
            dedupeKey: "\(OrderJobKind.mismatchRefund):\(mismatchID)")
    }

    /// Tells admin `adminID` that a payment was refused and is being refunded.
    public static func recorded(
        mismatchID: String, payment: Payment, provider: String, reason: String, orderID: String, adminID: String
    ) -> Notice {
        let paid =
            payment.amount.map { amount in
                payment.currency.map { "\(Currency.decimalString(amount, currency: $0)) \($0)" } ?? "\(amount)"
            } ?? "an unknown amount"
        return Notice(
            userID: adminID, type: .paymentMismatch, title: "A payment did not match order \(orderID)",
            body: "\(provider) payment \(payment.id) (\(paid)) was not granted anything: \(reason). It is being refunded automatically; see `souk order show \(orderID)`.",
            url: nil, dedupeKey: "payment_mismatch:\(mismatchID):\(adminID)")
    }

    /// Tells admin `adminID` that the automatic refund failed and must be made by hand.
    public static func refundFailed(_ mismatch: PaymentMismatch, error: String, adminID: String) -> Notice {
        Notice(
            userID: adminID, type: .paymentMismatch,
            title: "Refund it by hand: payment \(mismatch.payment.id) for order \(mismatch.orderID)",
            body: "The automatic refund of a payment that did not match its order failed: \(error). Refund it in \(mismatch.provider)'s dashboard.",
            url: nil, dedupeKey: "payment_mismatch_failed:\(mismatch.id):\(adminID)")
    }
}
