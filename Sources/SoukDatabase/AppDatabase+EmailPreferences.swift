import Foundation
import GRDB
import SoukCore

/// Which notification e-mails each user turned off.
extension AppDatabase {
    static func isMuted(userID: String, type: String, in db: Database) throws -> Bool {
        // A cached statement: every paid order's notices ask it, in the payment's transaction.
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM email_preferences WHERE user_id = ? AND type = ?)"),
            arguments: [userID, type]) ?? false
    }

    public func emailPreferences(userID: String) async throws -> EmailPreferences {
        try await writer.read { db in
            let types = try String.fetchAll(db, sql: "SELECT type FROM email_preferences WHERE user_id = ?", arguments: [userID])
            return EmailPreferences(muted: Set(types.compactMap(NotificationType.init(rawValue:))))
        }
    }

    /// Turns one type's e-mails off or on again. Idempotent.
    public func setEmailMuted(userID: String, type: NotificationType, muted: Bool) async throws {
        let now = clock.now()
        try await writer.write { db in try Self.setMuted(muted, userID: userID, type: type, now: now, in: db) }
    }

    /// Replaces the user's choices: every type of `choices` not in `wanted` is muted.
    public func setEmailPreferences(userID: String, choices: [NotificationType], wanted: Set<NotificationType>) async throws {
        let now = clock.now()
        try await writer.write { db in
            for type in choices {
                try Self.setMuted(!wanted.contains(type), userID: userID, type: type, now: now, in: db)
            }
        }
    }

    private static func setMuted(_ muted: Bool, userID: String, type: NotificationType, now: Date, in db: Database) throws {
        if muted {
            try db.execute(
                sql: "INSERT INTO email_preferences (user_id, type, muted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [userID, type.rawValue, now])
        } else {
            try db.execute(
                sql: "DELETE FROM email_preferences WHERE user_id = ? AND type = ?", arguments: [userID, type.rawValue])
        }
    }
}
