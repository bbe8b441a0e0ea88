import Foundation
import SoukCore

/// A deterministic generator of a realistic catalog: titles, Markdown descriptions, categories,
/// tags, prices, ratings and sales with the skew real stores have (a few best-sellers, many
/// quiet products, common words everywhere and rare ones here and there).
public struct DemoCatalog {
    public struct Item {
        public var title: String
        public var summary: String
        public var description: String
        public var category: String
        public var tags: [String]
        public var kind: ProductKind
        public var price: Int
        public var minPrice: Int?
        /// The stars each demo buyer gives it (at most `maxReviews`, averaging near the product's
        /// intended rating); the seeder stores them as reviews, and they make its rating.
        public var reviewRatings: [Int]
        public var sales: Int
        public var attributes: JSONValue
    }

    static let categories: [(name: String, kind: ProductKind, topics: [String], formats: [String])] = [
        ("Books", .download, ["Swift", "Rust", "Python", "Kotlin", "SQL", "Concurrency", "Cooking", "Gardening", "Finance", "Writing", "Photography", "Productivity", "Marketing", "Design", "History"], ["Handbook", "Guide", "Cookbook", "Field Manual", "Workbook", "Primer", "Companion"]),
        ("Courses", .content, ["SwiftUI", "Watercolor", "Guitar", "Machine Learning", "Public Speaking", "Copywriting", "Figma", "Excel", "Japanese", "Bread Baking", "Investing", "Yoga"], ["Masterclass", "Course", "Bootcamp", "Workshop", "Crash Course", "Academy"]),
        ("Software", .license, ["Menu Bar", "Clipboard", "Backup", "Markdown", "Screenshot", "Invoice", "Time Tracker", "Password", "Launcher", "Color Picker", "Terminal", "Window Manager"], ["App", "Utility", "Tool", "Pro", "Studio", "Kit"]),
        ("Templates", .download, ["Notion", "Resume", "Pitch Deck", "Budget", "Wedding", "Social Media", "Newsletter", "Landing Page", "Invoice", "Planner", "Portfolio"], ["Template", "Pack", "Bundle", "System", "Starter Kit"]),
        ("Music", .download, ["Lo-fi", "Cinematic", "Drum", "Synthwave", "Ambient", "Jazz Piano", "Guitar Loop", "Orchestral", "Hip Hop", "Foley"], ["Sample Pack", "Loops", "Presets", "Soundtrack", "Stems"]),
        ("Fonts", .download, ["Grotesk", "Serif", "Handwritten", "Display", "Monospace", "Script", "Slab", "Rounded"], ["Typeface", "Font Family", "Font", "Type Collection"]),
        ("Photos", .download, ["Mountain", "Street", "Food", "Portrait", "Aerial", "Ocean", "Forest", "Desert", "Architecture", "Night City"], ["Photo Pack", "Lightroom Presets", "Stock Collection", "LUTs"]),
        ("Design Assets", .download, ["Icon", "Illustration", "Mockup", "UI Kit", "Texture", "Gradient", "3D", "Pattern", "Brush"], ["Set", "Library", "Pack", "Collection", "Kit"]),
        ("Games", .license, ["Puzzle", "Roguelike", "Platformer", "Card", "Tower Defense", "Racing", "Farming", "Space"], ["Game", "Adventure", "Deluxe Edition", "Simulator"]),
        ("Memberships", .content, ["Indie Makers", "Design Critique", "Writers", "Founders", "Photographers", "Home Cooks"], ["Club", "Community", "Circle", "Membership"]),
    ]
    static let adjectives = [
        "Practical", "Complete", "Modern", "Essential", "Pocket", "Advanced", "Beginner's", "Ultimate", "Minimal",
        "Friendly", "Fearless", "Deep", "Everyday", "Professional", "Tiny", "Vintage", "Bold", "Calm", "Clever",
        "Swift", "Handmade", "Open", "Little", "Big", "Quiet", "Bright",
    ]
    static let sellerNames = [
        "Nimbus Studio", "Paper Lantern", "Quiet Fox Press", "Atlas Audio", "Pixel & Pine", "Northwind Labs",
        "Kettle Type Foundry", "Morning Brew Courses", "Lumen Photo", "Orbit Games", "Saffron Kitchen",
        "Copper Leaf Design", "Bytebarn", "Tidewater Music", "Ferncraft", "Glasshouse Apps",
    ]
    /// Words every description draws on: frequent ones appear in most products (the hard case for
    /// bm25), rare ones in a few.
    static let commonWords = [
        "learn", "guide", "create", "build", "simple", "step", "includes", "lifetime", "updates", "project", "design",
        "workflow", "beginners", "experts", "practical", "examples", "quality", "download", "access", "instant",
    ]
    static let rareWords = [
        "kintsugi", "zettelkasten", "sourdough", "risograph", "bonsai", "letterpress", "cyanotype", "haiku",
        "origami", "calligraphy", "fermentation", "telescope", "marquetry", "sashiko", "tessellation", "vellum",
        "quasar", "madder", "gouache", "embroidery", "patina", "monotype", "ikebana", "shibori",
    ]

    /// Reviews per product at most: enough for ratings, sorting and the distribution to mean
    /// something, few enough that a million-product catalog seeds in minutes.
    public static let maxReviews = 5
    static let reviewTexts: [Int: [(title: String, body: String)]] = [
        5: [("Exactly what I needed", "Clear, complete and worth every cent. I keep coming back to it."),
            ("Superb", "The best I have bought in this category; the updates keep it fresh.")],
        4: [("Very good", "Solid and well made; a couple of rough edges, nothing that gets in the way."),
            ("Recommended", "Does what it promises. I would have liked a few more examples.")],
        3: [("Decent", "Useful in parts. The basics are good, the advanced material is thin."),
            ("Okay", "Fine for the price, though I expected a little more depth.")],
        2: [("Not for me", "Too basic for what I needed, and some parts felt rushed.")],
        1: [("Disappointing", "It did not match the description; I asked the seller for help.")],
    ]

    private var random: SplitMix64

    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    public static func sellerName(_ index: Int) -> String {
        index < sellerNames.count ? sellerNames[index] : "\(sellerNames[index % sellerNames.count]) \(index / sellerNames.count + 1)"
    }

    public mutating func next() -> Item {
        let category = Self.categories[random.below(Self.categories.count)]
        let topic = category.topics[random.below(category.topics.count)]
        let format = category.formats[random.below(category.formats.count)]
        let adjective = Self.adjectives[random.below(Self.adjectives.count)]
        let title = random.chance(0.3) ? "\(topic) \(format)" : "\(adjective) \(topic) \(format)"
        let rare = (0..<2).map { _ in Self.rareWords[random.below(Self.rareWords.count)] }
        var sentences = [
            "The \(title) helps you \(word()) and \(word()) with \(topic.lowercased()) — \(word()) by \(word()).",
            "It includes \(2 + random.below(40)) \(random.chance(0.5) ? "lessons" : "chapters") with practical examples for beginners and experts.",
            "Made with care by an independent creator; lifetime updates and instant download access.",
        ]
        if random.chance(0.15) { sentences.append("Inspired by \(rare[0]) and \(rare[1]).") }
        for _ in 0..<random.below(4) {
            sentences.append("\(word().capitalized) your \(word()) \(word()) and \(word()) \(topic.lowercased()) \(word()).")
        }
        let description = "## \(title)\n\n" + sentences.joined(separator: " ") + "\n\n- \(word()) \(word())\n- \(word()) \(topic.lowercased())\n"
        let tags = Array(Set([topic.lowercased(), format.lowercased(), category.name.lowercased(), word()])).sorted()
        let price = [0, 0, 300, 500, 900, 1200, 1500, 1900, 2400, 2900, 3900, 4900, 7900, 9900, 14900][random.below(15)]
        let payWhatYouWant = price > 0 && random.chance(0.1)
        let sales = Int(pow(random.unit(), 6) * 5000)  // most products sell little
        let reviewCount = sales == 0 ? 0 : random.below(min(sales, Self.maxReviews) + 1)
        let reviewRatings = Self.ratings(count: reviewCount, averaging: (30 + Double(random.below(21))) / 10)
        return Item(
            title: title, summary: "\(adjective) \(topic.lowercased()) \(format.lowercased()) for \(word()) \(word()).",
            description: description, category: category.name, tags: tags, kind: category.kind, price: price,
            minPrice: payWhatYouWant ? price / 2 : nil, reviewRatings: reviewRatings, sales: sales,
            attributes: .object([
                "format": .string(format.lowercased()), "version": .string("1.\(random.below(10))"),
                "pages": .number(Double(20 + random.below(400))),
            ]))
    }

    /// `count` whole-star ratings whose mean is as near `average` as whole stars allow.
    static func ratings(count: Int, averaging average: Double) -> [Int] {
        guard count > 0 else { return [] }
        let total = min(5 * count, max(count, Int((average * Double(count)).rounded())))
        let (base, extra) = (total / count, total % count)
        return (0..<count).map { $0 < extra ? base + 1 : base }
    }

    /// A review's title and text for a number of stars.
    public static func reviewText(stars: Int, variant: Int) -> (title: String, body: String) {
        let texts = reviewTexts[stars] ?? reviewTexts[3]!
        return texts[variant % texts.count]
    }

    /// A word from the shared vocabulary, common words far more often than rare ones.
    private mutating func word() -> String {
        random.chance(0.97)
            ? Self.commonWords[Int(pow(random.unit(), 2) * Double(Self.commonWords.count))]
            : Self.rareWords[random.below(Self.rareWords.count)]
    }
}
