import GRDB

/// A product sold since sales were last settled (`AppDatabase.settleSales`): written by the
/// `products_sold` trigger, at most one row per product, emptied into `search_changes`.
struct SalesChangeRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sales_changes"
    /// The product's `search_id`.
    var productRowID: Int64

    enum CodingKeys: String, CodingKey, CaseIterable {
        case productRowID = "product_rowid"
    }
}
