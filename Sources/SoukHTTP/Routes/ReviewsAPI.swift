import Foundation
import Hummingbird
import SoukCatalog
import SoukCore

/// `/api/v1/products/:id/reviews`: anyone reads a product's reviews; a buyer who owns it writes
/// theirs (a second POST replaces the first); the product's seller replies once; an admin hides.
struct ReviewsAPI: Sendable {
    let services: AppServices
    var reviews: ReviewService { services.reviews }

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.get("products/:id/reviews", use: list)
        api.post("products/:id/reviews", use: put)
        api.post("products/:id/reviews/:review_id/reply", use: reply)
        api.patch("products/:id/reviews/:review_id", use: moderate)
    }

    struct WriteBody: Decodable {
        var rating: Int
        var title: String?
        var body: String
    }

    /// 201 for a first review, 200 when it replaced the caller's earlier one.
    @Sendable func put(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ReviewBody> {
        let user = try context.require(.signedIn)
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSON(WriteBody.self, limit: services.maxBodyBytes)
        let (review, created) = try await reviews.put(
            productID: id, ReviewInput(rating: body.rating, title: body.title, body: body.body), by: user)
        context.logger.info(
            "review \(created ? "created" : "replaced")", metadata: ["product": "\(id)", "review": "\(review.id)"])
        return JSONResponse(status: created ? .created : .ok, body: ReviewBody(review))
    }

    struct ReplyBody: Decodable {
        var body: String
    }

    /// The product's seller replies to a review (201); writing again edits the one reply (200).
    @Sendable func reply(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ReviewBody> {
        let user = try context.require(.sellerAction)
        let body = try await request.decodeJSON(ReplyBody.self, limit: services.maxBodyBytes)
        let (review, created) = try await reviews.reply(
            productID: try context.parameters.require("id"), reviewID: try context.parameters.require("review_id"),
            body.body, by: user)
        return JSONResponse(status: created ? .created : .ok, body: ReviewBody(review))
    }

    struct ModerateBody: Decodable {
        var hidden: Bool
    }

    /// An admin hides a review or shows it again; the product's rating follows at once.
    @Sendable func moderate(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ReviewBody> {
        let user = try context.require(.admin)
        let body = try await request.decodeJSON(ModerateBody.self, limit: services.maxBodyBytes)
        let review = try await reviews.setHidden(
            productID: try context.parameters.require("id"), reviewID: try context.parameters.require("review_id"),
            body.hidden, by: user)
        context.logger.info(
            "review \(body.hidden ? "hidden" : "shown")", metadata: ["review": "\(review.id)", "admin": "\(user.id)"])
        return JSONResponse(body: ReviewBody(review))
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ReviewListBody> {
        let user = context.allowAnyone()
        let query = request.uri.queryParameters
        let limit = try query.get("limit").map { raw -> Int in
            guard let value = Int(raw), (1...100).contains(value) else {
                throw SoukError.validation("limit", "limit must be an integer from 1 to 100.")
            }
            return value
        } ?? 20
        let page = try await reviews.list(
            productID: try context.parameters.require("id"), viewer: user, limit: limit, cursor: query.get("cursor"))
        return JSONResponse(
            body: ReviewListBody(
                data: page.reviews.map(ReviewBody.init), nextCursor: page.nextCursor,
                ratingSummary: RatingSummaryBody(page.summary)))
    }
}

/// A review as the API shows it.
struct ReviewBody: Encodable, Sendable {
    var id: String
    var productID: String
    var authorName: String
    var rating: Int
    @Nullable var title: String?
    var body: String
    var bodyHTML: String
    @Nullable var sellerReply: String?
    @Nullable var sellerReplyAt: String?
    /// When an admin hid it (never set in the public list, which shows visible reviews only).
    @Nullable var hiddenAt: String?
    var createdAt: String
    var updatedAt: String

    init(_ review: Review) {
        id = review.id
        productID = review.productID
        authorName = review.authorName
        rating = review.rating
        title = review.title
        body = review.body
        bodyHTML = review.bodyHTML
        sellerReply = review.sellerReply
        sellerReplyAt = review.sellerReplyAt.map(Timestamp.rfc3339)
        hiddenAt = review.hiddenAt.map(Timestamp.rfc3339)
        createdAt = Timestamp.rfc3339(review.createdAt)
        updatedAt = Timestamp.rfc3339(review.updatedAt)
    }
}

struct RatingSummaryBody: Encodable, Sendable {
    var average: Double
    var count: Int
    /// Visible reviews per number of stars, keyed "1" to "5".
    var distribution: [String: Int]

    init(_ summary: RatingSummary) {
        average = summary.average
        count = summary.count
        distribution = Dictionary(
            uniqueKeysWithValues: summary.distribution.enumerated().map { (String($0.offset + 1), $0.element) })
    }
}

/// `{data, next_cursor, rating_summary}`: a page of reviews with the product's rating.
struct ReviewListBody: Encodable, Sendable {
    var data: [ReviewBody]
    @Nullable var nextCursor: String?
    var ratingSummary: RatingSummaryBody
}
