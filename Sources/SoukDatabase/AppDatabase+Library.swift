import Foundation
import GRDB
import SoukCore

/// The library and downloads: what a buyer holds, the files a grant reaches, the download log.
extension AppDatabase {
    // MARK: Library

    /// Every product `userID` holds an active grant for, newest purchase first, with the latest
    /// version of each file and the whole downloads left under `defaultLimit` (a product's own
    /// `download_limit` wins; 0 means unlimited), counted in bytes (`DownloadBudget`).
    public func library(userID: String, defaultDownloadLimit: Int) async throws -> [LibraryEntry] {
        try await writer.read { db in
            let grants = try GrantRecord.filter(GrantRecord.Columns.userID == userID && GrantRecord.Columns.revokedAt == nil)
                .order(GrantRecord.Columns.createdAt.desc, GrantRecord.Columns.id).fetchAll(db)
            return try Self.libraryEntries(grants, defaultDownloadLimit: defaultDownloadLimit, in: db)
        }
    }

    /// A page of the library, newest purchase first (as `library(userID:…)` orders it): the
    /// newest, or those just past `position` (a grant's id). Each entry costs a few reads (its
    /// product, files, download budgets, keys and pages), so the page asks for a page's worth,
    /// not a buyer's every purchase. A position that is not the buyer's gives the newest.
    public func library(
        userID: String, defaultDownloadLimit: Int, from position: ListPosition?, limit: Int
    ) async throws -> (entries: [LibraryEntry], from: ListPosition?) {
        try await writer.read { db in
            let live = "SELECT * FROM grants WHERE user_id = :user AND revoked_at IS NULL"
            var arguments: [String: (any DatabaseValueConvertible)?] = ["user": userID, "limit": max(0, limit)]
            var sql = "\(live) ORDER BY created_at DESC, id LIMIT :limit"
            var applied: ListPosition?
            var newestFirst = true
            if let position,
                let anchor = try Row.fetchOne(
                    db, sql: "SELECT created_at, id FROM grants WHERE id = ? AND user_id = ?", arguments: [position.id, userID])
            {
                applied = position
                arguments["at"] = anchor[0] as DatabaseValue
                arguments["id"] = anchor[1] as DatabaseValue
                if case .olderThan = position {
                    sql = "\(live) AND (created_at < :at OR (created_at = :at AND id > :id)) ORDER BY created_at DESC, id LIMIT :limit"
                } else {
                    sql = "\(live) AND (created_at > :at OR (created_at = :at AND id < :id)) ORDER BY created_at, id DESC LIMIT :limit"
                    newestFirst = false
                }
            }
            let grants = try GrantRecord.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            let entries = try Self.libraryEntries(grants, defaultDownloadLimit: defaultDownloadLimit, in: db)
            return (newestFirst ? entries : entries.reversed(), applied)
        }
    }

    /// One entry of the library, by product (the latest active grant), or nil if not owned.
    public func libraryEntry(userID: String, productID: String, defaultDownloadLimit: Int) async throws -> LibraryEntry? {
        try await writer.read { db in
            guard
                let grant = try GrantRecord.filter(
                    GrantRecord.Columns.userID == userID && GrantRecord.Columns.productID == productID
                        && GrantRecord.Columns.revokedAt == nil
                ).order(GrantRecord.Columns.createdAt.desc).fetchOne(db)
            else { return nil }
            return try Self.libraryEntry(grant, defaultDownloadLimit: defaultDownloadLimit, in: db)
        }
    }

    private static func libraryEntry(_ grant: GrantRecord, defaultDownloadLimit: Int, in db: Database) throws
        -> LibraryEntry?
    {
        try libraryEntries([grant], defaultDownloadLimit: defaultDownloadLimit, in: db).first
    }

    /// The library entries of `grants`, in their order (a grant whose product is gone has none),
    /// read together: their products, the latest version of each file, what each grant has
    /// downloaded, their keys with their seats, the products' pages and the orders' numbers,
    /// one query each, however many purchases (one entry at a time took 0.2 ms each: 2 s for a
    /// buyer with 8,000).
    private static func libraryEntries(_ grants: [GrantRecord], defaultDownloadLimit: Int, in db: Database) throws
        -> [LibraryEntry]
    {
        guard !grants.isEmpty else { return [] }
        let productIDs = try jsonList(Array(Set(grants.map(\.productID))))
        let grantIDs = try jsonList(grants.map(\.id))
        let products = Dictionary(
            try fetchProducts(db, sql: "\(productSelect) WHERE p.id IN (SELECT value FROM json_each(?))", arguments: [productIDs])
                .map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let files = Dictionary(
            grouping: try ProductFileRecord.fetchAll(
                db,
                sql: """
                    SELECT f.* FROM product_files f
                    WHERE f.product_id IN (SELECT value FROM json_each(?)) AND f.version = (
                        SELECT MAX(version) FROM product_files g WHERE g.product_id = f.product_id AND g.name = f.name)
                    ORDER BY f.product_id, f.name
                    """, arguments: [productIDs]),
            by: \.productID)
        var charged: [String: Int64] = [:]  // by "grant file"
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT grant_id, file_id, SUM(COALESCE(sent, reserved) - credited) AS charged FROM downloads
                WHERE grant_id IN (SELECT value FROM json_each(?)) GROUP BY grant_id, file_id
                """, arguments: [grantIDs])
        {
            charged["\(row["grant_id"] as String) \(row["file_id"] as String)"] = row["charged"]
        }
        let keys = Dictionary(
            grouping: try licenseKeys(sql: "grant_id IN (SELECT value FROM json_each(?))", arguments: [grantIDs], in: db),
            by: \.grantID)
        let pages = Dictionary(
            grouping: try ProductPageRecord.fetchAll(
                db, sql: "SELECT * FROM product_pages WHERE product_id IN (SELECT value FROM json_each(?)) ORDER BY product_id, slug",
                arguments: [productIDs]),
            by: \.productID)
        let numbers = Dictionary(
            try Row.fetchAll(
                db, sql: "SELECT id, number FROM orders WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [try jsonList(Array(Set(grants.map(\.orderID))))]
            ).map { ($0["id"] as String, $0["number"] as Int?) }, uniquingKeysWith: { first, _ in first })
        return grants.compactMap { grant -> LibraryEntry? in
            guard let product = products[grant.productID] else { return nil }
            let limit = product.downloadLimit ?? defaultDownloadLimit
            let entryFiles = (files[product.id] ?? []).map { record -> LibraryEntry.File in
                let budget = DownloadBudget(limit: limit, fileSize: record.size, charged: charged["\(grant.id) \(record.id)"] ?? 0)
                return LibraryEntry.File(file: record.file, downloadsLeft: budget.downloadsLeft)
            }
            return LibraryEntry(
                grantID: grant.id, orderID: grant.orderID, product: product, files: entryFiles, licenseKeys: keys[grant.id] ?? [],
                pages: (pages[product.id] ?? []).map(\.page), purchasedAt: grant.createdAt,
                orderNumber: (numbers[grant.orderID] ?? nil).map { "#\($0)" })
        }
    }

    // MARK: Downloads

    /// A grant with its product, when it exists and is not revoked.
    public func activeGrant(id: String) async throws -> AccessGrant? {
        try await writer.read { db in
            try GrantRecord.filter(GrantRecord.Columns.id == id && GrantRecord.Columns.revokedAt == nil).fetchOne(db)?.grant
        }
    }

    public func file(id: String) async throws -> ProductFile? {
        try await writer.read { db in try ProductFileRecord.fetchOne(db, key: id)?.file }
    }

    /// Downloads of a product's files, newest first (the seller's and the admin's log): `limit`
    /// from the one after `cursor` (a download id of this product's), else from the newest, as
    /// the order lists treat a cursor they did not give. Read along the product's index,
    /// whatever the number of downloads.
    public func downloadLog(productID: String, after cursor: String? = nil, limit: Int = 500) async throws -> [DownloadRecord] {
        try await writer.read { db in
            var position = ""
            var arguments: StatementArguments = [productID]
            if let cursor,
                let anchor = try Row.fetchOne(
                    db, sql: "SELECT created_at, id FROM downloads WHERE id = ? AND product_id = ?", arguments: [cursor, productID])
            {
                position = "AND (d.created_at, d.id) < (?, ?)"
                arguments += [anchor[0] as DatabaseValue, anchor[1] as DatabaseValue]
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, COALESCE(d.sent, d.reserved) - d.credited AS bytes,
                           f.name AS file_name, f.version AS file_version, u.email AS user_email
                    FROM downloads d JOIN product_files f ON f.id = d.file_id JOIN users u ON u.id = d.user_id
                    WHERE d.product_id = ? \(position) ORDER BY d.created_at DESC, d.id DESC LIMIT ?
                    """, arguments: arguments + [max(0, limit)]
            ).map(DownloadRecord.init(row:))
        }
    }
}


/// One download request that sent content, for the seller's log.
public struct DownloadRecord: Sendable, Equatable {
    public var id: String
    public var grantID: String
    public var fileID: String
    public var fileName: String
    public var fileVersion: Int
    public var userID: String
    public var userEmail: String
    public var ip: String?
    public var userAgent: String?
    /// Offset of the first byte served.
    public var firstByte: Int64
    /// Bytes charged to the download limit (see `DownloadBudget`).
    public var bytes: Int64
    public var createdAt: Date

    /// A row of the download log's join: the `downloads` row with its file's name and version,
    /// its user's e-mail and the `bytes` it was charged.
    init(row: Row) throws {
        let download = try DownloadRow(row: row)
        id = download.id
        grantID = download.grantID
        fileID = download.fileID
        fileName = row["file_name"]
        fileVersion = row["file_version"]
        userID = download.userID
        userEmail = row["user_email"]
        ip = download.ip
        userAgent = download.userAgent
        firstByte = download.firstByte
        bytes = row["bytes"]
        createdAt = download.createdAt
    }
}
