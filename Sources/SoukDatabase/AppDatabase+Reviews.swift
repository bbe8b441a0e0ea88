import Foundation
import GRDB
import SoukCore

/// Reviews and the product ratings they make. Every write that changes which reviews count
/// recomputes the product's `rating_avg` / `rating_count` in its own transaction; that product
/// update reaches the search indexes like any other (FTS5 filters on the column, the in-memory
/// index hears of it through the `search_changes` trigger), so `min_rating` and `sort=rating`
/// see a new rating at once.
extension AppDatabase {
    /// Whether `userID` holds an active grant for the product (a paid order, not fully refunded).
    public func hasActiveGrant(userID: String, productID: String) async throws -> Bool {
        try await writer.read { db in try Self.hasActiveGrant(userID: userID, productID: productID, in: db) }
    }

    /// Writes `user`'s review of `product` (creating it, or replacing their earlier one) and
    /// recomputes the product's rating, in one transaction. Eligibility (`ReviewRules`) is checked
    /// again here against the grants as they are now. `input` must be validated and `bodyHTML`
    /// rendered. A first review notifies the seller (in the same transaction). Returns the stored
    /// review and whether it was created. Throws `forbidden`.
    public func putReview(_ input: ReviewInput, bodyHTML: String, product: Product, user: User) async throws
        -> (review: Review, created: Bool)
    {
        let now = clock.now()
        let newID = ids.make(.review)
        return try await writer.write { db in
            let granted = try Self.hasActiveGrant(userID: user.id, productID: product.id, in: db)
            try ReviewRules.requireEligible(user, for: product, hasActiveGrant: granted)
            let existing = try ReviewRecord.filter(Column("product_id") == product.id && Column("user_id") == user.id)
                .fetchOne(db)?.review(authorName: user.name)
            let (review, created) = ReviewDecision.write(
                input, bodyHTML: bodyHTML, existing: existing, newID: newID, productID: product.id, user: user, now: now)
            if created {
                try ReviewRecord(review).insert(db)
                try Self.notify(ReviewDecision.sellerNotice(for: review, of: product), now: now, ids: self.ids, in: db)
                try Self.emitWebhook(
                    .reviewCreated, sellerID: product.sellerID, data: WebhookReviewData(review), now: now, ids: self.ids, in: db)
            } else {
                try ReviewRecord(review).update(db)
            }
            try Self.refreshRating(productID: product.id, in: db)
            return (review, created)
        }
    }

    /// Stores the seller's reply to a visible review of `product`, or their edit of it
    /// (`ReviewRules`, checked in the transaction); a first reply tells the review's author, in the
    /// same transaction. `text` must be validated. Returns the review and whether the reply is
    /// new. Throws `notFound` (no such visible review of this product), `forbidden`.
    public func replyToReview(id: String, product: Product, text: String, by user: User) async throws
        -> (review: Review, created: Bool)
    {
        let now = clock.now()
        return try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id
                        WHERE r.id = ? AND r.product_id = ? AND \(Self.reviewVisible)
                        """, arguments: [id, product.id])
            else { throw SoukError.notFound("The review \(id)") }
            let existing = try ReviewRecord(row: row).review(authorName: row["author_name"])
            try ReviewRules.requireMayReply(user, to: existing, of: product)
            let (review, created) = ReviewDecision.reply(text, to: existing, now: now)
            try ReviewRecord(review).update(db)
            if created { try Self.notify(ReviewDecision.replyNotice(for: review, of: product), now: now, ids: self.ids, in: db) }
            return (review, created)
        }
    }

    /// An admin hides a review of `productID` (it stops being shown and counted) or shows it
    /// again, and the product's rating is recomputed, in one transaction. Hiding twice keeps the
    /// first date. Throws `notFound`.
    public func setReviewHidden(id: String, productID: String, hidden: Bool) async throws -> Review {
        let now = clock.now()
        return try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id
                        WHERE r.id = ? AND r.product_id = ?
                        """, arguments: [id, productID])
            else { throw SoukError.notFound("The review \(id)") }
            var review = try ReviewRecord(row: row).review(authorName: row["author_name"])
            review.hiddenAt = hidden ? (review.hiddenAt ?? now) : nil
            try ReviewRecord(review).update(db)
            try Self.refreshRating(productID: productID, in: db)
            return review
        }
    }

    /// Visible reviews of a product, newest first, `limit` per page; `cursor` is the last review
    /// id of the previous page. Throws `badRequest` (field `cursor`) for a cursor that is not a
    /// review of this product.
    public func reviews(productID: String, limit: Int = 20, after cursor: String? = nil) async throws -> [Review] {
        try await writer.read { db in
            var conditions = ["r.product_id = ?", Self.reviewVisible]
            var arguments: [any DatabaseValueConvertible] = [productID]
            if let cursor {
                guard
                    let anchor = try Row.fetchOne(
                        db, sql: "SELECT created_at, id FROM reviews WHERE id = ? AND product_id = ?",
                        arguments: [cursor, productID])
                else { throw SoukError(.badRequest, "The cursor is not one this list returned.", field: "cursor") }
                conditions.append("(r.created_at, r.id) < (?, ?)")
                arguments.append(anchor["created_at"] as Date)
                arguments.append(anchor["id"] as String)
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY r.created_at DESC, r.id DESC LIMIT ?
                    """, arguments: StatementArguments(arguments + [limit]))
            return try rows.map { row in try ReviewRecord(row: row).review(authorName: row["author_name"]) }
        }
    }

    /// Every review, hidden and withdrawn ones too (for the operator), newest first: only the
    /// product's when `productID` is given, only hidden ones when `hiddenOnly`; at most `limit`.
    public func allReviews(productID: String? = nil, hiddenOnly: Bool = false, limit: Int = 100) async throws -> [Review] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id
                    WHERE (?1 IS NULL OR r.product_id = ?1) AND (?2 = 0 OR r.hidden_at IS NOT NULL)
                    ORDER BY r.created_at DESC, r.id DESC LIMIT ?3
                    """, arguments: [productID, hiddenOnly, max(0, limit)]
            ).map { row in try ReviewRecord(row: row).review(authorName: row["author_name"]) }
        }
    }

    /// Up to `limit` of every review, newest first, with their authors: the newest, or those
    /// just past `position` (the admin's moderation pages). The `(created_at, id)` index is
    /// entered at the position, so a page deep in two million reviews costs what the first does
    /// (an `OFFSET` stepped over every review before it: 29 ms 250,000 deep). A position whose
    /// review is gone gives the newest: `from` is the position the page was read from.
    public func reviewsPage(from position: ListPosition?, limit: Int) async throws -> (reviews: [Review], from: ListPosition?) {
        try await writer.read { db in
            let select = "SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id"
            let rows: [Row]
            var applied = position
            if let position,
                let anchor = try Row.fetchOne(db, sql: "SELECT created_at, id FROM reviews WHERE id = ?", arguments: [position.id])
            {
                let arguments: StatementArguments = [anchor[0] as DatabaseValue, anchor[1] as DatabaseValue, max(0, limit)]
                if case .olderThan = position {
                    rows = try Row.fetchAll(
                        db, sql: "\(select) WHERE (r.created_at, r.id) < (?, ?) ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
                        arguments: arguments)
                } else {
                    rows = try Row.fetchAll(
                        db, sql: "\(select) WHERE (r.created_at, r.id) > (?, ?) ORDER BY r.created_at, r.id LIMIT ?",
                        arguments: arguments
                    ).reversed()
                }
            } else {
                applied = nil
                rows = try Row.fetchAll(db, sql: "\(select) ORDER BY r.created_at DESC, r.id DESC LIMIT ?", arguments: [max(0, limit)])
            }
            return (try rows.map { row in try ReviewRecord(row: row).review(authorName: row["author_name"]) }, applied)
        }
    }

    /// How many reviews there are, and how many of them are hidden (the admin's overview).
    public func reviewCounts() async throws -> (total: Int, hidden: Int) {
        try await writer.read { db in
            // Kept by triggers (`row_counts`): counting a million reviews per visit took 200 ms.
            let counts = try Self.rowCounts(db)
            return (counts["reviews"] ?? 0, counts["reviews_hidden"] ?? 0)
        }
    }

    /// One review by id, visible or not.
    public func review(id: String) async throws -> Review? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.id = ?",
                    arguments: [id])
            else { return nil }
            return try ReviewRecord(row: row).review(authorName: row["author_name"])
        }
    }

    /// A user's review of a product, visible or not.
    /// The stars `userID` gave, by product id (withdrawn reviews left out): the library's "Rate
    /// this" asks for its own products only (a buyer may have reviewed thousands), the account
    /// export for every one.
    public func ratings(byUser userID: String, of productIDs: [String]? = nil) async throws -> [String: Int] {
        try await writer.read { db in
            let rows: [Row]
            if let productIDs {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT product_id, rating FROM reviews
                        WHERE product_id IN (SELECT value FROM json_each(?)) AND user_id = ? AND withdrawn_at IS NULL
                        """, arguments: [try Self.jsonList(productIDs), userID])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT product_id, rating FROM reviews WHERE user_id = ? AND withdrawn_at IS NULL",
                    arguments: [userID])
            }
            return Dictionary(rows.map { ($0["product_id"], $0["rating"]) }, uniquingKeysWith: { first, _ in first })
        }
    }


    public func review(productID: String, userID: String) async throws -> Review? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT r.*, u.name AS author_name FROM reviews r JOIN users u ON u.id = r.user_id
                        WHERE r.product_id = ? AND r.user_id = ?
                        """, arguments: [productID, userID])
            else { return nil }
            return try ReviewRecord(row: row).review(authorName: row["author_name"])
        }
    }

    /// The product's rating over its visible reviews, with the distribution of stars.
    public func ratingSummary(productID: String) async throws -> RatingSummary {
        try await writer.read { db in try Self.ratingSummary(productID: productID, in: db) }
    }

    // MARK: Helpers

    static let reviewVisible = "r.hidden_at IS NULL AND r.withdrawn_at IS NULL"

    static func hasActiveGrant(userID: String, productID: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS(SELECT 1 FROM grants WHERE user_id = ? AND product_id = ? AND revoked_at IS NULL)",
            arguments: [userID, productID]) ?? false
    }

    static func ratingSummary(productID: String, in db: Database) throws -> RatingSummary {
        // Counted per star by triggers (`product_rating_counts`), not grouped per read.
        let rows = try ProductRatingCountRecord.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM product_rating_counts WHERE product_id = ? AND count > 0"), arguments: [productID])
        var counts: [Int: Int] = [:]
        for row in rows { counts[row.rating] = row.count }
        return ReviewDecision.summary(countsByRating: counts)
    }

    /// Stores the product's rating as its visible reviews make it. The product update is
    /// recorded in `search_changes` by its trigger, so the in-memory index picks it up on its
    /// next refresh; FTS5 queries read the column itself.
    static func refreshRating(productID: String, in db: Database) throws {
        let summary = try ratingSummary(productID: productID, in: db)
        try db.execute(
            sql: "UPDATE products SET rating_avg = ?, rating_count = ? WHERE id = ? AND (rating_avg != ? OR rating_count != ?)",
            arguments: [summary.average, summary.count, productID, summary.average, summary.count])
        try SearchIndex.pruneChanges(in: db)
    }

    /// A full refund (or a lost dispute) ended the order's grants: its buyer's reviews of the
    /// order's products stop counting (`ReviewDecision.withdrawals`), and those products' ratings
    /// are recomputed. Called by `applyRefund` in its transaction, after the grants are revoked.
    static func withdrawReviews(of order: Order, now: Date, in db: Database) throws {
        let productIDs = order.items.map(\.productID)
        let stillGranted = try Set(productIDs.filter { try hasActiveGrant(userID: order.buyerID, productID: $0, in: db) })
        for productID in ReviewDecision.withdrawals(orderProductIDs: productIDs, stillGranted: stillGranted) {
            try db.execute(
                sql: "UPDATE reviews SET withdrawn_at = ? WHERE product_id = ? AND user_id = ? AND withdrawn_at IS NULL",
                arguments: [now, productID, order.buyerID])
            if db.changesCount > 0 { try refreshRating(productID: productID, in: db) }
        }
    }
}
