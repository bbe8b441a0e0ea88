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
    /// With `email`, and unless the user muted the type, its e-mail is queued in the same
    /// transaction (the outbox rule: it goes out if and only if the notification exists).
    static func notify(
        userID: String, type: String, title: String, body: String, url: String?, dedupeKey: String?, email: Bool,
        now: Date, ids: any IDGenerator, in db: Database
    ) throws {
        let id = ids.make(.notification)
        try db.executeCached(
            """
            INSERT INTO notifications (id, user_id, type, title, body, url, dedupe_key, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING
            """, [id, userID, type, title, body, url, dedupeKey, now])
        guard email, db.changesCount == 1, try !isMuted(userID: userID, type: type, in: db) else { return }
        try JobQueue.enqueue(
            JobRequest(
                kind: DeliveryJobKind.email, payload: MailJob(kind: .notification, notificationID: id),
                dedupeKey: "notification_email:\(id)"),
            now: now, ids: ids, in: db)
    }

    /// Stores a notice a decision asked for (once per dedupe key).
    static func notify(_ notice: Notice, now: Date, ids: any IDGenerator, in db: Database) throws {
        try notify(
            userID: notice.userID, type: notice.type.rawValue, title: notice.title, body: notice.body, url: notice.url,
            dedupeKey: notice.dedupeKey, email: notice.email, now: now, ids: ids, in: db)
    }

    public func notify(_ notice: Notice) async throws {
        let now = clock.now()
        let ids = self.ids
        try await writer.write { db in try Self.notify(notice, now: now, ids: ids, in: db) }
    }

    /// The notification with this id, if it is the user's (nil user: anyone's, for the mailer).
    public func notification(id: String, userID: String? = nil) async throws -> UserNotification? {
        try await writer.read { db in
            guard let record = try NotificationRecord.filter(NotificationRecord.Columns.id == id).fetchOne(db),
                userID == nil || record.userID == userID
            else { return nil }
            return record.notification
        }
    }

    /// Notifications stored after event `seq`, oldest first (the live stream's source, for every user).
    public func notifications(after seq: Int64, limit: Int) async throws -> [UserNotification] {
        try await writer.read { db in
            try NotificationRecord.filter(NotificationRecord.Columns.seq > seq).order(NotificationRecord.Columns.seq)
                .limit(limit).fetchAll(db).map(\.notification)
        }
    }

    /// One user's notifications after event `seq`, oldest first (a reconnecting stream's replay).
    public func notifications(userID: String, after seq: Int64, limit: Int) async throws -> [UserNotification] {
        try await writer.read { db in
            try NotificationRecord.filter(NotificationRecord.Columns.userID == userID && NotificationRecord.Columns.seq > seq)
                .order(NotificationRecord.Columns.seq).limit(limit).fetchAll(db).map(\.notification)
        }
    }

    /// The newest event id (0 for none): where a fresh stream starts.
    public func lastNotificationSeq() async throws -> Int64 {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM notifications") ?? 0 }
    }

    public func unreadNotificationCount(userID: String) async throws -> Int {
        try await notificationBell(userID: userID).unread
    }

    /// What the bell on a page shows: the unread count, and the newest event id it includes, so
    /// the page's live stream starts after it and counts nothing twice (two indexed reads).
    /// Kept while the database is unchanged (`UnchangedReadings`): every signed-in page asks.
    public func notificationBell(userID: String) async throws -> (unread: Int, lastSeq: Int64) {
        try await notificationBell(userID: userID, since: moment())
    }

    /// The same, read no earlier than `moment` (taken by the caller, once for all its reads).
    public func notificationBell(userID: String, since moment: DatabaseMoment?) async throws -> (unread: Int, lastSeq: Int64) {
        let bell = try await bells.value(userID, moment: moment, now: clock.now()) {
            try await writer.read { db in
                // Counted by triggers (`unread_notification_counts`), not per page.
                let unread = try UnreadNotificationCountRecord.fetchOne(db, key: userID)?.count ?? 0
                let lastSeq = try Int64.fetchOne(
                    db, sql: "SELECT MAX(seq) FROM notifications WHERE user_id = ?", arguments: [userID]) ?? 0
                return NotificationBellReading(unread: unread, lastSeq: lastSeq)
            }
        }
        return (bell?.unread ?? 0, bell?.lastSeq ?? 0)
    }

    /// Marks all the user's notifications read; returns how many were unread.
    @discardableResult
    public func markAllNotificationsRead(userID: String) async throws -> Int {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", arguments: [now, userID])
            return db.changesCount
        }
    }

    public func notifications(userID: String, unreadOnly: Bool = false, limit: Int = 50) async throws -> [UserNotification] {
        try await writer.read { db in
            var request = NotificationRecord.filter(NotificationRecord.Columns.userID == userID)
            if unreadOnly { request = request.filter(NotificationRecord.Columns.readAt == nil) }
            return try request.order(NotificationRecord.Columns.seq.desc)
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

    static func activeAdminIDs(in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id")
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

/// A user's bell as last read.
struct NotificationBellReading: Sendable {
    let unread: Int
    let lastSeq: Int64
}
