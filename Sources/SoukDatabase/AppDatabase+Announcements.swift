import Crypto
import Foundation
import GRDB
import SoukCore

extension AppDatabase {
    /// Notifies every active account (or every account of the announcement's audience) in one
    /// transaction. The same announcement sent again — a retried script — reaches nobody twice:
    /// each notification's dedupe key is the announcement's content and the user. Returns how
    /// many accounts were notified now.
    public func announce(_ announcement: Announcement) async throws -> Int {
        let now = clock.now()
        let ids = self.ids
        let digest = SHA256.hash(
            data: Data(
                [announcement.title, announcement.body, announcement.url ?? "", announcement.audience?.rawValue ?? "all"]
                    .joined(separator: "\u{1F}").utf8))
        let key = "announcement:" + digest.map { String(format: "%02x", $0) }.joined() + ":"
        return try await writer.write { db in
            var sql = "SELECT id FROM users WHERE disabled = 0"
            var arguments: StatementArguments = []
            if let role = announcement.audience {
                sql += " AND role = ?"
                arguments += [role.rawValue]
            }
            var notified = 0
            for user in try String.fetchAll(db, sql: sql, arguments: arguments) {
                try Self.notify(
                    userID: user, type: Announcement.type, title: announcement.title, body: announcement.body,
                    url: announcement.url, dedupeKey: key + user, now: now, ids: ids, in: db)
                notified += db.changesCount  // 0 when this user already has it
            }
            return notified
        }
    }
}
