import GRDB

/// How many visible reviews of a product give it `rating` stars, kept by triggers
/// (`v37-rating-counts`): its rating and the distribution on its page.
struct ProductRatingCountRecord: Codable, Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "product_rating_counts"
    var productID: String
    var rating: Int
    var count: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case productID = "product_id", rating, count
    }
}
