import GRDB

/// A row of `product_views`: one product's page views on one UTC day.
struct ProductViewRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "product_views"
    var productID: String
    /// `YYYY-MM-DD`, UTC.
    var day: String
    var views: Int
    /// The product's seller, kept beside the views so a seller's are read by seller and day.
    var sellerID: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case day, views
        case productID = "product_id"
        case sellerID = "seller_id"
    }
}
