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
            try MagicLinkRecord(
                tokenHash: tokenHash, userID: userID, redirect: redirect, createdAt: now,
                expiresAt: now.addingTimeInterval(lifetime), usedAt: nil, revokedAt: nil
            ).insert(db)
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
                let link = try MagicLinkRecord.fetchOne(db, key: tokenHash),
                let user = try UserRecord.fetchOne(db, key: link.userID), !user.disabled
            else { return nil }
            return (user.user, link.redirect)
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
            var request = NotificationRecord.filter(NotificationRecord.Columns.userID == userID)
            if unreadOnly { request = request.filter(NotificationRecord.Columns.readAt == nil) }
            return try request.order(NotificationRecord.Columns.createdAt.desc, NotificationRecord.Columns.id.desc)
                .limit(limit).fetchAll(db).map(\.notification)
        }
    }

    /// Marks one of the user's notifications read and returns it; nil when it is not theirs.
    public func markNotificationRead(id: String, userID: String) async throws -> UserNotification? {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
                arguments: [now, id, userID])
            return try NotificationRecord.filter(
                NotificationRecord.Columns.id == id && NotificationRecord.Columns.userID == userID
            ).fetchOne(db)?.notification
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
