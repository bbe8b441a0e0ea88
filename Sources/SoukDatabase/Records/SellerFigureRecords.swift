import Foundation
import GRDB

// A seller's figures, kept by triggers as orders move (`v31-seller-figures`); never written
// from Swift. See `Migrations.registerSellerFigures` for what each counts.

/// An order a seller has a line in, by when it was placed.
struct SellerOrderRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "seller_orders"
    var sellerID: String
    var createdAt: Date
    var orderID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sellerID = "seller_id", createdAt = "created_at", orderID = "order_id"
    }
}

/// A seller's sold orders on one UTC day ("2026-12-07") in one currency.
struct SellerSalesDayRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "seller_sales_days"
    var sellerID: String
    var day: String
    var currency: String
    var revenue: Int
    var orders: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sellerID = "seller_id", day, currency, revenue, orders
    }
}

/// One product's sales in one bucket (`period` day, week or month, from `start`) and currency.
struct SellerProductSalesRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "seller_product_sales"
    var sellerID: String
    var period: String
    var start: String
    var currency: String
    var productID: String
    var revenue: Int
    var sold: Int
    var orders: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sellerID = "seller_id", period, start, currency, productID = "product_id", revenue, sold, orders
    }
}

/// One buyer's sold orders from a seller in one currency.
struct SellerCustomerRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "seller_customers"
    var sellerID: String
    var buyerID: String
    var currency: String
    var orders: Int
    var spent: Int
    var firstPaidAt: Date
    var lastPaidAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sellerID = "seller_id", buyerID = "buyer_id", currency, orders, spent
        case firstPaidAt = "first_paid_at", lastPaidAt = "last_paid_at"
    }
}

/// A seller's money in one currency (read into a `SellerBalance`).
struct SellerMoneyRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "seller_money"
    var sellerID: String
    var currency: String
    var lines: Int
    var gross: Int
    var fees: Int
    var settled: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sellerID = "seller_id", currency, lines, gross, fees, settled
    }
}

/// An order of a seller's refunded or disputed, and the seller's shares of it once worked out
/// (`AppDatabase.settleMoneyShares`; NULL until then).
struct SellerMoneyExceptionRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "seller_money_exceptions"
    var sellerID: String
    var orderID: String
    var currency: String
    var refunds: Int?
    var owed: Int?
    var onHold: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sellerID = "seller_id", orderID = "order_id", currency, refunds, owed, onHold = "on_hold"
    }
}
