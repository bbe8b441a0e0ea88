import GRDB

/// A count the admin pages show, kept by triggers as rows come and go (`v30-row-counts`):
/// `reviews`, `reviews_hidden`, `jobs_<state>`.
struct RowCountRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "row_counts"
    var name: String
    var count: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, count
    }
}
