import Foundation
import SoukCore
import SoukDatabase
import SoukMarkdown

/// Reviews' rules: who may review a product (`ReviewRules`), what a review must contain, how its
/// Markdown is rendered, and what anyone may read. HTTP calls this; it knows nothing of HTTP.
public struct ReviewService: Sendable {
    public let database: AppDatabase
    public let catalog: CatalogService

    public init(database: AppDatabase, catalog: CatalogService) {
        self.database = database
        self.catalog = catalog
    }

    /// A page of a product's visible reviews, newest first.
    public struct Page: Sendable {
        public var reviews: [Review]
        public var nextCursor: String?
        public var summary: RatingSummary
    }

    /// Writes `user`'s review of the product: created, or replacing their earlier one. Throws
    /// `notFound` (no such product, or not visible to `user`), `forbidden` (not a buyer holding an
    /// active grant for it, or its seller), `validationFailed` (naming the field).
    public func put(productID: String, _ input: ReviewInput, by user: User) async throws -> (review: Review, created: Bool) {
        let product = try await catalog.visibleProduct(id: productID, to: user)
        // Eligibility first: someone who may not review learns that, not how to fix their text.
        // (The database checks it again in the write's transaction.)
        let granted = try await database.hasActiveGrant(userID: user.id, productID: product.id)
        try ReviewRules.requireEligible(user, for: product, hasActiveGrant: granted)
        let input = try ReviewRules.validate(input)
        return try await database.putReview(input, bodyHTML: Markdown.html(input.body), product: product, user: user)
    }

    /// The seller's reply to a review of their product: the first one (`created`), or an edit of
    /// it. Throws `notFound` (no such product, or review of it), `forbidden` (not its seller, or a
    /// seller not in good standing), `validationFailed` (field `body`).
    public func reply(productID: String, reviewID: String, _ text: String, by user: User) async throws
        -> (review: Review, created: Bool)
    {
        let product = try await catalog.visibleProduct(id: productID, to: user)
        if product.sellerID == user.id { try SellerStanding.require(user) }
        let text = try ReviewRules.reply(text)
        return try await database.replyToReview(id: reviewID, product: product, text: text, by: user)
    }

    /// An admin hides a review (not shown, not counted) or shows it again. Throws `forbidden`
    /// for anyone else, `notFound`.
    public func setHidden(productID: String, reviewID: String, _ hidden: Bool, by user: User) async throws -> Review {
        guard user.role == .admin else { throw SoukError(.forbidden, "Only an admin may hide or show reviews.") }
        return try await database.setReviewHidden(id: reviewID, productID: productID, hidden: hidden)
    }

    /// The operator (`souk review hide|show`, no account) hides a review or shows it again, by
    /// its id alone; the product's rating is recomputed as for an admin. Throws `notFound`.
    public func setHidden(reviewID: String, _ hidden: Bool) async throws -> Review {
        guard let review = try await database.review(id: reviewID) else {
            throw SoukError(.notFound, "No review has the id \(reviewID): `souk review list` shows the reviews and their ids.")
        }
        return try await database.setReviewHidden(id: reviewID, productID: review.productID, hidden: hidden)
    }

    /// Reviews to moderate, hidden and withdrawn ones too, newest first: `limit` from `offset`
    /// (the admin's reviews page). Throws `forbidden` for anyone but an admin.
    public func moderationQueue(from position: AppDatabase.ListPosition?, limit: Int, by user: User) async throws
        -> (reviews: [Review], from: AppDatabase.ListPosition?)
    {
        guard user.role == .admin else { throw SoukError(.forbidden, "Only an admin may moderate reviews.") }
        return try await database.reviewsPage(from: position, limit: limit)
    }

    /// A page of the product's visible reviews with its rating. Throws `notFound`, `badRequest`
    /// (a cursor this list did not return).
    public func list(productID: String, viewer: User?, limit: Int = 20, cursor: String? = nil) async throws -> Page {
        let product = try await catalog.visibleProduct(id: productID, to: viewer)
        let limit = max(1, min(limit, 100))
        let reviews = try await database.reviews(productID: product.id, limit: limit + 1, after: cursor)
        let page = Array(reviews.prefix(limit))
        return Page(
            reviews: page, nextCursor: reviews.count > limit ? page.last?.id : nil,
            summary: try await database.ratingSummary(productID: product.id))
    }
}
