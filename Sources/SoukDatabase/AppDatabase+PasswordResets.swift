import Foundation
import GRDB
import SoukCore

/// "Forgot password" and "e-mail me a sign-in link": the requests (queued e-mails) and the
/// password reset links they carry.
extension AppDatabase {
    /// What an e-mailed request may ask for.
    public enum AccountMailRequest: Sendable {
        case passwordReset, signInLink

        var kind: MailJob.Kind { self == .passwordReset ? .passwordReset : .signInLink }
    }

    /// Queues the e-mail for the account with this (normalised) address, if there is one that is
    /// not disabled; true when queued. At most one such e-mail per account and kind per minute
    /// (a repeated request within the minute is the same job), so the form cannot flood an inbox.
    @discardableResult
    public func requestAccountMail(_ request: AccountMailRequest, email: String) async throws -> Bool {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            guard let user = try UserRecord.filter(UserRecord.Columns.email == email).fetchOne(db), !user.disabled
            else { return false }
            let minute = Int(now.timeIntervalSince1970 / 60)
            try JobQueue.enqueue(
                JobRequest(
                    kind: DeliveryJobKind.email, payload: MailJob(kind: request.kind, userID: user.id),
                    dedupeKey: "\(request.kind.rawValue):\(user.id):\(minute)"),
                now: now, ids: ids, in: db)
            return true
        }
    }

    /// Stores a password reset link (its token only as a hash) that works once, within `lifetime`.
    public func insertPasswordReset(tokenHash: String, userID: String, lifetime: TimeInterval) async throws {
        let now = clock.now()
        try await writer.write { db in
            try PasswordResetRecord(
                tokenHash: tokenHash, userID: userID, createdAt: now, expiresAt: now.addingTimeInterval(lifetime), usedAt: nil
            ).insert(db)
        }
    }

    /// Whether a reset link would still set a password (unused, unexpired, its account enabled).
    public func isLivePasswordReset(tokenHash: String) async throws -> Bool {
        let now = clock.now()
        return try await writer.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT 1 FROM password_resets r JOIN users u ON u.id = r.user_id
                    WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ? AND u.disabled = 0
                    """, arguments: [tokenHash, now]) ?? false
        }
    }

    /// Uses a reset link: sets the new password hash and ends every credential of the account
    /// (sessions, tokens, sign-in links, other reset links), all in one transaction. Nil when the
    /// link is unknown, used, expired or its account disabled — then nothing changes.
    public func resetPassword(tokenHash: String, passwordHash: String) async throws -> User? {
        let now = clock.now()
        return try await writer.write { db in
            guard
                let userID = try String.fetchOne(
                    db,
                    sql: "SELECT user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                    arguments: [tokenHash, now]),
                var record = try UserRecord.fetchOne(db, key: userID), !record.disabled
            else { return nil }
            try db.execute(sql: "UPDATE password_resets SET used_at = ? WHERE token_hash = ?", arguments: [now, tokenHash])
            record.passwordHash = passwordHash
            record.updatedAt = now
            try record.update(db)
            try Self.endCredentials(userID: userID, now: now, in: db)
            return record.user
        }
    }
}
