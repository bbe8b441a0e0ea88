import Foundation

/// A seller's numbers over time: what the dashboard's sales chart and top products show.
/// Only orders that were paid and not refunded in full count (`SalesStats.countedStatuses`);
/// awaiting, failed, expired and canceled checkouts never do.
public enum SalesStats {
    public static let countedStatuses: Set<OrderStatus> = [.paid, .fulfilled, .completed, .partiallyRefunded, .disputed]

    /// The numbers' calendar: UTC days, weeks from Monday (ISO 8601), months.
    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

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
            let calendar = SalesStats.calendar
            switch self {
            case .day: return calendar.startOfDay(for: date)
            case .week: return calendar.dateInterval(of: .weekOfYear, for: date)!.start
            case .month: return calendar.dateInterval(of: .month, for: date)!.start
            }
        }

        /// The bucket starts of the chart ending with the one holding `now`, oldest first.
        public func starts(endingAt now: Date) -> [Date] {
            let calendar = SalesStats.calendar
            let last = start(of: now)
            let component: Calendar.Component = self == .day ? .day : self == .week ? .weekOfYear : .month
            return (0..<buckets).reversed().map { calendar.date(byAdding: component, value: -$0, to: last)! }
        }
    }

    /// A seller's sales on one UTC day in one currency: their share of revenue, distinct orders.
    public struct DayTotal: Sendable, Equatable {
        public var day: Date
        public var currency: String
        public var revenue: Int
        public var orders: Int

        public init(day: Date, currency: String, revenue: Int, orders: Int) {
            self.day = day
            self.currency = currency
            self.revenue = revenue
            self.orders = orders
        }
    }

    /// One product's sales in one currency over a period: revenue (the seller's share), lines
    /// sold, and distinct orders with it (an order with two lines of it is one).
    public struct ProductTotal: Sendable, Equatable {
        public var productID: String
        public var title: String
        public var currency: String
        public var revenue: Int
        public var sold: Int
        public var orders: Int

        public init(productID: String, title: String, currency: String, revenue: Int, sold: Int, orders: Int) {
            self.productID = productID
            self.title = title
            self.currency = currency
            self.revenue = revenue
            self.sold = sold
            self.orders = orders
        }
    }

    public struct Bucket: Sendable, Equatable {
        public var start: Date
        public var revenue: Int
        public var orders: Int
    }

    /// Revenue (the seller's share) and distinct orders per bucket, for one currency; days
    /// outside the chart are left out.
    public static func series(_ days: [DayTotal], currency: String, period: Period, now: Date) -> [Bucket] {
        let starts = period.starts(endingAt: now)
        var buckets = Dictionary(uniqueKeysWithValues: starts.map { ($0, Bucket(start: $0, revenue: 0, orders: 0)) })
        for day in days where day.currency == currency {
            let start = period.start(of: day.day)
            buckets[start]?.revenue += day.revenue
            buckets[start]?.orders += day.orders
        }
        return starts.map { buckets[$0]! }
    }

    public struct TopProduct: Sendable, Equatable {
        public var productID: String
        public var title: String
        public var revenue: Int
        public var sold: Int
    }

    /// The best-selling products by revenue in one currency.
    public static func topProducts(_ products: [ProductTotal], currency: String, limit: Int = 5) -> [TopProduct] {
        products.filter { $0.currency == currency && $0.sold > 0 }
            .sorted { ($0.revenue, $1.title, $1.productID) > ($1.revenue, $0.title, $0.productID) }
            .prefix(limit)
            .map { TopProduct(productID: $0.productID, title: $0.title, revenue: $0.revenue, sold: $0.sold) }
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

    /// Views and sales per product over the period, the most viewed first (then the most sold).
    public static func conversion(_ products: [ProductTotal], views: [ProductViews], limit: Int = 10) -> [Conversion] {
        var byProduct: [String: Conversion] = [:]
        for view in views {
            byProduct[view.productID] = Conversion(productID: view.productID, title: view.title, views: view.views, orders: 0)
        }
        for product in products where product.orders > 0 {
            byProduct[product.productID, default: Conversion(productID: product.productID, title: product.title, views: 0, orders: 0)]
                .orders += product.orders
        }
        return byProduct.values.sorted {
            ($0.views, $0.orders, $1.title, $1.productID) > ($1.views, $1.orders, $0.title, $0.productID)
        }
        .prefix(limit).map { $0 }
    }
}
