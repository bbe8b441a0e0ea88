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

    public init(database: AppDatabase, providers: PaymentProviders, logger: Logger = Logger(label: "souk.orders")) {
        self.database = database
        self.providers = providers
        self.events = PaymentEventsService(database: database, providers: providers)
        self.refunds = RefundService(database: database, providers: providers)
        self.logger = logger
    }

    public func register(in registry: inout JobRegistry) {
        registry.register(OrderJobKind.orderExpiry) { job in try await expire(job.decodePayload(OrderJobPayload.self)) }
        registry.register(OrderJobKind.autoRefund) { job in try await autoRefund(job.decodePayload(OrderJobPayload.self)) }
        registry.register(OrderJobKind.confirmPayment) { job in
            try await events.confirm(orderID: job.decodePayload(OrderJobPayload.self).orderID)
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
