import Foundation

/// One seller's money in one currency.
public struct SellerBalance: Sendable, Equatable {
    public var sellerID: String
    public var sellerName: String
    public var sellerEmail: String
    public var currency: String
    /// Sum of the seller's line amounts in paid-up or refunded orders.
    public var gross = 0
    public var fees = 0
    /// The seller's lines' share of refunds.
    public var refunds = 0
    /// What the store owes the seller now.
    public var owed = 0
    /// The seller's share of disputed orders, held until the dispute closes.
    public var onHold = 0

    public init(sellerID: String, sellerName: String, sellerEmail: String, currency: String) {
        self.sellerID = sellerID
        self.sellerName = sellerName
        self.sellerEmail = sellerEmail
        self.currency = currency
    }
}

/// One line of a paid-up (or refunded) order, as payouts see it.
public struct PayoutLine: Sendable, Equatable {
    public var orderID: String
    public var orderStatus: OrderStatus
    public var orderTotal: Int
    public var orderRefunded: Int
    public var currency: String
    public var sellerID: String
    public var sellerName: String
    public var sellerEmail: String
    public var amount: Int
    public var feeAmount: Int
    public var sellerAmount: Int

    public init(
        orderID: String, orderStatus: OrderStatus, orderTotal: Int, orderRefunded: Int, currency: String, sellerID: String,
        sellerName: String, sellerEmail: String, amount: Int, feeAmount: Int, sellerAmount: Int
    ) {
        self.orderID = orderID
        self.orderStatus = orderStatus
        self.orderTotal = orderTotal
        self.orderRefunded = orderRefunded
        self.currency = currency
        self.sellerID = sellerID
        self.sellerName = sellerName
        self.sellerEmail = sellerEmail
        self.amount = amount
        self.feeAmount = feeAmount
        self.sellerAmount = sellerAmount
    }
}

/// What a line of a paid-up order adds to its seller's balance.
public struct PayoutShare: Sendable, Equatable {
    /// The line's part of the order's refunds.
    public var refund: Int
    /// The seller's part of that refund (the fee's part is the platform's).
    public var sellerRefund: Int
    /// What the line adds to the seller's balance owed now (0 while the order is disputed).
    public var owed: Int
    /// What the line holds back while the order is disputed.
    public var onHold: Int
}

/// What each seller is owed: their share of paid-up orders minus their part of refunds.
public enum Payouts {
    /// The statuses of orders whose lines count in payouts: the money was taken (and possibly
    /// given back, in part or whole, or disputed).
    public static let countedStatuses: [OrderStatus] = [
        .paid, .fulfilled, .completed, .partiallyRefunded, .refunded, .disputed,
    ]

    /// Whether the order's lines count in payouts: a counted status, and real money (a test
    /// order with a total moved none; a free one moved none either way).
    public static func counts(_ order: Order) -> Bool { countedStatuses.contains(order.status) && !order.isTest }

    /// The balances of `lines` (every line of each order they come from, in order), per seller
    /// and currency, only `sellerID`'s when given (see `shares(of:)`). Sorted by seller name, id,
    /// currency.
    public static func balances(_ lines: [PayoutLine], sellerID: String? = nil) -> [SellerBalance] {
        // Gross and fees line by line; refunds, what is owed and what is held from each order's shares.
        var kept: [String: SellerBalance] = [:]
        for line in lines where sellerID == nil || line.sellerID == sellerID {
            let key = "\(line.sellerID)|\(line.currency)"
            var row =
                kept[key]
                ?? SellerBalance(sellerID: line.sellerID, sellerName: line.sellerName, sellerEmail: line.sellerEmail, currency: line.currency)
            row.gross += line.amount
            row.fees += line.feeAmount
            kept[key] = row
        }
        return balances(kept: Array(kept.values), unsettled: lines, sellerID: sellerID)
    }

    /// The balances as the store keeps them (`seller_money` and the settled rows of
    /// `seller_money_exceptions`) plus `unsettled` (every line of each refunded or disputed order
    /// not worked out yet, in order), only `sellerID`'s lines of those when given: the same
    /// figures as `balances(_:)` over every line.
    public static func balances(kept: [SellerBalance], unsettled: [PayoutLine], sellerID: String? = nil) -> [SellerBalance] {
        var balances = Dictionary(kept.map { ("\($0.sellerID)|\($0.currency)", $0) }, uniquingKeysWith: { first, _ in first })
        for share in sellerShares(unsettled) where sellerID == nil || share.sellerID == sellerID {
            let key = "\(share.sellerID)|\(share.currency)"
            balances[key]?.refunds += share.refund
            balances[key]?.owed += share.owed
            balances[key]?.onHold += share.onHold
        }
        return balances.values.sorted {
            ($0.sellerName, $0.sellerID, $0.currency) < ($1.sellerName, $1.sellerID, $1.currency)
        }
    }

    /// One seller's part of one order: the shares of their lines added up.
    public struct SellerShare: Sendable, Equatable {
        public var orderID: String
        public var sellerID: String
        public var currency: String
        public var refund = 0
        public var owed = 0
        public var onHold = 0
    }

    /// The shares of `lines` (every line of each order they come from, in order) per order and
    /// seller, in the order they first appear.
    public static func sellerShares(_ lines: [PayoutLine]) -> [SellerShare] {
        var orderIDs: [String] = []
        var byOrder: [String: [PayoutLine]] = [:]
        for line in lines {
            if byOrder[line.orderID] == nil { orderIDs.append(line.orderID) }
            byOrder[line.orderID, default: []].append(line)
        }
        var result: [SellerShare] = []
        for orderID in orderIDs {
            let orderLines = byOrder[orderID]!
            var bySeller: [String: Int] = [:]
            for (line, share) in zip(orderLines, shares(of: orderLines)) {
                let index = bySeller[line.sellerID] ?? {
                    result.append(SellerShare(orderID: orderID, sellerID: line.sellerID, currency: line.currency))
                    bySeller[line.sellerID] = result.count - 1
                    return result.count - 1
                }()
                result[index].refund += share.refund
                result[index].owed += share.owed
                result[index].onHold += share.onHold
            }
        }
        return result
    }

    /// What each line of one order (`orderLines`: all of them, in order) adds to its seller's
    /// balance. The order's refunds are shared across its lines in proportion to their amounts,
    /// in whole minor units that add up exactly (largest remainder); the seller bears the fee's
    /// part of a refunded share in proportion. A disputed order's shares are held back.
    public static func shares(of orderLines: [PayoutLine]) -> [PayoutShare] {
        guard let first = orderLines.first else { return [] }
        let lineRefunds = share(first.orderRefunded, by: orderLines.map(\.amount), total: first.orderTotal)
        return zip(orderLines, lineRefunds).map { line, lineRefund in
            let sellerRefund =
                line.amount == 0 ? 0 : mulDiv(line.sellerAmount, lineRefund, line.amount, roundingHalfUp: true).quotient
            let net = line.sellerAmount - sellerRefund
            let disputed = line.orderStatus == .disputed
            return PayoutShare(refund: lineRefund, sellerRefund: sellerRefund, owed: disputed ? 0 : net, onHold: disputed ? net : 0)
        }
    }

    /// `a × b / c` without overflowing in between (amounts times amounts pass 2^63 easily).
    public static func mulDiv(_ a: Int, _ b: Int, _ c: Int, roundingHalfUp: Bool = false) -> (quotient: Int, remainder: Int) {
        let product = a.multipliedFullWidth(by: b)
        let (quotient, remainder) = c.dividingFullWidth((high: product.high, low: product.low))
        if roundingHalfUp && remainder * 2 >= c { return (quotient + 1, remainder - c) }
        return (quotient, remainder)
    }

    /// Splits `amount` across `parts` (summing to `total`) in proportion, in whole units that add
    /// up to exactly `amount`: floors first, then the largest remainders get one more.
    public static func share(_ amount: Int, by parts: [Int], total: Int) -> [Int] {
        guard total > 0, amount > 0 else { return parts.map { _ in 0 } }
        var shares = parts.map { mulDiv($0, amount, total).quotient }
        let remainders = parts.enumerated().map { ($0.offset, mulDiv($0.element, amount, total).remainder) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        for (index, _) in remainders.prefix(amount - shares.reduce(0, +)) { shares[index] += 1 }
        return shares
    }
}
