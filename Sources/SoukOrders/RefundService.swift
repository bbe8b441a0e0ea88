import Foundation
import Logging
import SoukCore
import SoukDatabase
import SoukPayments

/// Refunds through the provider's refund API, then recorded on the order (access revoked on a
/// full refund). Only the seller of every line, or an admin, may refund.
public struct RefundService: Sendable {
    let database: AppDatabase
    let providers: PaymentProviders
    let logger: Logger
    let locks = KeyedLock()

    public init(database: AppDatabase, providers: PaymentProviders, logger: Logger = Logger(label: "souk.payments")) {
        self.database = database
        self.providers = providers
        self.logger = logger
    }

    /// Who asks for a refund.
    public enum Requester: Sendable {
        case user(User)
        /// The operator's CLI.
        case operatorCLI
        /// An automatic refund (a late payment without stock).
        case system

        var label: String {
            switch self {
            case .user(let user): user.id
            case .operatorCLI: "operator"
            case .system: "system"
            }
        }
    }

    /// Refunds `amount` (default: all that is left). Throws `forbidden` unless the requester sells
    /// every line or is an admin, `conflict` for an order that is not paid or an amount beyond
    /// what is left, `paymentProviderError` when the provider refuses (nothing is recorded then).
    public func refund(orderID: String, amount: Int?, reason: String?, by requester: Requester) async throws -> Order {
        guard let order = try await database.order(id: orderID) else { throw SoukError.notFound("The order \(orderID)") }
        if case .user(let user) = requester, user.role != .admin {
            try SellerStanding.require(user)
            guard order.sellerIDs == [user.id] else {
                throw SoukError(
                    .forbidden,
                    order.sellerIDs.contains(user.id)
                        ? "Order \(orderID) has lines from other sellers too: only an admin can refund it."
                        : "Only the seller of every line in order \(orderID), or an admin, can refund it.")
            }
        }
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500).description
        return try await locks.withLock(orderID) {
            guard let order = try await database.order(id: orderID) else { throw SoukError.notFound("The order \(orderID)") }
            let automatic = order.isUnfulfillableLatePayment
            let left = automatic ? order.total - order.refundedAmount : order.refundableAmount
            guard left > 0, let paymentID = order.providerPaymentID else {
                throw SoukError(.conflict, "Order \(orderID) is \(order.status.rawValue): there is nothing to refund.")
            }
            let amount = amount ?? left
            guard amount > 0, amount <= left else {
                throw SoukError.validation(
                    "amount",
                    "Refund between \(Currency.display(1, currency: order.currency)) and \(Currency.display(left, currency: order.currency)) of order \(orderID).")
            }
            // A late payment without stock goes back whole (the order never gave anything).
            guard !automatic || amount == left else {
                throw SoukError.validation(
                    "amount",
                    "Order \(orderID) was paid after it lapsed and cannot be delivered: refund all \(Currency.display(left, currency: order.currency)) of it.")
            }
            let provider = try providers.provider(of: order)
            let key = try await database.refundAttemptKey(orderID: orderID, amount: amount)
            let refundID: String
            do {
                refundID = try await provider.refund(
                    paymentID: paymentID, orderID: orderID, amount: amount, currency: order.currency, idempotencyKey: key)
            } catch let failure as PaymentProviderFailure {
                if case .refused = failure.kind { try await database.refundAttemptRefused(key: key) }
                logger.error(
                    "refund failed at the provider",
                    metadata: ["order": "\(orderID)", "amount": "\(amount)", "error": "\(failure)"])
                throw failure.soukError
            }
            let refunded = try await database.recordRefund(
                orderID: orderID, amount: amount, reason: reason, providerRefundID: refundID, requestedBy: requester.label,
                attemptKey: key)
            logger.info(
                "order refunded",
                metadata: [
                    "order": "\(orderID)", "amount": "\(amount)", "currency": "\(order.currency)", "by": "\(requester.label)",
                    "status": "\(refunded.status.rawValue)",
                ])
            return refunded
        }
    }
}
