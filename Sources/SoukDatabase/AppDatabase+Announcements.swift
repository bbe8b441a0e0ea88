import Crypto
import Foundation
import GRDB
import SoukCore

extension AppDatabase {
    /// Notifies every active account (or every account of the announcement's audience), a
    /// thousand accounts per transaction so the store's own writes are never kept waiting for
    /// long. The same text sent again — a retried script, or to a wider audience — reaches
    /// nobody twice: each notification's dedupe key is the announcement's content and the user.
    /// Returns how many accounts were notified now.
    public func announce(_ announcement: Announcement) async throws -> Int {
        let now = clock.now()
        let ids = self.ids
        // Length-prefixed, so no two different texts share a key.
        let content = [announcement.title, announcement.body, announcement.url ?? ""]
            .map { "\($0.utf8.count):\($0)" }.joined()
        let key = "announcement:" + Hex.encode(SHA256.hash(data: Data(content.utf8))) + ":"
        var notified = 0
        var after = ""
        while true {
            let start = after
            let batch = try await writer.write { db -> (users: Int, notified: Int, last: String?) in
                var sql = "SELECT id FROM users WHERE disabled = 0 AND id > ?"
                var arguments: StatementArguments = [start]
                if let role = announcement.audience {
                    sql += " AND role = ?"
                    arguments += [role.rawValue]
                }
                let users = try String.fetchAll(db, sql: sql + " ORDER BY id LIMIT 1000", arguments: arguments)
                var count = 0
                for user in users {
                    try Self.notify(
                        userID: user, type: NotificationType.announcement.rawValue, title: announcement.title,
                        body: announcement.body, url: announcement.url, dedupeKey: key + user,
                        email: NotificationType.announcement.emailedByDefault, now: now, ids: ids, in: db)
                    count += db.changesCount  // 0 when this user already has it
                }
                return (users.count, count, users.last)
            }
            notified += batch.notified
            guard batch.users == 1000, let last = batch.last else { return notified }
            after = last
        }
    }
}
