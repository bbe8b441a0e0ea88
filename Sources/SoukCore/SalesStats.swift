import Foundation

/// A seller's numbers over time: what the dashboard's sales chart and top products show.
/// Only orders that were paid and not refunded in full count (`SalesStats.countedStatuses`);
/// awaiting, failed, expired and canceled checkouts never do.
public enum SalesStats {
    public static let countedStatuses: Set<OrderStatus> = [.paid, .fulfilled, .completed, .partiallyRefunded, .disputed]

    public enum Period: String, Sendable, CaseIterable {
        case day, week, month

        /// How many buckets the chart shows.
        public var buckets: Int {
            switch self {
            case .day: 30
            case .week: 12
            case .month: 12
            }
        }

        /// The start of the bucket holding `date` (UTC; weeks start on Monday).
        public func start(of date: Date) -> Date {
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            switch self {
            case .day: return calendar.startOfDay(for: date)
            case .week: return calendar.dateInterval(of: .weekOfYear, for: date)!.start
            case .month: return calendar.dateInterval(of: .month, for: date)!.start
            }
        }

        /// The bucket starts of the chart ending with the one holding `now`, oldest first.
        public func starts(endingAt now: Date) -> [Date] {
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let last = start(of: now)
            let component: Calendar.Component = self == .day ? .day : self == .week ? .weekOfYear : .month
            return (0..<buckets).reversed().map { calendar.date(byAdding: component, value: -$0, to: last)! }
        }
    }

    /// One sale line of the seller's: when its order was paid, what it brought the seller.
    public struct Line: Sendable, Equatable {
        public var orderID: String
        public var paidAt: Date
        public var currency: String
        public var productID: String
        public var title: String
        public var sellerAmount: Int

        public init(
            orderID: String, paidAt: Date, currency: String, productID: String, title: String, sellerAmount: Int
        ) {
            self.orderID = orderID
            self.paidAt = paidAt
            self.currency = currency
            self.productID = productID
            self.title = title
            self.sellerAmount = sellerAmount
        }
    }

    public struct Bucket: Sendable, Equatable {
        public var start: Date
        public var revenue: Int
        public var orders: Int
    }

    /// Revenue (the seller's share) and distinct orders per bucket, for one currency.
    public static func series(_ lines: [Line], currency: String, period: Period, now: Date) -> [Bucket] {
        let starts = period.starts(endingAt: now)
        var revenue: [Date: Int] = [:]
        var orders: [Date: Set<String>] = [:]
        for line in lines where line.currency == currency {
            let start = period.start(of: line.paidAt)
            revenue[start, default: 0] += line.sellerAmount
            orders[start, default: []].insert(line.orderID)
        }
        return starts.map { Bucket(start: $0, revenue: revenue[$0] ?? 0, orders: orders[$0]?.count ?? 0) }
    }

    public struct TopProduct: Sendable, Equatable {
        public var productID: String
        public var title: String
        public var revenue: Int
        public var sold: Int
    }

    /// The best-selling products by revenue in one currency since `since`.
    public static func topProducts(_ lines: [Line], currency: String, since: Date, limit: Int = 5) -> [TopProduct] {
        var byProduct: [String: TopProduct] = [:]
        for line in lines where line.currency == currency && line.paidAt >= since {
            byProduct[line.productID, default: TopProduct(productID: line.productID, title: line.title, revenue: 0, sold: 0)]
                .revenue += line.sellerAmount
            byProduct[line.productID]!.sold += 1
        }
        return byProduct.values.sorted { ($0.revenue, $1.title) > ($1.revenue, $0.title) }.prefix(limit).map { $0 }
    }

    /// A product's page views in a period.
    public struct ProductViews: Sendable, Equatable {
        public var productID: String
        public var title: String
        public var views: Int

        public init(productID: String, title: String, views: Int) {
            self.productID = productID
            self.title = title
            self.views = views
        }
    }

    /// How often a product page's view became a sale: orders that bought it over its views.
    public struct Conversion: Sendable, Equatable {
        public var productID: String
        public var title: String
        public var views: Int
        /// Paid orders (in any currency) with the product, since the period began.
        public var orders: Int
        /// `orders / views`, nil with no views (a sale from a link that skipped the page).
        public var rate: Double? { views > 0 ? Double(orders) / Double(views) : nil }
    }

    /// Views and sales per product since `since`, the most viewed first (then the most sold).
    public static func conversion(_ lines: [Line], views: [ProductViews], since: Date, limit: Int = 10) -> [Conversion] {
        var byProduct: [String: Conversion] = [:]
        for view in views {
            byProduct[view.productID] = Conversion(productID: view.productID, title: view.title, views: view.views, orders: 0)
        }
        var counted = Set<String>()  // order × product: an order with two lines of one product is one sale
        for line in lines where line.paidAt >= since && counted.insert("\(line.orderID) \(line.productID)").inserted {
            byProduct[line.productID, default: Conversion(productID: line.productID, title: line.title, views: 0, orders: 0)]
                .orders += 1
        }
        return byProduct.values.sorted { ($0.views, $0.orders, $1.title) > ($1.views, $1.orders, $0.title) }
            .prefix(limit).map { $0 }
    }
}
