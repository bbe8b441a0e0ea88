import Foundation

/// The store's data as tables (one file each, CSV and JSON): what `souk export` writes and the
/// seller dashboard offers for download. Money is in minor units with the currency beside it,
/// plus the same amount in major units; times are RFC 3339 UTC.
///
/// The `orders` table has one row per order line. Summing `payout_owed_minor` (and
/// `payout_on_hold_minor`) over the rows with `counts_in_payouts` per seller and currency gives
/// exactly the `payouts` table (and `souk payouts`): both come from `Payouts`.
public enum StoreExport {
    public enum Dataset: String, Sendable, CaseIterable {
        case products, orders, customers, reviews, licenses, payouts
    }

    public static func tables(from snapshot: ExportSnapshot) -> [ExportTable] {
        Dataset.allCases.map { table($0, from: snapshot) }
    }

    public static func table(_ dataset: Dataset, from snapshot: ExportSnapshot) -> ExportTable {
        let (columns, rows): ([String], [[ExportCell]]) =
            switch dataset {
            case .products: products(snapshot)
            case .orders: orderLines(snapshot)
            case .customers: customers(snapshot)
            case .reviews: reviews(snapshot)
            case .licenses: licenses(snapshot)
            case .payouts: payouts(snapshot)
            }
        return ExportTable(name: dataset.rawValue, columns: columns, rows: rows)
    }

    // MARK: Tables

    static func products(_ snapshot: ExportSnapshot) -> ([String], [[ExportCell]]) {
        let columns = [
            "id", "slug", "title", "seller_id", "seller_email", "kind", "status", "category", "price_minor", "price",
            "min_price_minor", "min_price", "currency", "stock", "sales_count", "rating_avg", "rating_count", "created_at",
            "updated_at", "published_at",
        ]
        let rows = snapshot.products.map { product -> [ExportCell] in
            let currency = product.price.currency
            return [
                .string(product.id), .string(product.slug), .string(product.title), .string(product.sellerID),
                .string(snapshot.accounts[product.sellerID]?.email), .string(product.kind.rawValue),
                .string(product.status.rawValue), .string(product.category), .int(product.price.amount),
                .major(product.price.amount, currency: currency), .int(product.price.minimum),
                product.price.minimum.map { .major($0, currency: currency) } ?? .null, .string(currency),
                .int(product.stock), .int(product.salesCount), .decimal(String(format: "%.2f", product.ratingAverage)),
                .int(product.ratingCount), .date(product.createdAt), .date(product.updatedAt), .date(product.publishedAt),
            ]
        }
        return (columns, rows)
    }

    static func orderLines(_ snapshot: ExportSnapshot) -> ([String], [[ExportCell]]) {
        let columns = [
            "order_id", "order_item_id", "order_status", "provider", "test", "created_at", "paid_at", "buyer_id",
            "buyer_email", "product_id", "title", "seller_id", "seller_email", "quantity", "unit_minor", "unit",
            "amount_minor", "amount", "fee_minor", "fee", "seller_minor", "seller", "refund_share_minor", "refund_share",
            "seller_refund_minor", "seller_refund", "payout_owed_minor", "payout_owed", "payout_on_hold_minor",
            "payout_on_hold", "currency", "counts_in_payouts",
        ]
        var rows: [[ExportCell]] = []
        for order in snapshot.orders {
            let counts = Payouts.counts(order)
            let shares: [PayoutShare?] =
                counts ? Payouts.shares(of: payoutLines(order)) : Array(repeating: nil, count: order.items.count)
            for (item, share) in zip(order.items, shares) where snapshot.sellerID == nil || item.sellerID == snapshot.sellerID {
                var row: [ExportCell] = [
                    .string(order.id), .string(item.id), .string(order.status.rawValue), .string(order.provider),
                    .bool(order.isTest), .date(order.createdAt), .date(order.paidAt), .string(order.buyerID),
                    .string(order.buyerEmail), .string(item.productID), .string(item.title), .string(item.sellerID),
                    .string(snapshot.accounts[item.sellerID]?.email), .int(item.quantity),
                ]
                let amounts: [Int] = [
                    item.unitAmount, item.amount, item.feeAmount, item.sellerAmount, share?.refund ?? 0,
                    share?.sellerRefund ?? 0, share?.owed ?? 0, share?.onHold ?? 0,
                ]
                for minor in amounts { row += [.int(minor), .major(minor, currency: order.currency)] }
                row += [.string(order.currency), .bool(counts)]
                rows.append(row)
            }
        }
        return (columns, rows)
    }

    /// Buyers with a paid order in scope (paid at some point, refunded since or not).
    static func customers(_ snapshot: ExportSnapshot) -> ([String], [[ExportCell]]) {
        let columns = ["customer_id", "email", "name", "paid_orders", "first_paid_at", "last_paid_at"]
        var order: [String] = []
        var paid: [String: [Date]] = [:]
        for sale in snapshot.orders {
            guard let paidAt = sale.paidAt else { continue }
            if paid[sale.buyerID] == nil { order.append(sale.buyerID) }
            paid[sale.buyerID, default: []].append(paidAt)
        }
        let emails = Dictionary(snapshot.orders.map { ($0.buyerID, $0.buyerEmail) }, uniquingKeysWith: { first, _ in first })
        let rows = order.map { buyerID -> [ExportCell] in
            let dates = paid[buyerID]!
            let account = snapshot.accounts[buyerID]
            return [
                .string(buyerID), .string(account?.email ?? emails[buyerID]), .string(account?.name), .int(dates.count),
                .date(dates.min()), .date(dates.max()),
            ]
        }
        return (columns, rows)
    }

    static func reviews(_ snapshot: ExportSnapshot) -> ([String], [[ExportCell]]) {
        let columns = [
            "review_id", "product_id", "product_title", "reviewer_id", "reviewer_name", "rating", "title", "body",
            "seller_reply", "seller_reply_at", "visible", "hidden_at", "withdrawn_at", "created_at", "updated_at",
        ]
        let titles = Dictionary(snapshot.products.map { ($0.id, $0.title) }, uniquingKeysWith: { first, _ in first })
        let rows = snapshot.reviews.map { review -> [ExportCell] in
            [
                .string(review.id), .string(review.productID), .string(titles[review.productID]), .string(review.userID),
                .string(review.authorName), .int(review.rating), .string(review.title), .string(review.body),
                .string(review.sellerReply), .date(review.sellerReplyAt), .bool(review.isVisible), .date(review.hiddenAt),
                .date(review.withdrawnAt), .date(review.createdAt), .date(review.updatedAt),
            ]
        }
        return (columns, rows)
    }

    static func licenses(_ snapshot: ExportSnapshot) -> ([String], [[ExportCell]]) {
        let columns = [
            "license_id", "key", "product_id", "product_title", "order_id", "buyer_id", "buyer_email", "status",
            "activation_limit", "activations", "expires_at", "created_at",
        ]
        let titles = Dictionary(snapshot.products.map { ($0.id, $0.title) }, uniquingKeysWith: { first, _ in first })
        let rows = snapshot.licenses.map { license -> [ExportCell] in
            [
                .string(license.id), .string(license.key), .string(license.productID), .string(titles[license.productID]),
                .string(license.orderID), .string(license.userID), .string(snapshot.accounts[license.userID]?.email),
                .string(license.status(at: snapshot.takenAt).rawValue), .int(license.activationLimit),
                .int(license.activationUsage), .date(license.expiresAt), .date(license.createdAt),
            ]
        }
        return (columns, rows)
    }

    static func payouts(_ snapshot: ExportSnapshot) -> ([String], [[ExportCell]]) {
        let columns = [
            "seller_id", "seller_name", "seller_email", "currency", "gross_minor", "gross", "fees_minor", "fees",
            "refunds_minor", "refunds", "owed_minor", "owed", "on_hold_minor", "on_hold",
        ]
        let rows = snapshot.balances.map { balance -> [ExportCell] in
            var row: [ExportCell] = [
                .string(balance.sellerID), .string(balance.sellerName), .string(balance.sellerEmail), .string(balance.currency),
            ]
            for minor in [balance.gross, balance.fees, balance.refunds, balance.owed, balance.onHold] {
                row += [.int(minor), .major(minor, currency: balance.currency)]
            }
            return row
        }
        return (columns, rows)
    }

    /// The order's lines as `Payouts` reads them.
    static func payoutLines(_ order: Order) -> [PayoutLine] {
        order.items.map {
            PayoutLine(
                orderID: order.id, orderStatus: order.status, orderTotal: order.total, orderRefunded: order.refundedAmount,
                currency: order.currency, sellerID: $0.sellerID, sellerName: "", sellerEmail: "", amount: $0.amount,
                feeAmount: $0.feeAmount, sellerAmount: $0.sellerAmount)
        }
    }
}
