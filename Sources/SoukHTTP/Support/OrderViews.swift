import Foundation
import SoukCore

/// Orders as the pages show them.
enum OrderViews {
    static func statusLabel(_ status: OrderStatus) -> String {
        switch status {
        case .created: "Awaiting payment"
        case .paid: "Paid"
        case .fulfilled: "Paid · delivered"
        case .completed: "Complete"
        case .expired: "Expired (not paid in time)"
        case .paymentFailed: "Payment failed"
        case .refunded: "Refunded"
        case .partiallyRefunded: "Partly refunded"
        case .disputed: "Disputed"
        case .canceled: "Canceled"
        }
    }

    static func summary(_ order: Order, viewer: OrderViewer, pageURL: String) -> [String: Any] {
        let items = viewer.items(of: order)
        let total: Int = if case .full = viewer { order.total } else { items.reduce(0) { $0 + $1.amount } }
        var values: [String: Any] = [
            "id": order.id, "number": order.displayNumber, "status": order.status.rawValue, "status_label": statusLabel(order.status),
            "total_label": MoneyFormat.amount(total, currency: order.currency),
            "created_at": DateViews.moment(order.createdAt), "buyer_email": order.buyerEmail,
            "provider": order.provider, "url": pageURL, "is_test": order.isTest,
            "item_titles": items.map(\.title).joined(separator: ", "),
            "awaiting_payment": order.status == .created,
            "is_paid": order.status.isPaidUp,
            "items": items.map { item -> [String: Any] in
                [
                    "title": item.title, "quantity": item.quantity,
                    "unit_label": MoneyFormat.amount(item.unitAmount, currency: order.currency),
                    "amount_label": MoneyFormat.amount(item.amount, currency: order.currency),
                    "seller_label": MoneyFormat.amount(item.sellerAmount, currency: order.currency),
                ]
            },
        ]
        if let paidAt = order.paidAt { values["paid_at"] = DateViews.moment(paidAt) }
        if order.refundedAmount > 0 { values["refunded_label"] = MoneyFormat.amount(order.refundedAmount, currency: order.currency) }
        if case .full = viewer, order.status == .created, let url = order.redirectURL { values["payment_url"] = url }
        return values
    }
}
