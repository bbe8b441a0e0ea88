import GRDB

extension Migrations {
    static func registerNotifications(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v14-notifications") { db in
            // Rebuilt with `seq`, the live stream's event id: it only grows (AUTOINCREMENT), and an
            // INTEGER PRIMARY KEY is never renumbered by VACUUM or a restore, so a client's
            // Last-Event-ID still means the same place after either. The kinds become the dotted
            // names the API and the stream publish.
            try db.create(table: "notifications_v14") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("id", .text).notNull().unique()
                t.column("user_id", .text).notNull().references("users", onDelete: .cascade)
                t.column("type", .text).notNull()
                t.column("title", .text).notNull()
                t.column("body", .text).notNull()
                t.column("url", .text)
                t.column("dedupe_key", .text).unique()
                t.column("created_at", .datetime).notNull()
                t.column("read_at", .datetime)
            }
            try db.execute(
                sql: """
                    INSERT INTO notifications_v14 (id, user_id, type, title, body, url, dedupe_key, created_at, read_at)
                    SELECT id, user_id,
                           CASE type WHEN 'order_paid' THEN 'order.fulfilled' WHEN 'new_sale' THEN 'order.paid'
                                     WHEN 'refund' THEN 'order.refunded' WHEN 'new_review' THEN 'review.created'
                                     WHEN 'file_update' THEN 'file.updated' WHEN 'payment_mismatch' THEN 'payment.mismatch'
                                     ELSE type END,
                           title, body, url, dedupe_key, created_at, read_at
                    FROM notifications ORDER BY created_at, rowid
                    """)
            try db.drop(table: "notifications")
            try db.rename(table: "notifications_v14", to: "notifications")
            try db.create(index: "notifications_user", on: "notifications", columns: ["user_id", "seq"])
            // The bell counts a user's unread notices on every page they open: this index holds
            // only unread rows, so the count stays small however many a user has read.
            try db.execute(sql: "CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL")

            // The e-mails a user turned off, one row per notification type (the rest follow
            // their defaults, so a new type needs no row).
            try db.create(table: "email_preferences") { t in
                t.column("user_id", .text).notNull().references("users", onDelete: .cascade)
                t.column("type", .text).notNull()
                t.column("muted_at", .datetime).notNull()
                t.primaryKey(["user_id", "type"])
            }

            // Why a seller was rejected or suspended, shown to them.
            try db.alter(table: "users") { t in t.add(column: "seller_status_reason", .text) }
        }
    }
}

extension Migrations {
    /// Each person's unread notifications counted by triggers, so the bell on every signed-in
    /// page reads one row: a seller with 100,000 sales has 100,000 sale notices, and counting
    /// them took 3–4 ms on each page once the store had changed since the last count.
    static func registerUnreadCounts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v33-unread-notification-counts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE unread_notification_counts (user_id TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO unread_notification_counts (user_id, count)
                        SELECT user_id, COUNT(*) FROM notifications WHERE read_at IS NULL GROUP BY user_id;
                    CREATE TRIGGER notifications_unread_insert AFTER INSERT ON notifications WHEN NEW.read_at IS NULL BEGIN
                        INSERT INTO unread_notification_counts (user_id, count) VALUES (NEW.user_id, 1)
                            ON CONFLICT DO UPDATE SET count = count + 1;
                    END;
                    CREATE TRIGGER notifications_unread_read AFTER UPDATE OF read_at ON notifications
                    WHEN (OLD.read_at IS NULL) != (NEW.read_at IS NULL) BEGIN
                        INSERT INTO unread_notification_counts (user_id, count)
                            VALUES (NEW.user_id, CASE WHEN NEW.read_at IS NULL THEN 1 ELSE -1 END)
                            ON CONFLICT DO UPDATE SET count = count + excluded.count;
                    END;
                    CREATE TRIGGER notifications_unread_delete AFTER DELETE ON notifications WHEN OLD.read_at IS NULL BEGIN
                        UPDATE unread_notification_counts SET count = count - 1 WHERE user_id = OLD.user_id;
                    END;
                    """)
        }
    }
}
