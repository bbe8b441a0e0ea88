import Foundation

/// Who may review a product and what a review must look like.
public enum ReviewRules {
    public static let maxTitle = 200
    public static let maxBody = 10_000

    /// The input cleaned up (title and body trimmed, an empty title dropped). Throws
    /// `validationFailed` naming the field.
    public static func validate(_ input: ReviewInput) throws -> ReviewInput {
        guard (1...5).contains(input.rating) else {
            throw SoukError.validation("rating", "Give a rating from 1 to 5 stars (got \(input.rating)).")
        }
        var title = input.title?.trimmingCharacters(in: .whitespacesAndNewlines)
        if title?.isEmpty == true { title = nil }
        if let title {
            guard title.count <= maxTitle, !title.contains(where: \.isNewline) else {
                throw SoukError.validation("title", "Keep the title to \(maxTitle) characters on one line.")
            }
        }
        let body = input.body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw SoukError.validation("body", "Write something in the review's body.") }
        guard body.count <= maxBody else {
            throw SoukError.validation("body", "Keep the review's body to \(maxBody) characters (it has \(body.count)).")
        }
        return ReviewInput(rating: input.rating, title: title, body: body)
    }

    /// Throws `forbidden` unless `user` may review `product`: not its seller, and holding an
    /// active grant for it (a paid order that was not fully refunded nor lost in a dispute).
    public static func requireEligible(_ user: User, for product: Product, hasActiveGrant: Bool) throws {
        guard product.sellerID != user.id else {
            throw SoukError(.forbidden, "Sellers may not review their own products.")
        }
        guard hasActiveGrant else {
            throw SoukError(.forbidden, "Only buyers who bought this product may review it.")
        }
    }
}

extension ReviewRules {
    public static let maxReply = 5_000

    /// The seller's reply, trimmed. Throws `validationFailed` (field `body`).
    public static func reply(_ raw: String) throws -> String {
        let reply = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reply.isEmpty, reply.count <= maxReply else {
            throw SoukError.validation("body", "Write a reply of 1 to \(maxReply) characters.")
        }
        return reply
    }

    /// Throws `forbidden` unless `user` is the seller of `product`: only they reply to its
    /// reviews. A review has one reply; writing again edits it.
    public static func requireMayReply(_ user: User, to review: Review, of product: Product) throws {
        guard product.sellerID == user.id else {
            throw SoukError(.forbidden, "Only the product's seller may reply to its reviews.")
        }
    }
}

/// What writing a review stores, and what the reviews make of a product's rating.
public enum ReviewDecision {
    /// The review to store: a first review gets `newID`; a second one replaces the first, keeping
    /// its id and creation date (and any seller reply), with the new rating and text. `created`
    /// says which. A withdrawn review is never replaced: the caller checked eligibility first, so
    /// a buyer who bought again after a refund starts over with a visible review.
    public static func write(
        _ input: ReviewInput, bodyHTML: String, existing: Review?, newID: String, productID: String, user: User, now: Date
    ) -> (review: Review, created: Bool) {
        guard var review = existing else {
            return (
                Review(
                    id: newID, productID: productID, userID: user.id, authorName: user.name, rating: input.rating,
                    title: input.title, body: input.body, bodyHTML: bodyHTML, createdAt: now, updatedAt: now),
                true
            )
        }
        review.authorName = user.name
        review.rating = input.rating
        review.title = input.title
        review.body = input.body
        review.bodyHTML = bodyHTML
        review.withdrawnAt = nil
        review.updatedAt = now
        return (review, false)
    }

    /// What the product's seller hears of a first review (a replaced one is not news again).
    public static func sellerNotice(for review: Review, of product: Product) -> Notice {
        Notice(
            userID: product.sellerID, type: .reviewCreated, title: "New review of \(product.title)",
            body: "\(review.authorName) rated it \(review.rating) out of 5" + (review.title.map { ": “\($0)”" } ?? "."),
            url: "/products/\(product.slug)", dedupeKey: "review:\(review.id)")
    }

    /// The review with the seller's reply (validated by `ReviewRules.reply`): the one reply, or
    /// an edit of it (`created` false). The reply's date is the latest edit's.
    public static func reply(_ text: String, to review: Review, now: Date) -> (review: Review, created: Bool) {
        var replied = review
        replied.sellerReply = text
        replied.sellerReplyAt = now
        return (replied, review.sellerReply == nil)
    }

    /// What the review's author hears of the seller's first reply (an edit is not news again).
    public static func replyNotice(for review: Review, of product: Product) -> Notice {
        Notice(
            userID: review.userID, type: .reviewReplied, title: "\(product.sellerName) replied to your review",
            body: "Your review of \(product.title) has a reply from its seller.",
            url: "/products/\(product.slug)#review-\(review.id)", dedupeKey: "review_reply:\(review.id)")
    }

    /// The rating of a product from how many visible reviews gave each number of stars
    /// (`countsByRating[stars]`; other keys are ignored).
    public static func summary(countsByRating: [Int: Int]) -> RatingSummary {
        let distribution = (1...5).map { max(0, countsByRating[$0] ?? 0) }
        let count = distribution.reduce(0, +)
        guard count > 0 else { return RatingSummary(average: 0, count: 0, distribution: distribution) }
        let total = distribution.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element }
        let average = (Double(total) / Double(count) * 100).rounded() / 100
        return RatingSummary(average: average, count: count, distribution: distribution)
    }

    /// After a full refund (or a lost dispute) ended an order's grants: the products whose review
    /// by the buyer stops counting, those of the order the buyer holds no other active grant for
    /// (another order may still give them the product). Sorted, for a stable order of writes.
    public static func withdrawals(orderProductIDs: [String], stillGranted: Set<String>) -> [String] {
        Set(orderProductIDs).subtracting(stillGranted).sorted()
    }
}
