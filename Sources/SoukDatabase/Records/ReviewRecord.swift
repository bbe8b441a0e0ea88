import Foundation
import GRDB
import SoukCore

/// A row of `reviews`: one buyer's review of one product.
struct ReviewRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "reviews"
    var id: String
    var productID: String
    var userID: String
    var rating: Int
    var title: String?
    var body: String
    var bodyHTML: String
    var sellerReply: String?
    var sellerReplyAt: Date?
    var hiddenAt: Date?
    var withdrawnAt: Date?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, rating, title, body
        case productID = "product_id"
        case userID = "user_id"
        case bodyHTML = "body_html"
        case sellerReply = "seller_reply"
        case sellerReplyAt = "seller_reply_at"
        case hiddenAt = "hidden_at"
        case withdrawnAt = "withdrawn_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ review: Review) {
        id = review.id
        productID = review.productID
        userID = review.userID
        rating = review.rating
        title = review.title
        body = review.body
        bodyHTML = review.bodyHTML
        sellerReply = review.sellerReply
        sellerReplyAt = review.sellerReplyAt
        hiddenAt = review.hiddenAt
        withdrawnAt = review.withdrawnAt
        createdAt = review.createdAt
        updatedAt = review.updatedAt
    }

    func review(authorName: String) -> Review {
        Review(
            id: id, productID: productID, userID: userID, authorName: authorName, rating: rating, title: title, body: body,
            bodyHTML: bodyHTML, sellerReply: sellerReply, sellerReplyAt: sellerReplyAt, hiddenAt: hiddenAt,
            withdrawnAt: withdrawnAt, createdAt: createdAt, updatedAt: updatedAt)
    }
}
