import Foundation
import SoukCore
import Testing

/// Reviews: validation, who may review, replacing, and the rating they make (issue 12), decided
/// without a database.
@Suite("Decisions: reviews and ratings")
struct ReviewDecisionTests {
    typealias F = Fixtures

    static let buyer = User(
        id: "usr_buyer", email: "buyer@example.com", name: "Bea", role: .buyer, sellerStatus: nil, disabled: false,
        createdAt: F.now)
    static let seller = User(
        id: "usr_seller", email: "seller@example.com", name: "Sol", role: .seller, sellerStatus: .verified,
        disabled: false, createdAt: F.now)

    func failure(_ body: () throws -> Void) -> SoukError? {
        do {
            try body()
            return nil
        } catch let error as SoukError {
            return error
        } catch {
            return nil
        }
    }

    // MARK: Validation

    @Test("A valid review is trimmed; an empty title becomes none")
    func validInput() throws {
        let input = try ReviewRules.validate(ReviewInput(rating: 4, title: "  Great  ", body: "\n Solid book. \n"))
        #expect(input == ReviewInput(rating: 4, title: "Great", body: "Solid book."))
        #expect(try ReviewRules.validate(ReviewInput(rating: 1, title: "   ", body: "x")).title == nil)
        #expect(try ReviewRules.validate(ReviewInput(rating: 5, title: nil, body: "x")).title == nil)
        let longest = String(repeating: "é", count: ReviewRules.maxBody)
        #expect(try ReviewRules.validate(ReviewInput(rating: 5, title: String(repeating: "t", count: 200), body: longest)).body == longest)
    }

    @Test("Ratings outside 1…5 are refused, naming the field", arguments: [0, 6, -1, 100])
    func badRating(rating: Int) {
        let error = failure { _ = try ReviewRules.validate(ReviewInput(rating: rating, title: nil, body: "ok")) }
        #expect(error?.code == .validationFailed)
        #expect(error?.field == "rating")
        #expect(error?.detail.contains("1 to 5") == true)
    }

    @Test("Titles over 200 characters or on several lines are refused")
    func badTitle() {
        for title in [String(repeating: "t", count: 201), "one\ntwo"] {
            let error = failure { _ = try ReviewRules.validate(ReviewInput(rating: 3, title: title, body: "ok")) }
            #expect(error?.code == .validationFailed)
            #expect(error?.field == "title")
        }
    }

    @Test("A body must have 1 to 10,000 characters")
    func badBody() {
        for body in ["", "  \n ", String(repeating: "b", count: ReviewRules.maxBody + 1)] {
            let error = failure { _ = try ReviewRules.validate(ReviewInput(rating: 3, title: nil, body: body)) }
            #expect(error?.code == .validationFailed)
            #expect(error?.field == "body")
        }
    }

    // MARK: Eligibility

    @Test("Only a buyer holding an active grant may review; never the product's seller")
    func eligibility() throws {
        let product = F.product("prod_book", seller: "usr_seller")
        try ReviewRules.requireEligible(Self.buyer, for: product, hasActiveGrant: true)
        let notBought = failure { try ReviewRules.requireEligible(Self.buyer, for: product, hasActiveGrant: false) }
        #expect(notBought == SoukError(.forbidden, "Only buyers who bought this product may review it."))
        let own = failure { try ReviewRules.requireEligible(Self.seller, for: product, hasActiveGrant: true) }
        #expect(own?.code == .forbidden)
        #expect(own?.detail.contains("own products") == true)
        // Another seller who bought it is a buyer like any other.
        let other = F.product("prod_other", seller: "usr_someone")
        try ReviewRules.requireEligible(Self.seller, for: other, hasActiveGrant: true)
    }

    // MARK: Writing

    @Test("A first review is created; a second replaces it, keeping its id and creation date")
    func replace() {
        let first = ReviewDecision.write(
            ReviewInput(rating: 2, title: "Meh", body: "Thin."), bodyHTML: "<p>Thin.</p>", existing: nil, newID: "rev_1",
            productID: "prod_book", user: Self.buyer, now: F.now)
        #expect(first.created)
        #expect(first.review.id == "rev_1")
        #expect(first.review.authorName == "Bea")
        #expect(first.review.createdAt == F.now && first.review.updatedAt == F.now)
        #expect(first.review.isVisible)

        var withdrawn = first.review
        withdrawn.withdrawnAt = F.now
        withdrawn.sellerReply = "Thanks"
        let later = F.now.addingTimeInterval(3600)
        let second = ReviewDecision.write(
            ReviewInput(rating: 5, title: nil, body: "Grew on me."), bodyHTML: "<p>Grew on me.</p>", existing: withdrawn,
            newID: "rev_2", productID: "prod_book", user: Self.buyer, now: later)
        #expect(!second.created)
        #expect(second.review.id == "rev_1")
        #expect(second.review.rating == 5 && second.review.title == nil && second.review.body == "Grew on me.")
        #expect(second.review.createdAt == F.now && second.review.updatedAt == later)
        #expect(second.review.sellerReply == "Thanks")
        // Eligible again (bought again after a refund): the review counts again.
        #expect(second.review.withdrawnAt == nil && second.review.isVisible)
    }

    @Test("A hidden review stays hidden when replaced")
    func hiddenStaysHidden() {
        var hidden = ReviewDecision.write(
            ReviewInput(rating: 1, title: nil, body: "Spam"), bodyHTML: "", existing: nil, newID: "rev_1",
            productID: "prod_book", user: Self.buyer, now: F.now
        ).review
        hidden.hiddenAt = F.now
        let replaced = ReviewDecision.write(
            ReviewInput(rating: 1, title: nil, body: "More spam"), bodyHTML: "", existing: hidden, newID: "rev_2",
            productID: "prod_book", user: Self.buyer, now: F.now)
        #expect(!replaced.review.isVisible)
    }

    // MARK: Rating

    @Test("The rating: mean of the visible reviews to two decimals, their count and distribution")
    func summary() {
        #expect(ReviewDecision.summary(countsByRating: [:]) == RatingSummary(average: 0, count: 0, distribution: [0, 0, 0, 0, 0]))
        #expect(ReviewDecision.summary(countsByRating: [5: 1]) == RatingSummary(average: 5, count: 1, distribution: [0, 0, 0, 0, 1]))
        #expect(
            ReviewDecision.summary(countsByRating: [4: 2, 5: 1]) == RatingSummary(average: 4.33, count: 3, distribution: [0, 0, 0, 2, 1]))
        #expect(
            ReviewDecision.summary(countsByRating: [1: 1, 2: 1]) == RatingSummary(average: 1.5, count: 2, distribution: [1, 1, 0, 0, 0]))
        // Keys outside 1…5 (never stored: the column has a CHECK) are ignored.
        #expect(ReviewDecision.summary(countsByRating: [0: 3, 6: 1, 3: 1]).count == 1)
    }

    @Test("A revocation withdraws the buyer's reviews of the order's products they no longer hold")
    func withdrawals() {
        #expect(ReviewDecision.withdrawals(orderProductIDs: ["prod_b", "prod_a", "prod_b"], stillGranted: []) == ["prod_a", "prod_b"])
        // Bought again in another order: that review still counts.
        #expect(ReviewDecision.withdrawals(orderProductIDs: ["prod_a", "prod_b"], stillGranted: ["prod_a"]) == ["prod_b"])
        #expect(ReviewDecision.withdrawals(orderProductIDs: [], stillGranted: ["prod_a"]).isEmpty)
    }

    @Test("The product's seller replies, then edits the one reply; nobody else may; the reply has 1 to 5,000 characters")
    func reply() throws {
        let product = F.product("prod_book", seller: "usr_seller")
        let review = ReviewDecision.write(
            ReviewInput(rating: 4, title: nil, body: "Good"), bodyHTML: "", existing: nil, newID: "rev_1",
            productID: product.id, user: Self.buyer, now: F.now
        ).review
        try ReviewRules.requireMayReply(Self.seller, to: review, of: product)
        let stranger = failure { try ReviewRules.requireMayReply(Self.buyer, to: review, of: product) }
        #expect(stranger?.code == .forbidden)
        #expect(try ReviewRules.reply("  Thanks!  ") == "Thanks!")
        for bad in ["", "   ", String(repeating: "r", count: ReviewRules.maxReply + 1)] {
            #expect(failure { _ = try ReviewRules.reply(bad) }?.field == "body")
        }
        let later = F.now.addingTimeInterval(60)
        let (replied, created) = ReviewDecision.reply("Thanks!", to: review, now: later)
        #expect(created)
        #expect(replied.sellerReply == "Thanks!" && replied.sellerReplyAt == later)
        #expect(replied.rating == 4 && replied.updatedAt == review.updatedAt)
        try ReviewRules.requireMayReply(Self.seller, to: replied, of: product)
        let edited = ReviewDecision.reply("Thanks, fixed in 1.1!", to: replied, now: later.addingTimeInterval(60))
        #expect(!edited.created, "a second reply edits the first")
        #expect(edited.review.sellerReply == "Thanks, fixed in 1.1!" && edited.review.sellerReplyAt == later.addingTimeInterval(60))
        let notice = ReviewDecision.replyNotice(for: edited.review, of: product)
        #expect(notice.userID == Self.buyer.id && notice.type == .reviewReplied && notice.dedupeKey == "review_reply:rev_1")
    }

    @Test("The seller hears of a first review")
    func sellerNotice() {
        let product = F.product("prod_book", seller: "usr_seller")
        let review = ReviewDecision.write(
            ReviewInput(rating: 4, title: "Solid", body: "Good"), bodyHTML: "", existing: nil, newID: "rev_1",
            productID: product.id, user: Self.buyer, now: F.now
        ).review
        let notice = ReviewDecision.sellerNotice(for: review, of: product)
        #expect(notice.userID == "usr_seller" && notice.type == .reviewCreated && notice.dedupeKey == "review:rev_1")
        #expect(notice.body == "Bea rated it 4 out of 5: “Solid”")
        #expect(notice.url == "/products/prod_book")
    }
}
