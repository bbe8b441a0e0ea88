import Foundation
import GRDB

/// A row of `search_changes`: the change feed of the in-memory search indexes, appended by
/// triggers on every product write (`productRowID` carries the product's `search_id`) and every
/// change to a seller's standing (`sellerID`). Souk only reads it (and trims it).
struct SearchChangeRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "search_changes"
    /// Assigned by SQLite (AUTOINCREMENT) when nil.
    var seq: Int64?
    var productRowID: Int64?
    var sellerID: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seq
        case productRowID = "product_rowid"
        case sellerID = "seller_id"
    }
}
