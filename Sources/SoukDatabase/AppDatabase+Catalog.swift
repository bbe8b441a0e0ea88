import Foundation
import GRDB
import SoukCore

/// Named reads and writes for products, their files and pages. Every product write re-indexes
/// the product for search in the same transaction, so search never disagrees with the catalog.
extension AppDatabase {
    /// Inserts a draft. The slug is derived from the title and made unique with a suffix.
    public func insertProduct(_ product: Product) async throws -> Product {
        try await writer.write { db in
            var product = product
            product.slug = try Self.uniqueSlug(product.slug, excluding: product.id, in: db)
            try ProductRecord(product).insert(db)
            try SearchIndex.sync(productID: product.id, in: db)
            return product
        }
    }

    /// Loads a product, applies `change` and saves it, all in one transaction. `change` sees the
    /// current row (no lost updates) and may throw to abort. Throws `notFound`.
    public func updateProduct(
        id: String, deleting: Bool = false, _ change: @escaping @Sendable (inout Product) throws -> Void
    ) async throws -> Product {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            guard let before = try Self.product(id: id, in: db) else { throw SoukError.notFound("The product \(id)") }
            var product = before
            try change(&product)
            product.id = before.id
            product.sellerID = before.sellerID
            if product.slug != before.slug {
                product.slug = try Self.uniqueSlug(product.slug, excluding: id, in: db)
            }
            if product.status == .published && before.status != .published && product.publishedAt == nil {
                product.publishedAt = now
            }
            product.updatedAt = now
            try ProductRecord(product).update(db)
            if deleting {
                try db.execute(sql: "UPDATE products SET deleted_at = ? WHERE id = ?", arguments: [now, id])
                product.deletedAt = now
            }
            try SearchIndex.sync(productID: id, in: db)
            try SearchIndex.pruneChanges(in: db)
            try Self.emitWebhook(.productUpdated, sellerID: product.sellerID, data: WebhookProductData(product), now: now, ids: ids, in: db)
            return product
        }
    }

    /// A product that is not deleted: what the catalog, carts, uploads and sellers' pages work on.
    public func product(id: String) async throws -> Product? {
        try await writer.read { db in try Self.product(id: id, in: db) }
    }

    /// A product whatever became of it: orders, grants, licenses and receipts keep referring to a
    /// deleted one, and its buyers keep it in their library.
    public func productIncludingDeleted(id: String) async throws -> Product? {
        try await writer.read { db in try Self.product(id: id, includingDeleted: true, in: db) }
    }

    /// Several products by id, whatever became of them, in one read (a page of reviews names up
    /// to fifty): keyed by id, the ids that match none left out.
    public func productsIncludingDeleted(ids: Set<String>) async throws -> [String: Product] {
        guard !ids.isEmpty else { return [:] }
        return try await writer.read { db in
            let found = try Self.fetchProducts(
                db, sql: "\(Self.productSelect) WHERE p.id IN (\(databaseQuestionMarks(count: ids.count)))",
                arguments: StatementArguments(Array(ids)))
            return Dictionary(found.map { ($0.id, $0) }) { first, _ in first }
        }
    }

    public func product(slug: String) async throws -> Product? {
        try await writer.read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT id FROM products WHERE slug = ?", arguments: [slug])
            else { return nil }
            return try Self.product(id: id, in: db)
        }
    }

    /// Products of one seller (every status), or of everyone, newest first; deleted ones only
    /// when asked for.
    public func products(
        sellerID: String? = nil, status: ProductStatus? = nil, includingDeleted: Bool = false, limit: Int = 1000
    ) async throws -> [Product] {
        try await writer.read { db in
            var conditions: [String] = includingDeleted ? [] : ["p.deleted_at IS NULL"]
            var arguments: StatementArguments = []
            if let sellerID {
                conditions.append("p.seller_id = ?")
                arguments += [sellerID]
            }
            if let status {
                conditions.append("p.status = ?")
                arguments += [status.rawValue]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Self.fetchProducts(
                db, sql: "\(Self.productSelect) \(whereClause) ORDER BY p.created_at DESC, p.rowid DESC LIMIT ?",
                arguments: arguments)
        }
    }

    /// Where a page of a list newest first starts (a seller's products, the admin's reviews):
    /// past a row shown on the page before, toward older rows or newer ones.
    public enum ListPosition: Sendable, Equatable {
        case olderThan(id: String)
        case newerThan(id: String)

        public var id: String {
            switch self {
            case .olderThan(let id), .newerThan(let id): id
            }
        }
    }

    /// Up to `limit` of one seller's products (every status, not deleted), newest first: the
    /// newest, or those just past `position`. The seller's index is entered at the position,
    /// so a page deep in a catalog of a million costs what the first does (an `OFFSET` stepped
    /// over every product before it: 44 ms for page 399 of 20,000). A position whose product no
    /// longer exists (deleted since the link was made, or mistyped) gives the newest: `from` is
    /// the position the page was read from.
    public func sellerProducts(sellerID: String, from position: ListPosition?, limit: Int) async throws
        -> (products: [Product], from: ListPosition?)
    {
        try await writer.read { db in
            let live = "\(Self.productSelect) WHERE p.seller_id = ? AND p.deleted_at IS NULL"
            let anchorID: String? =
                switch position {
                case .olderThan(let id)?, .newerThan(let id)?: id
                case nil: nil
                }
            // The anchor's key as stored (its text, not a `Date` formatted again), read once.
            guard let anchorID,
                let anchor = try Row.fetchOne(db, sql: "SELECT created_at, rowid FROM products WHERE id = ?", arguments: [anchorID])
            else {
                let newest = try Self.fetchProducts(
                    db, sql: "\(live) ORDER BY p.created_at DESC, p.rowid DESC LIMIT ?", arguments: [sellerID, limit])
                return (newest, nil)
            }
            let arguments: StatementArguments = [sellerID, anchor[0] as DatabaseValue, anchor[1] as DatabaseValue, limit]
            if case .olderThan? = position {
                let older = try Self.fetchProducts(
                    db, sql: "\(live) AND (p.created_at, p.rowid) < (?, ?) ORDER BY p.created_at DESC, p.rowid DESC LIMIT ?",
                    arguments: arguments)
                return (older, position)
            }
            let newer = try Self.fetchProducts(
                db, sql: "\(live) AND (p.created_at, p.rowid) > (?, ?) ORDER BY p.created_at, p.rowid LIMIT ?",
                arguments: arguments)
            return (newer.reversed(), position)
        }
    }

    // MARK: Files

    /// Records a new version of the file `name` (1 for a new name). The blob must already be stored.
    public func addFile(productID: String, name: String, size: Int64, sha256: String) async throws -> ProductFile {
        let now = clock.now()
        let id = ids.make(.file)
        return try await writer.write { db in
            guard try ProductRecord.exists(db, key: productID) else { throw SoukError.notFound("The product \(productID)") }
            let latest = try Int.fetchOne(
                db, sql: "SELECT MAX(version) FROM product_files WHERE product_id = ? AND name = ?",
                arguments: [productID, name]) ?? 0
            let record = ProductFileRecord(
                id: id, productID: productID, name: name, version: latest + 1, size: size, sha256: sha256, createdAt: now)
            try record.insert(db)
            if record.version > 1 {
                // Owners hear of the new version (in the file's own transaction: never lost).
                try JobQueue(database: self).enqueue(
                    kind: DeliveryJobKind.fileUpdateNotice, payload: ["file_id": record.id],
                    dedupeKey: "\(DeliveryJobKind.fileUpdateNotice):\(record.id)", in: db)
            }
            return record.file
        }
    }

    /// The latest version of each file of a product, by name.
    public func currentFiles(productID: String) async throws -> [ProductFile] {
        try await writer.read { db in
            try ProductFileRecord.fetchAll(
                db,
                sql: """
                    SELECT f.* FROM product_files f
                    WHERE f.product_id = ? AND f.version = (
                        SELECT MAX(version) FROM product_files g WHERE g.product_id = f.product_id AND g.name = f.name)
                    ORDER BY f.name
                    """, arguments: [productID]
            ).map(\.file)
        }
    }

    // MARK: Pages

    public func upsertPage(_ page: ProductPage) async throws -> ProductPage {
        let record = ProductPageRecord(
            productID: page.productID, slug: page.slug, title: page.title, body: page.body, bodyHTML: page.bodyHTML,
            updatedAt: clock.now())
        try await writer.write { db in try record.upsert(db) }
        return record.page
    }

    public func pages(productID: String) async throws -> [ProductPage] {
        try await writer.read { db in
            try ProductPageRecord.filter(Column("product_id") == productID).order(Column("slug")).fetchAll(db).map(\.page)
        }
    }

    public func page(productID: String, slug: String) async throws -> ProductPage? {
        try await writer.read { db in
            try ProductPageRecord.filter(Column("product_id") == productID && Column("slug") == slug).fetchOne(db)?.page
        }
    }

    // MARK: Helpers shared with Search

    static let productSelect = """
        SELECT \(ProductRecord.selectColumns), u.name AS seller_name, \(ProductSearchQuery.sellerListed) AS seller_listed,
               p.deleted_at AS deleted_at
        FROM products p JOIN users u ON u.id = p.seller_id
        """

    static func product(id: String, includingDeleted: Bool = false, in db: Database) throws -> Product? {
        let live = includingDeleted ? "" : " AND p.deleted_at IS NULL"
        return try fetchProducts(db, sql: "\(productSelect) WHERE p.id = ?\(live)", arguments: [id]).first
    }

    static func fetchProducts(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Product] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            var product = ProductRecord(row: row).product(sellerName: row["seller_name"])
            product.sellerListed = row["seller_listed"]
            product.deletedAt = row["deleted_at"]
            return product
        }
    }

    private static func uniqueSlug(_ base: String, excluding id: String, in db: Database) throws -> String {
        var candidate = base
        var counter = 2
        while try Bool.fetchOne(
            db, sql: "SELECT EXISTS(SELECT 1 FROM products WHERE slug = ? AND id != ?)", arguments: [candidate, id]) ?? false
        {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        return candidate
    }
}

extension AppDatabase {
    /// Inserts a batch of products (the demo catalog, imports) with their reviews, in one
    /// transaction. The products' rating figures must be those the reviews make
    /// (`ReviewDecision.summary`): later review writes recompute them from the rows.
    public func insertProducts(_ products: [Product], reviews: [Review] = []) async throws {
        try await writer.write { db in
            for product in products {
                try ProductRecord(product).insert(db)
                try SearchIndex.sync(productID: product.id, in: db)
            }
            for review in reviews { try ReviewRecord(review).insert(db) }
            try SearchIndex.pruneChanges(in: db)
        }
    }

    /// Sets the rating figures directly, without reviews (test set-ups of rating filters). A
    /// review's write recomputes them from the product's visible reviews (AppDatabase+Reviews).
    public func setRating(productID: String, average: Double, count: Int) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE products SET rating_avg = ?, rating_count = ? WHERE id = ?",
                arguments: [average, count, productID])
        }
    }
}
