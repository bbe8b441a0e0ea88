import Foundation
import Logging
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukPayments

/// The money path's background work (`fulfil` belongs to delivery: `DeliveryJobs`), registered in the one job registry `souk serve` and
/// `souk jobs run` share. Every handler is idempotent: a job run twice changes nothing more.
public struct OrderJobs: Sendable {
    let database: AppDatabase
    let providers: PaymentProviders
    let events: PaymentEventsService
    let refunds: RefundService
    let logger: Logger

    /// `events` and `refunds` are the runtime's own (one set of providers, locks and transport).
    public init(
        database: AppDatabase, providers: PaymentProviders, events: PaymentEventsService, refunds: RefundService,
        logger: Logger = Logger(label: "souk.orders")
    ) {
        self.database = database
        self.providers = providers
        self.events = events
        self.refunds = refunds
        self.logger = logger
    }

    public func register(in registry: inout JobRegistry) {
        registry.register(OrderJobKind.orderExpiry) { job in try await expire(job.decodePayload(OrderJobPayload.self)) }
        registry.register(OrderJobKind.autoRefund) { job in try await autoRefund(job.decodePayload(OrderJobPayload.self)) }
        registry.register(OrderJobKind.confirmPayment) { job in
            try await events.confirm(orderID: job.decodePayload(OrderJobPayload.self).orderID)
        }
        registry.register(OrderJobKind.mismatchRefund) { job in
            try await refundMismatch(job.decodePayload(MismatchRefundPayload.self))
        }
        registry.register(OrderJobKind.testWebhook) { job in try await deliverTestWebhook(job.decodePayload([String: String].self)) }
    }

    /// An order still unpaid at its expiry time expires and its stock goes back on sale.
    func expire(_ payload: OrderJobPayload) async throws {
        if try await database.expireOrder(id: payload.orderID) {
            logger.info("order expired unpaid; its stock is on sale again", metadata: ["order": "\(payload.orderID)"])
        }
    }

    /// Refunds a payment that arrived after the order expired and its stock was sold to others.
    func autoRefund(_ payload: OrderJobPayload) async throws {
        guard let order = try await database.order(id: payload.orderID), order.isUnfulfillableLatePayment else { return }
        _ = try await refunds.refund(
            orderID: order.id, amount: nil, reason: "Sold out before the payment arrived", by: .system)
        logger.warning(
            "late payment refunded: the product sold out before it arrived",
            metadata: ["order": "\(order.id)", "buyer": "\(order.buyerEmail)", "amount": "\(order.total) \(order.currency)"])
    }

    /// Gives back a payment that did not match its order, whole. A provider that cannot be reached
    /// is retried by the queue (same idempotency key, so never refunded twice); a refusal is final
    /// and left to the operator, who is told.
    func refundMismatch(_ payload: MismatchRefundPayload) async throws {
        guard let mismatch = try await database.paymentMismatch(id: payload.mismatchID), mismatch.refundState == .queued
        else { return }
        let payment = mismatch.payment
        let metadata: Logger.Metadata = [
            "mismatch": "\(mismatch.id)", "order": "\(mismatch.orderID)", "provider": "\(mismatch.provider)",
            "payment": "\(payment.id)",
        ]
        guard let amount = payment.amount, amount > 0, let currency = payment.currency else {
            try await database.mismatchRefundFailed(
                id: mismatch.id, error: "the provider did not say how much was paid, so it cannot be refunded automatically")
            logger.error("a mismatched payment cannot be refunded automatically; refund it by hand", metadata: metadata)
            return
        }
        guard let provider = providers.byName[mismatch.provider] else {
            throw SoukError(
                .paymentProviderError,
                "Payment \(payment.id) for order \(mismatch.orderID) must be refunded through \(mismatch.provider), which is not configured any more; configure it again or refund it in its dashboard.")
        }
        do {
            let refundID = try await provider.refund(
                paymentID: payment.id, orderID: mismatch.orderID, amount: amount, currency: currency,
                idempotencyKey: "souk-mismatch-\(mismatch.id)")
            try await database.mismatchRefunded(id: mismatch.id, refundID: refundID)
            logger.warning(
                "a payment that did not match its order was refunded",
                metadata: metadata.merging(["refund": "\(refundID)", "amount": "\(amount) \(currency)"]) { $1 })
        } catch let failure as PaymentProviderFailure {
            guard case .refused(let message) = failure.kind else { throw failure }
            try await database.mismatchRefundFailed(id: mismatch.id, error: "\(mismatch.provider) refused the refund: \(message)")
            logger.error(
                "the provider refused to refund a mismatched payment; refund it by hand",
                metadata: metadata.merging(["error": "\(failure)"]) { $1 })
        }
    }

    /// Delivers a test-provider event to the store exactly as a webhook would arrive: signed now,
    /// verified and recorded through the same path as Stripe's.
    func deliverTestWebhook(_ payload: [String: String]) async throws {
        guard let test = providers.test, let body = payload["body"] else { return }
        if let event = JSONValue.parse(body), event["type"]?.stringValue == "checkout.session.async_payment_succeeded",
            let sessionID = event["data"]?["object"]?["id"]?.stringValue
        {
            _ = try await database.finishPendingTestSession(id: sessionID, paid: true)
        }
        try await events.receiveWebhook(provider: test.name, test.signedRequest(body: body))
    }
}
