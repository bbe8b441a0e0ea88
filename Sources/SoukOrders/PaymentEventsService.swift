import Foundation
import Logging
import SoukCore
import SoukDatabase
import SoukPayments

/// The one path every payment signal takes, whether it comes as a webhook or from the success
/// page asking the provider: verify, reduce to a `PaymentEvent`, record and apply it in one
/// transaction (`AppDatabase.recordPaymentEvent`). Duplicates and stale events are harmless.
public struct PaymentEventsService: Sendable {
    let database: AppDatabase
    let providers: PaymentProviders
    let logger: Logger

    public init(database: AppDatabase, providers: PaymentProviders, logger: Logger = Logger(label: "souk.payments")) {
        self.database = database
        self.providers = providers
        self.logger = logger
    }

    /// A webhook for `providerName`. Throws `notFound` for a provider this store does not use and
    /// `badRequest` for a bad signature or body (nothing is recorded then).
    @discardableResult
    public func receiveWebhook(provider providerName: String, _ request: WebhookRequest) async throws -> PaymentEventOutcome {
        guard let provider = providers.byName[providerName] else {
            throw SoukError.notFound("The \(providerName) webhook endpoint (the provider is not configured)")
        }
        let event: PaymentEvent
        do {
            event = try await provider.verifyWebhook(request)
        } catch {
            logger.warning(
                "webhook rejected", metadata: ["provider": "\(providerName)", "error": "\(error)"])
            throw error
        }
        return try await record(event)
    }

    /// The buyer is back from the hosted page: ask the provider (Stripe: retrieve the session;
    /// PayPal: capture) and record what it says. Provider failures are logged, not thrown: the
    /// webhook or the `confirm_payment` job will still come, and the page keeps waiting.
    public func confirmReturn(orderID: String) async throws -> Order? {
        do {
            try await confirm(orderID: orderID)
        } catch let failure as PaymentProviderFailure {
            logger.warning(
                "confirming the payment on return failed; waiting for the webhook",
                metadata: ["order": "\(orderID)", "error": "\(failure)"])
        }
        return try await database.order(id: orderID)
    }

    /// Asks the provider where an unpaid order's checkout stands and records the answer. Throws
    /// `PaymentProviderFailure` when the provider cannot say (the `confirm_payment` job retries).
    public func confirm(orderID: String) async throws {
        guard let order = try await database.order(id: orderID), order.status == .created,
            let sessionID = order.providerSessionID, let provider = providers.byName[order.provider]
        else { return }
        if let event = try await provider.confirm(sessionID: sessionID, orderID: order.id) { try await record(event) }
    }

    @discardableResult
    func record(_ event: PaymentEvent) async throws -> PaymentEventOutcome {
        let outcome = try await database.recordPaymentEvent(event)
        let metadata: Logger.Metadata = ["provider": "\(event.provider)", "event": "\(event.id)", "type": "\(event.type)"]
        switch outcome {
        case .applied(let orderID, let status):
            logger.info("payment event applied", metadata: metadata.merging(["order": "\(orderID)", "status": "\(status.rawValue)"]) { $1 })
        case .duplicate:
            logger.info("payment event already recorded", metadata: metadata)
        case .ignored(let reason):
            logger.notice("payment event recorded, nothing to do", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
        case .mismatched(let orderID, let mismatchID, let reason):
            logger.error(
                "payment does not match its order: nothing granted, refund queued",
                metadata: metadata.merging(["order": "\(orderID)", "mismatch": "\(mismatchID)", "reason": "\(reason)"]) { $1 })
        case .refundQueued(let orderID):
            logger.warning(
                "payment arrived after the order expired and its stock was resold; refund queued",
                metadata: metadata.merging(["order": "\(orderID)"]) { $1 })
        }
        return outcome
    }
}
