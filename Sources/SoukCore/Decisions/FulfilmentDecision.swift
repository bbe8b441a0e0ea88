import Foundation

/// A license key to issue: one per unit of each `license` line (the key string itself is drawn
/// at random when it is stored).
public struct PlannedLicenseKey: Sendable, Equatable {
    public var grantID: String
    public var productID: String
    public var unit: Int
    /// Activations allowed; nil: unlimited.
    public var seats: Int?
}

/// What fulfilling a paid order does.
public enum FulfilmentPlan: Sendable, Equatable {
    /// Not paid up (or its access was revoked): nothing to deliver.
    case nothing
    /// Delivered before (say, while a dispute held the order); a won dispute put it back to
    /// `paid`, so only its status catches up (`markFulfilled`).
    case catchUp(markFulfilled: Bool)
    /// Deliver: issue the keys, mark the order fulfilled (`markFulfilled`: a partly refunded or
    /// disputed order keeps its status), tell the buyer and each seller, queue the follow-ups.
    case deliver(keys: [PlannedLicenseKey], markFulfilled: Bool, notices: [Notice], followUps: [JobRequest])
}

/// The fulfilment plan of an order: pure, from what the store knows of it.
public enum FulfilmentDecision {
    /// - Parameters:
    ///   - fulfilledBefore: the order was delivered once already.
    ///   - activeGrants: the active grant of each order line, by order item id.
    ///   - activationLimits: each product's activation limit, by product id (absent or 0: unlimited).
    ///   - followUps: the jobs delivery ends with (the receipt).
    public static func plan(
        order: Order, fulfilledBefore: Bool, activeGrants: [String: String], activationLimits: [String: Int],
        followUps: [JobRequest]
    ) -> FulfilmentPlan {
        guard order.status.isPaidUp else { return .nothing }
        let markFulfilled = order.status == .paid
        if fulfilledBefore { return .catchUp(markFulfilled: markFulfilled) }
        var keys: [PlannedLicenseKey] = []
        for item in order.items where item.kind == .license {
            guard let grantID = activeGrants[item.id] else { continue }
            let seats = LicenseKey.seats(activationLimits[item.productID])
            keys += (0..<item.quantity).map {
                PlannedLicenseKey(grantID: grantID, productID: item.productID, unit: $0, seats: seats)
            }
        }
        // The sellers heard of the sale when it was paid (`PaidOrderNotices`); the buyer now
        // hears that everything is delivered.
        let notices = [
            Notice(
                userID: order.buyerID, type: .orderFulfilled, title: "Your order is ready",
                body: "Order \(order.id): \(order.items.map(\.title).joined(separator: ", ")). Find it in your library.",
                url: "/library", dedupeKey: "order_paid:\(order.id)")
        ]
        return .deliver(keys: keys, markFulfilled: markFulfilled, notices: notices, followUps: followUps)
    }
}
