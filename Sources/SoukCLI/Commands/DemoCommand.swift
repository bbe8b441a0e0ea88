import ArgumentParser
import Foundation
import SoukAuth
import SoukCore
import SoukDatabase
import SoukMarkdown

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Demo data for newcomers and benchmarks.", subcommands: [Seed.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a realistic published catalog: verified sellers, products, prices, sales, and reviews by demo buyers.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Number of products.") var products = 200
        @Option(help: "Number of sellers.") var sellers = 8
        @Option(help: "Random seed (same seed, same catalog).") var seed: UInt64 = 42

        func validate() throws {
            guard products > 0, products <= 5_000_000 else { throw ValidationError("--products must be 1…5,000,000") }
            guard sellers > 0, sellers <= 10_000 else { throw ValidationError("--sellers must be 1…10,000") }
        }

        func run() async throws {
            let (settings, _, database) = try global.open()
            let seeder = DemoSeeder(database: database, currency: settings.store.currency)
            let result = try await reportingErrors {
                try await seeder.seed(products: products, sellers: sellers, seed: seed) { done in
                    ProgressBar.draw(done: done, total: products)
                }
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("seeded \(result.products) products from \(result.sellers) sellers in \(String(format: "%.1f", result.seconds)) s")
            print("demo sellers sign in as demo-seller-1@example.com … with the password \"\(DemoSeeder.password)\"")
        }
    }
}

/// Writes a demo catalog in batches, one transaction each.
public struct DemoSeeder: Sendable {
    public static let password = "demo password"
    public let database: AppDatabase
    public let currency: String

    public init(database: AppDatabase, currency: String) {
        self.database = database
        self.currency = currency
    }

    public func seed(products count: Int, sellers sellerCount: Int, seed: UInt64, progress: (Int) -> Void) async throws
        -> (products: Int, sellers: Int, seconds: Double)
    {
        let start = Date()
        // One hash for every demo seller: bcrypt is the slow part of creating accounts.
        let hash = await PasswordHasher(cost: 10).hash(Self.password)
        let run = RandomText.base32(byteCount: 3)
        let buyers = try await demoBuyers(hash: hash)
        var sellers: [User] = []
        for index in 0..<sellerCount {
            let email = "demo-seller-\(index + 1)@example.com"
            if let existing = try await database.user(email: email) {
                sellers.append(existing)
                continue
            }
            _ = try await database.insertUser(email: email, name: DemoCatalog.sellerName(index), passwordHash: hash, role: .seller)
            sellers.append(try await database.setSellerStatus(email: email, .verified))
        }
        var generator = DemoCatalog(seed: seed)
        var written = 0
        let now = database.clock.now()
        while written < count {
            var reviews: [Review] = []
            let batch = (written..<min(count, written + 2000)).map { index -> Product in
                let item = generator.next()
                let seller = sellers[index % sellers.count]
                // Spread publication over the last year so "newest" has something to sort.
                let published = now.addingTimeInterval(-Double(count - index) * 31_536_000 / Double(count))
                let productID = database.ids.make(.product)
                let productReviews = item.reviewRatings.enumerated().map { position, stars in
                    // Different buyers for each product, one review each (the table's rule).
                    let buyer = buyers[(index + position) % buyers.count]
                    let text = DemoCatalog.reviewText(stars: stars, variant: index + position)
                    let at = published.addingTimeInterval(Double(position + 1) * 86_400)
                    return Review(
                        id: database.ids.make(.review), productID: productID, userID: buyer.id, authorName: buyer.name,
                        rating: stars, title: text.title, body: text.body, bodyHTML: "<p>\(text.body)</p>\n",
                        sellerReply: nil, sellerReplyAt: nil, hiddenAt: nil, withdrawnAt: nil, createdAt: at, updatedAt: at)
                }
                reviews += productReviews
                var counts: [Int: Int] = [:]
                for review in productReviews { counts[review.rating, default: 0] += 1 }
                let rating = ReviewDecision.summary(countsByRating: counts)
                return Product(
                    id: productID, sellerID: seller.id, sellerName: seller.name, title: item.title,
                    slug: "\(CatalogRules.slug(from: item.title))-\(run)\(index)", summary: item.summary,
                    description: item.description, descriptionHTML: Markdown.html(item.description),
                    category: item.category, tags: item.tags, kind: item.kind,
                    price: Price(amount: item.price, currency: currency, minimum: item.minPrice), stock: nil,
                    status: .published, attributesJSON: item.attributes.jsonText, downloadLimit: nil,
                    activationLimit: item.kind == .license ? 3 : nil, ratingAverage: rating.average,
                    ratingCount: rating.count, salesCount: item.sales, createdAt: published, updatedAt: published,
                    publishedAt: published)
            }
            try await database.insertProducts(batch, reviews: reviews)
            written += batch.count
            progress(written)
        }
        return (written, sellers.count, Date().timeIntervalSince(start))
    }

    static let buyerNames = [
        "Ada Park", "Bruno Silva", "Chiara Rossi", "Dev Patel", "Elif Kaya", "Femi Adeyemi", "Greta Lund", "Hiro Tanaka",
        "Ines Moreau", "Jonas Berg", "Kemi Okafor", "Lena Novak",
    ]

    /// The demo buyers who write the demo reviews (created once; a second seed reuses them).
    private func demoBuyers(hash: String) async throws -> [User] {
        var buyers: [User] = []
        for (index, name) in Self.buyerNames.enumerated() {
            let email = "demo-buyer-\(index + 1)@example.com"
            if let existing = try await database.user(email: email) {
                buyers.append(existing)
            } else {
                buyers.append(try await database.insertUser(email: email, name: name, passwordHash: hash, role: .buyer))
            }
        }
        return buyers
    }
}

/// A one-line progress bar on standard error.
enum ProgressBar {
    static func draw(done: Int, total: Int) {
        let width = 30
        let filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total) products".utf8))
    }
}
