import Foundation

/// A buyer's review of a product: a rating of 1 to 5 stars, an optional title and a Markdown body
/// (`bodyHTML` is its safe rendering). One per buyer and product; writing again replaces it.
public struct Review: Sendable, Equatable {
    public var id: String
    public var productID: String
    public var userID: String
    /// The reviewer's display name (read with the review, not stored in it).
    public var authorName: String
    public var rating: Int
    public var title: String?
    public var body: String
    public var bodyHTML: String
    public var sellerReply: String?
    public var sellerReplyAt: Date?
    /// Set by a moderator: the review is not shown and not counted.
    public var hiddenAt: Date?
    /// Set when the order that allowed the review is fully refunded (or its dispute lost): the
    /// buyer's rating no longer counts, and the review is not shown.
    public var withdrawnAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, productID: String, userID: String, authorName: String, rating: Int, title: String?, body: String,
        bodyHTML: String, sellerReply: String? = nil, sellerReplyAt: Date? = nil, hiddenAt: Date? = nil,
        withdrawnAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.productID = productID
        self.userID = userID
        self.authorName = authorName
        self.rating = rating
        self.title = title
        self.body = body
        self.bodyHTML = bodyHTML
        self.sellerReply = sellerReply
        self.sellerReplyAt = sellerReplyAt
        self.hiddenAt = hiddenAt
        self.withdrawnAt = withdrawnAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Shown on the product and counted in its rating.
    public var isVisible: Bool { hiddenAt == nil && withdrawnAt == nil }
}

/// What a reviewer sends, validated by `ReviewRules.validate`.
public struct ReviewInput: Sendable, Equatable {
    public var rating: Int
    public var title: String?
    public var body: String

    public init(rating: Int, title: String?, body: String) {
        self.rating = rating
        self.title = title
        self.body = body
    }
}

/// A product's rating over its visible reviews.
public struct RatingSummary: Sendable, Equatable {
    /// The mean rating, rounded to two decimals; 0 without reviews.
    public var average: Double
    public var count: Int
    /// How many visible reviews gave 1, 2, 3, 4 and 5 stars (index 0 is one star).
    public var distribution: [Int]

    public init(average: Double, count: Int, distribution: [Int]) {
        self.average = average
        self.count = count
        self.distribution = distribution
    }
}
