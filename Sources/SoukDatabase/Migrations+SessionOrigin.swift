import GRDB

extension Migrations {
    static func registerSessionOrigin(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11-session-origin") { db in
            // How a session was made: a sign-in link's session is short-lived (SessionOrigin).
            try db.execute(
                sql: """
                    ALTER TABLE sessions ADD COLUMN origin TEXT NOT NULL DEFAULT 'password'
                        CHECK (origin IN ('password', 'link'))
                    """)
            // Live sessions from before: one started within seconds after its user used a sign-in
            // link came from that link (the link route starts it right after marking the link
            // used). It becomes a link session, capped at a day from its start.
            try db.execute(
                sql: """
                    UPDATE sessions SET origin = 'link',
                        expires_at = MIN(expires_at, strftime('%Y-%m-%d %H:%M:%f', created_at, '+1 day'))
                    WHERE EXISTS (
                        SELECT 1 FROM magic_links m WHERE m.user_id = sessions.user_id AND m.used_at IS NOT NULL
                            AND julianday(m.used_at) BETWEEN julianday(sessions.created_at) - 5.0 / 86400
                                AND julianday(sessions.created_at) + 1.0 / 86400)
                    """)
            // A sign-in link voided before use (password reset, disabled account, "sign out
            // everywhere") is kept with the time it was voided, so using it can say why it fails.
            try db.execute(sql: "ALTER TABLE magic_links ADD COLUMN revoked_at DATETIME")
        }
    }
}
