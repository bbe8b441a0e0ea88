import Foundation

/// Who hears of a payment the moment it is recorded: the buyer (in the app only: the receipt
/// is their e-mail) and each seller of the order, of their own lines.
public enum PaidOrderNotices {
    public static func notices(for order: Order) -> [Notice] {
        var notices = [
            Notice(
                userID: order.buyerID, type: .orderPaid, title: "Payment received for order \(order.displayNumber)",
                body: "Thank you! \(Currency.display(order.total, currency: order.currency)) paid; "
                    + "your purchase is being delivered to your library.",
                url: "/orders/\(order.id)", dedupeKey: "order.paid:\(order.id):\(order.buyerID)", email: false)
        ]
        for sellerID in order.sellerIDs.sorted() {
            let lines = order.items.filter { $0.sellerID == sellerID }
            let share = lines.reduce(0) { $0 + $1.sellerAmount }
            notices.append(
                Notice(
                    userID: sellerID, type: .orderPaid,
                    title: order.isTest ? "New TEST sale (no money moved)" : "New sale",
                    body: lines.map { "\($0.quantity) × \($0.title)" }.joined(separator: ", ")
                        + " — your share \(Currency.display(share, currency: order.currency))"
                        + " (order \(order.displayNumber)).",
                    url: "/dashboard/sales", dedupeKey: "new_sale:\(order.id):\(sellerID)"))
        }
        return notices
    }
}
