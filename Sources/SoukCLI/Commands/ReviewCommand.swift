import ArgumentParser
import Foundation
import SoukCore
import SoukCatalog
import SoukDatabase
import SoukRuntime

/// `souk review list|hide|show`: the operator moderates reviews (hiding recomputes the
/// product's rating, as the admin's PATCH does: both go through `ReviewService.setHidden`).
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "List reviews, hide one, or show it again.",
        subcommands: [List.self, Hide.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reviews, hidden and withdrawn ones too, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only reviews of this product (its id).") var product: String?
        @Flag(help: "Only hidden reviews.") var hidden = false
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let (_, _, database) = try global.open()
            let reviews = try await reportingErrors {
                if let product, try await database.productIncludingDeleted(id: product) == nil {
                    throw SoukError(
                        .notFound, "No product has the id \(product): `souk product list` shows the products and their ids.")
                }
                return try await database.allReviews(productID: product, hiddenOnly: hidden, limit: limit)
            }
            print(ReviewAdmin.render(reviews, json: json))
        }
    }

    struct Hide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hide a review: no longer shown, nor counted in the product's rating.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The review id (rev_…).") var id: String

        func run() async throws { try await ReviewAdmin.setHidden(id, true, global: global) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a hidden review again: shown, and counted in the product's rating.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The review id (rev_…).") var id: String

        func run() async throws { try await ReviewAdmin.setHidden(id, false, global: global) }
    }
}

/// The operator's review views and moderation as plain functions.
enum ReviewAdmin {
    static func setHidden(_ id: String, _ hidden: Bool, global: GlobalOptions) async throws {
        let (runtime, _) = try await global.runtime()
        let (review, rating) = try await reportingErrors {
            let review = try await runtime.reviews.setHidden(reviewID: id, hidden)
            return (review, try await runtime.database.ratingSummary(productID: review.productID))
        }
        print(
            "\(hidden ? "hid" : "showed") review \(review.id) of product \(review.productID); its rating is now "
                + "\(String(format: "%.2f", rating.average)) from \(rating.count) review\(rating.count == 1 ? "" : "s")")
    }

    static func state(_ review: Review) -> String {
        if review.withdrawnAt != nil { return "withdrawn" }
        return review.hiddenAt != nil ? "hidden" : "visible"
    }

    static func render(_ reviews: [Review], json: Bool) -> String {
        if json {
            return TableOutput.json(
                reviews.map {
                    [
                        "id": .string($0.id), "product_id": .string($0.productID), "user_id": .string($0.userID),
                        "author_name": .string($0.authorName), "rating": .number(Double($0.rating)),
                        "title": $0.title.map(JSONValue.string) ?? .null, "body": .string($0.body),
                        "state": .string(state($0)),
                        "hidden_at": $0.hiddenAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
                        "withdrawn_at": $0.withdrawnAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
                        "created_at": .string(Timestamp.rfc3339($0.createdAt)),
                    ]
                })
        }
        if reviews.isEmpty { return "no reviews" }
        return TableOutput.text(
            headers: ["ID", "PRODUCT", "RATING", "STATE", "AUTHOR", "CREATED", "TITLE"],
            rows: reviews.map {
                [
                    $0.id, $0.productID, "\($0.rating)", state($0), $0.authorName, Timestamp.rfc3339($0.createdAt),
                    String(($0.title ?? $0.body).prefix(40)),
                ]
            })
    }
}
