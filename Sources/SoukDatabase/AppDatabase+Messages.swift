import Foundation
import GRDB
import SoukCore

/// Order messages and the admin audit trail.
extension AppDatabase {
    /// An order's messages, oldest first, with their authors' names.
    public func orderMessages(orderID: String) async throws -> [OrderMessage] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.*, u.name AS author_name FROM order_messages m JOIN users u ON u.id = m.author_id
                    WHERE m.order_id = ? ORDER BY m.created_at, m.rowid
                    """, arguments: [orderID]
            ).map { row in
                OrderMessage(
                    id: row["id"], orderID: row["order_id"], authorID: row["author_id"], authorName: row["author_name"],
                    authorRole: OrderMessage.AuthorRole(rawValue: row["author_role"]) ?? .buyer, body: row["body"],
                    createdAt: row["created_at"])
            }
        }
    }

    /// Stores a message and tells the other side, in one transaction.
    public func postOrderMessage(_ order: Order, author: User, role: OrderMessage.AuthorRole, body: String) async throws
        -> OrderMessage
    {
        let now = clock.now()
        let ids = self.ids
        let message = OrderMessage(
            id: ids.make(.message), orderID: order.id, authorID: author.id, authorName: author.name, authorRole: role,
            body: body, createdAt: now)
        try await writer.write { db in
            try OrderMessageRecord(
                id: message.id, orderID: order.id, authorID: author.id, authorRole: role.rawValue, body: body, createdAt: now
            ).insert(db)
            for notice in OrderMessageRules.notices(for: message, in: order) {
                try Self.notify(notice, now: now, ids: ids, in: db)
            }
        }
        return message
    }

    /// Records that an admin did `action` on `subjectID` (e.g. read an order's messages).
    public func recordAdminAudit(adminID: String, action: String, subjectID: String) async throws {
        let now = clock.now()
        let id = ids.make(.adminAudit)
        try await writer.write { db in
            try AdminAuditRecord(id: id, adminID: adminID, action: action, subjectID: subjectID, createdAt: now).insert(db)
        }
    }

    /// The audit trail of one subject, oldest first: (admin id, action, time).
    public func adminAudit(subjectID: String) async throws -> [(adminID: String, action: String, at: Date)] {
        try await writer.read { db in
            try AdminAuditRecord.filter(Column("subject_id") == subjectID).order(Column("created_at")).fetchAll(db)
                .map { ($0.adminID, $0.action, $0.createdAt) }
        }
    }
}
