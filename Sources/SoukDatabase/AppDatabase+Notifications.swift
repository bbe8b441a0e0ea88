import Foundation
import GRDB
import SoukCore

/// Magic sign-in links, in-app notifications, and the owners of a product (who hear of its news).
extension AppDatabase {
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
