import Foundation
import GRDB
import SoukCore

/// What fulfilling an order did.
public struct Fulfilment: Sendable, Equatable {
    public var order: Order
    /// Keys issued by this run (empty when an earlier run issued them).
    public var issuedKeys: [LicenseKey]
    /// False when the order had been fulfilled before: nothing changed.
    public var isNew: Bool
}

/// Delivery: fulfilment (license keys, notifications), the library, downloads, licenses, magic
/// sign-in links and in-app notifications.
extension AppDatabase {
    // MARK: Fulfilment

    /// Delivers a paid order in one transaction, as `FulfilmentDecision` plans it: one license
    /// key per unit of each `license` line (with the product's activation limit), the order
    /// marked fulfilled (`paid → fulfilled`; a partly refunded or disputed order keeps its
    /// status), in-app notices to the buyer and the sellers, and the `followUps` jobs (the
    /// receipt). Idempotent: a second run changes nothing. Returns nil when the order is not paid
    /// up (or its access was revoked).
    public func fulfil(orderID: String, followUps: [JobRequest]) async throws -> Fulfilment? {
        let now = clock.now()
        let ids = self.ids
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            guard let order = try Self.order(id: orderID, in: db) else { return nil }
            let fulfilledBefore =
                try Date.fetchOne(db, sql: "SELECT fulfilled_at FROM orders WHERE id = ?", arguments: [orderID]) != nil
            var grants: [String: String] = [:]
            var limits: [String: Int] = [:]
            for item in order.items where item.kind == .license {
                grants[item.id] = try String.fetchOne(
                    db, sql: "SELECT id FROM grants WHERE order_item_id = ? AND revoked_at IS NULL", arguments: [item.id])
                limits[item.productID] = try Int.fetchOne(
                    db, sql: "SELECT activation_limit FROM products WHERE id = ?", arguments: [item.productID])
            }
            let plan = FulfilmentDecision.plan(
                order: order, fulfilledBefore: fulfilledBefore, activeGrants: grants, activationLimits: limits,
                followUps: followUps)
            switch plan {
            case .nothing:
                return nil
            case .catchUp(let markFulfilled):
                if markFulfilled { try Self.setStatus(orderID, from: order.status, to: .fulfilled, now: now, in: db) }
                return Fulfilment(order: try Self.order(id: orderID, in: db)!, issuedKeys: [], isNew: false)
            case .deliver(let keys, let markFulfilled, let notices, let followUps):
                var issued: [LicenseKey] = []
                for planned in keys {
                    let id = ids.make(.license)
                    try db.execute(
                        sql: """
                            INSERT INTO license_keys (id, key, grant_id, order_id, product_id, user_id, unit, status,
                                                      activation_limit, created_at, updated_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) ON CONFLICT (grant_id, unit) DO NOTHING
                            """,
                        arguments: [
                            id, LicenseKeyFormat.make(), planned.grantID, orderID, planned.productID, order.buyerID,
                            planned.unit, planned.seats, now, now,
                        ])
                    if db.changesCount == 1, let key = try Self.licenseKey(sql: "id = ?", id, in: db) { issued.append(key) }
                }
                try db.execute(sql: "UPDATE orders SET fulfilled_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, orderID])
                if markFulfilled { try Self.setStatus(orderID, from: order.status, to: .fulfilled, now: now, in: db) }
                for notice in notices { try Self.notify(notice, now: now, ids: ids, in: db) }
                for job in followUps { try queue.enqueue(job, in: db) }
                return Fulfilment(order: try Self.order(id: orderID, in: db)!, issuedKeys: issued, isNew: true)
            }
        }
    }

    /// `fulfilled → completed`, once every delivery step has succeeded (the receipt was accepted).
    @discardableResult
    public func completeOrder(id: String) async throws -> Bool {
        let now = clock.now()
        return try await writer.write { db in
            guard let order = try Self.order(id: id, in: db), order.status == .fulfilled else { return false }
            try Self.setStatus(id, from: .fulfilled, to: .completed, now: now, in: db)
            return true
        }
    }

    // MARK: Library

    /// Every product `userID` holds an active grant for, newest purchase first, with the latest
    /// version of each file and the whole downloads left under `defaultLimit` (a product's own
    /// `download_limit` wins; 0 means unlimited), counted in bytes (`DownloadBudget`).
    public func library(userID: String, defaultDownloadLimit: Int) async throws -> [LibraryEntry] {
        try await writer.read { db in
            let grants = try Row.fetchAll(
                db,
                sql: """
                    SELECT g.id, g.order_id, g.product_id, g.created_at FROM grants g
                    WHERE g.user_id = ? AND g.revoked_at IS NULL ORDER BY g.created_at DESC, g.id
                    """, arguments: [userID])
            return try grants.compactMap { grant in
                try Self.libraryEntry(grant, defaultDownloadLimit: defaultDownloadLimit, in: db)
            }
        }
    }

    /// One entry of the library, by product (the latest active grant), or nil if not owned.
    public func libraryEntry(userID: String, productID: String, defaultDownloadLimit: Int) async throws -> LibraryEntry? {
        try await writer.read { db in
            guard
                let grant = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, order_id, product_id, created_at FROM grants
                        WHERE user_id = ? AND product_id = ? AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1
                        """, arguments: [userID, productID])
            else { return nil }
            return try Self.libraryEntry(grant, defaultDownloadLimit: defaultDownloadLimit, in: db)
        }
    }

    private static func libraryEntry(_ grant: Row, defaultDownloadLimit: Int, in db: Database) throws -> LibraryEntry? {
        let grantID: String = grant["id"]
        guard let product = try product(id: grant["product_id"], in: db) else { return nil }
        let limit = product.downloadLimit ?? defaultDownloadLimit
        let files = try ProductFileRecord.fetchAll(
            db,
            sql: """
                SELECT f.* FROM product_files f
                WHERE f.product_id = ? AND f.version = (
                    SELECT MAX(version) FROM product_files g WHERE g.product_id = f.product_id AND g.name = f.name)
                ORDER BY f.name
                """, arguments: [product.id]
        ).map { record -> LibraryEntry.File in
            let budget = try downloadBudget(grantID: grantID, fileID: record.id, limit: limit, fileSize: record.size, in: db)
            return LibraryEntry.File(file: record.file, downloadsLeft: budget.downloadsLeft)
        }
        let keys = try licenseKeys(sql: "grant_id = ?", grantID, in: db)
        let pages = try ProductPageRecord.fetchAll(
            db, sql: "SELECT * FROM product_pages WHERE product_id = ? ORDER BY slug", arguments: [product.id]
        ).map(\.page)
        return LibraryEntry(
            grantID: grantID, orderID: grant["order_id"], product: product, files: files, licenseKeys: keys, pages: pages,
            purchasedAt: grant["created_at"])
    }

    // MARK: Downloads

    /// A grant with its product, when it exists and is not revoked.
    public func activeGrant(id: String) async throws -> AccessGrant? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ? AND revoked_at IS NULL", arguments: [id])
                .map(AccessGrant.init)
        }
    }

    public func file(id: String) async throws -> ProductFile? {
        try await writer.read { db in try ProductFileRecord.fetchOne(db, key: id)?.file }
    }

    /// Downloads of a product's files, newest first (the seller's and the admin's log).
    public func downloadLog(productID: String, limit: Int = 500) async throws -> [DownloadRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, COALESCE(d.sent, d.reserved) - d.credited AS bytes,
                           f.name AS file_name, f.version AS file_version, u.email AS user_email
                    FROM downloads d JOIN product_files f ON f.id = d.file_id JOIN users u ON u.id = d.user_id
                    WHERE f.product_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?
                    """, arguments: [productID, limit]
            ).map(DownloadRecord.init)
        }
    }

    // MARK: Licenses

    public func licenseKey(_ key: String) async throws -> LicenseKey? {
        try await writer.read { db in try Self.licenseKey(sql: "key = ?", key, in: db) }
    }

    /// The keys one order issued (for its receipt).
    public func licenseKeys(orderID: String) async throws -> [LicenseKey] {
        try await writer.read { db in try Self.licenseKeys(sql: "order_id = ?", orderID, in: db) }
    }

    public func licenseKeys(productID: String) async throws -> [LicenseKey] {
        try await writer.read { db in try Self.licenseKeys(sql: "product_id = ?", productID, in: db) }
    }

    /// Activates `key` on a new instance, atomically against its limit. Throws `notFound` for an
    /// unknown key, `forbidden` for a key that is not usable (disabled, revoked, expired) and
    /// `conflict` when every seat is taken.
    public func activateLicense(key: String, instanceName: String) async throws -> (LicenseKey, LicenseActivation) {
        let now = clock.now()
        let id = ids.make(.activation)
        return try await writer.write { db in
            guard let license = try Self.licenseKey(sql: "key = ?", key, in: db) else {
                throw SoukError.notFound("The license key")
            }
            let status = license.status(at: now)
            guard status.isUsable else { throw SoukError(.forbidden, "This license key is \(status.rawValue).") }
            guard license.hasFreeSeat else {
                throw SoukError(
                    .conflict,
                    "This license key has reached its activation limit (\(license.activationLimit ?? 0)). Deactivate it on another device first.")
            }
            try db.execute(
                sql: "INSERT INTO license_activations (id, license_id, instance_name, created_at) VALUES (?, ?, ?, ?)",
                arguments: [id, license.id, instanceName, now])
            let activation = LicenseActivation(id: id, instanceName: instanceName, createdAt: now)
            return (try Self.licenseKey(sql: "id = ?", license.id, in: db)!, activation)
        }
    }

    /// Frees a seat. Throws `notFound` for an unknown key or an instance not active on it.
    public func deactivateLicense(key: String, instanceID: String) async throws -> LicenseKey {
        let now = clock.now()
        return try await writer.write { db in
            guard let license = try Self.licenseKey(sql: "key = ?", key, in: db) else {
                throw SoukError.notFound("The license key")
            }
            try db.execute(
                sql: "UPDATE license_activations SET deactivated_at = ? WHERE id = ? AND license_id = ? AND deactivated_at IS NULL",
                arguments: [now, instanceID, license.id])
            guard db.changesCount == 1 else { throw SoukError.notFound("The instance \(instanceID) of this license key") }
            return try Self.licenseKey(sql: "id = ?", license.id, in: db)!
        }
    }

    /// The seller turns a key off (`disabled`) or on again (`active`). A revoked key stays revoked.
    public func setLicenseEnabled(key: String, _ enabled: Bool) async throws -> LicenseKey {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE license_keys SET status = ?, updated_at = ? WHERE key = ? AND status != 'revoked'",
                arguments: [enabled ? "active" : "disabled", now, key])
            guard let license = try Self.licenseKey(sql: "key = ?", key, in: db) else { throw SoukError.notFound("The license key") }
            return license
        }
    }

    static func licenseKey(sql condition: String, _ argument: String, in db: Database) throws -> LicenseKey? {
        try licenseKeys(sql: condition, argument, in: db).first
    }

    static func licenseKeys(sql condition: String, _ argument: String, in db: Database) throws -> [LicenseKey] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM license_keys WHERE \(condition) ORDER BY created_at, unit", arguments: [argument])
        return try rows.map { row in
            let id: String = row["id"]
            let activations = try Row.fetchAll(
                db,
                sql: "SELECT * FROM license_activations WHERE license_id = ? AND deactivated_at IS NULL ORDER BY created_at, id",
                arguments: [id]
            ).map { LicenseActivation(id: $0["id"], instanceName: $0["instance_name"], createdAt: $0["created_at"]) }
            return LicenseKey(
                id: id, key: row["key"], grantID: row["grant_id"], orderID: row["order_id"], productID: row["product_id"],
                userID: row["user_id"], storedStatus: LicenseKey.StoredStatus(rawValue: row["status"]) ?? .disabled,
                activationLimit: row["activation_limit"], expiresAt: row["expires_at"], createdAt: row["created_at"],
                activations: activations)
        }
    }

    // MARK: Magic links

    /// Stores a sign-in link (its token only as a hash) that works once, until `expiresAt`.
    public func insertMagicLink(tokenHash: String, userID: String, redirect: String, lifetime: TimeInterval) async throws {
        let now = clock.now()
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO magic_links (token_hash, user_id, redirect, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [tokenHash, userID, redirect, now, now.addingTimeInterval(lifetime)])
        }
    }

    /// Uses a sign-in link: the user and where to go, or nil when unknown, used, voided or expired.
    public func consumeMagicLink(tokenHash: String) async throws -> (User, String)? {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE magic_links SET used_at = ?
                    WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
                    """,
                arguments: [now, tokenHash, now])
            guard db.changesCount == 1,
                let row = try Row.fetchOne(
                    db, sql: "SELECT user_id, redirect FROM magic_links WHERE token_hash = ?", arguments: [tokenHash]),
                let user = try UserRecord.fetchOne(db, key: row["user_id"] as String), !user.disabled
            else { return nil }
            return (user.user, row["redirect"])
        }
    }

    // MARK: Notifications

    /// Adds an in-app notification in the caller's transaction; a repeated `dedupeKey` adds nothing.
    static func notify(
        userID: String, type: String, title: String, body: String, url: String?, dedupeKey: String?, now: Date,
        ids: any IDGenerator, in db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO notifications (id, user_id, type, title, body, url, dedupe_key, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING
                """, arguments: [ids.make(.notification), userID, type, title, body, url, dedupeKey, now])
    }

    /// Stores a notice a decision asked for (once per dedupe key).
    static func notify(_ notice: Notice, now: Date, ids: any IDGenerator, in db: Database) throws {
        try notify(
            userID: notice.userID, type: notice.type, title: notice.title, body: notice.body, url: notice.url,
            dedupeKey: notice.dedupeKey, now: now, ids: ids, in: db)
    }

    public func notify(userID: String, type: String, title: String, body: String, url: String?, dedupeKey: String?)
        async throws
    {
        let now = clock.now()
        let ids = self.ids
        try await writer.write { db in
            try Self.notify(
                userID: userID, type: type, title: title, body: body, url: url, dedupeKey: dedupeKey, now: now, ids: ids,
                in: db)
        }
    }

    public func notifications(userID: String, unreadOnly: Bool = false, limit: Int = 50) async throws -> [UserNotification] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM notifications WHERE user_id = ? \(unreadOnly ? "AND read_at IS NULL" : "")
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """, arguments: [userID, limit]
            ).map(Self.notification)
        }
    }

    private static func notification(_ row: Row) -> UserNotification {
        UserNotification(
            id: row["id"], userID: row["user_id"], type: row["type"], title: row["title"], body: row["body"], url: row["url"],
            createdAt: row["created_at"], readAt: row["read_at"])
    }

    /// Marks one of the user's notifications read and returns it; nil when it is not theirs.
    public func markNotificationRead(id: String, userID: String) async throws -> UserNotification? {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
                arguments: [now, id, userID])
            return try Row.fetchOne(db, sql: "SELECT * FROM notifications WHERE id = ? AND user_id = ?", arguments: [id, userID])
                .map(Self.notification)
        }
    }

    // MARK: Owners

    /// Everyone holding an active grant for a product (for new-version notices), one row per user.
    public func owners(productID: String) async throws -> [User] {
        try await writer.read { db in
            try UserRecord.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT u.* FROM users u JOIN grants g ON g.user_id = u.id
                    WHERE g.product_id = ? AND g.revoked_at IS NULL AND NOT u.disabled ORDER BY u.id
                    """, arguments: [productID]
            ).map(\.user)
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

    init(row: Row) {
        id = row["id"]
        grantID = row["grant_id"]
        fileID = row["file_id"]
        fileName = row["file_name"]
        fileVersion = row["file_version"]
        userID = row["user_id"]
        userEmail = row["user_email"]
        ip = row["ip"]
        userAgent = row["user_agent"]
        firstByte = row["first_byte"]
        bytes = row["bytes"]
        createdAt = row["created_at"]
    }
}
