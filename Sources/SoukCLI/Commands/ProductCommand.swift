import ArgumentParser
import Foundation
import SoukCore
import SoukDatabase

extension ProductStatus: ExpressibleByArgument {}

struct ProductCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "product", abstract: "Moderate the catalog.", subcommands: [List.self, Unpublish.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List products (every status).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this status: draft, published or archived.") var status: ProductStatus?
        @Option(help: "Only products of the seller with this e-mail.") var seller: String?
        @Option(help: "At most this many, newest first.") var limit = 100
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let (_, _, database) = try global.open()
            let products = try await reportingErrors {
                var sellerID: String?
                if let seller {
                    guard let record = try await database.user(email: seller.lowercased()) else {
                        throw SoukError(.notFound, "There is no account with the e-mail address \(seller).")
                    }
                    sellerID = record.id
                }
                return try await database.products(sellerID: sellerID, status: status, limit: limit)
            }
            print(CatalogAdmin.render(products, json: json))
        }
    }

    struct Unpublish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a product off the store (back to draft); its seller may fix and republish it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Product id (prod_…) or slug.") var product: String

        func run() async throws {
            let (_, _, database) = try global.open()
            let updated = try await reportingErrors { try await CatalogAdmin(database: database).unpublish(product) }
            print("unpublished \(updated.id) \"\(updated.title)\" (now \(updated.status.rawValue))")
        }
    }
}

/// The operator's catalog actions as plain functions (tested directly).
public struct CatalogAdmin: Sendable {
    public let database: AppDatabase

    public init(database: AppDatabase) { self.database = database }

    /// Sets a product back to draft. Throws `notFound` for an unknown id or slug.
    public func unpublish(_ idOrSlug: String) async throws -> Product {
        let found = try await idOrSlug.hasPrefix("prod_") ? database.productIncludingDeleted(id: idOrSlug) : database.product(slug: idOrSlug)
        guard let product = found else { throw SoukError(.notFound, "There is no product with the id or slug \(idOrSlug).") }
        return try await database.updateProduct(id: product.id) { $0.status = .draft }
    }

    public static func render(_ products: [Product], json: Bool) -> String {
        if json {
            return TableOutput.json(
                products.map { product in
                    [
                        "id": .string(product.id), "title": .string(product.title), "slug": .string(product.slug),
                        "seller_id": .string(product.sellerID), "seller_name": .string(product.sellerName),
                        "status": .string(product.status.rawValue), "price": .number(Double(product.price.amount)),
                        "currency": .string(product.price.currency), "category": .string(product.category),
                        "created_at": .string(Timestamp.rfc3339(product.createdAt)),
                    ]
                })
        }
        return TableOutput.text(
            headers: ["ID", "TITLE", "SELLER", "STATUS", "PRICE", "CATEGORY", "CREATED"],
            rows: products.map { product in
                [
                    product.id, String(product.title.prefix(40)), product.sellerName, product.status.rawValue,
                    Currency.display(product.price.amount, currency: product.price.currency), product.category,
                    Timestamp.rfc3339(product.createdAt),
                ]
            })
    }
}
