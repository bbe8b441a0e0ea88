import Foundation
import GRDB
import SoukCore

/// What a user changes about their own account: name, password, e-mail address (confirmed from
/// the new inbox), and deleting it. Each change is one transaction.
extension AppDatabase {
    public func setName(userID: String, _ name: String) async throws -> User {
        try await updateUser(.id(userID)) { record, db, _ in
            let renamed = record.name != name
            record.name = name
            if renamed && record.role != Role.buyer.rawValue {
                try record.update(db)  // first, so the search indexes read the new name
                try SearchIndex.syncSeller(record.id, in: db)
            }
        }
    }

    /// The time zone the user's browser reports (an IANA name, checked by the caller).
    public func setTimeZone(userID: String, _ zone: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE users SET time_zone = ? WHERE id = ?", arguments: [zone, userID])
        }
    }

    /// The address of the seller's page (`SellerSlug.normalize`d), or nil to go back to the
    /// page by id. Throws `conflict` when another seller has it.
    public func setSlug(userID: String, _ slug: String?) async throws -> User {
        do {
            return try await updateUser(.id(userID)) { record, _, _ in record.slug = slug }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw SoukError(.conflict, "Another seller's page is at /sellers/\(slug ?? ""); choose another address.", field: "slug")
        }
    }

    /// The seller whose page is at `/sellers/<reference>`: by chosen address, or by id.
    public func seller(pageReference reference: String) async throws -> User? {
        try await writer.read { db in
            try UserRecord.filter(sql: "slug = ? OR id = ?", arguments: [reference, reference]).fetchOne(db)?.user
        }
    }

    /// A new password hash; every session, token and link of the account ends with the old one.
    public func setPasswordHash(userID: String, _ passwordHash: String) async throws -> User {
        try await updateUser(.id(userID)) { record, db, now in
            record.passwordHash = passwordHash
            try Self.endCredentials(userID: record.id, now: now, in: db)
        }
    }

    /// Records the address to change to and queues the confirmation e-mail to it (a newer
    /// request replaces an older one). Throws `conflict` when an account has that address.
    public func requestEmailChange(userID: String, newEmail: String, lifetime: TimeInterval) async throws {
        let now = clock.now()
        let ids = self.ids
        try await writer.write { db in
            guard try UserRecord.filter(UserRecord.Columns.email == newEmail).fetchCount(db) == 0 else {
                throw SoukError(.conflict, "Another account uses \(newEmail). Sign in to that one, or choose another address.")
            }
            try db.execute(
                sql: "UPDATE email_changes SET used_at = ? WHERE user_id = ? AND used_at IS NULL", arguments: [now, userID])
            let id = ids.make(.emailChange)
            try EmailChangeRecord(
                id: id, userID: userID, newEmail: newEmail, tokenHash: nil, createdAt: now,
                expiresAt: now.addingTimeInterval(lifetime), usedAt: nil
            ).insert(db)
            try JobQueue.enqueue(
                JobRequest(
                    kind: DeliveryJobKind.email, payload: MailJob(kind: .emailChange, userID: userID),
                    dedupeKey: "email_change:\(id)"),
                now: now, ids: ids, in: db)
        }
    }

    /// For the confirmation e-mail: the user's pending new address, its link's token stored (as
    /// a hash) now. Nil when nothing is pending any more.
    public func issueEmailChangeToken(userID: String, tokenHash: String) async throws -> String? {
        let now = clock.now()
        return try await writer.write { db in
            guard
                var change = try EmailChangeRecord
                    .filter(Column("user_id") == userID && Column("used_at") == nil && Column("expires_at") > now)
                    .order(Column("created_at").desc).fetchOne(db)
            else { return nil }
            change.tokenHash = tokenHash
            try change.update(db)
            return change.newEmail
        }
    }

    /// The address a confirmation link would change to, if it still would.
    public func pendingEmailChange(tokenHash: String) async throws -> String? {
        let now = clock.now()
        return try await writer.read { db in
            try EmailChangeRecord
                .filter(Column("token_hash") == tokenHash && Column("used_at") == nil && Column("expires_at") > now)
                .fetchOne(db)?.newEmail
        }
    }

    /// Confirms a change: the account takes the new address. Nil for a link that is unknown,
    /// used, expired or replaced; `conflict` if another account took the address meanwhile.
    public func confirmEmailChange(tokenHash: String) async throws -> User? {
        let now = clock.now()
        return try await writer.write { db in
            guard
                var change = try EmailChangeRecord
                    .filter(Column("token_hash") == tokenHash && Column("used_at") == nil && Column("expires_at") > now)
                    .fetchOne(db),
                var user = try UserRecord.fetchOne(db, key: change.userID), !user.disabled
            else { return nil }
            guard try UserRecord.filter(UserRecord.Columns.email == change.newEmail).fetchCount(db) == 0 else {
                throw SoukError(.conflict, "Another account took \(change.newEmail) meanwhile. Choose another address.")
            }
            change.usedAt = now
            try change.update(db)
            user.email = change.newEmail
            user.updatedAt = now
            try user.update(db)
            return user.user
        }
    }

    /// Deletes a buyer's account: personal data goes (name, address, password, sessions, tokens,
    /// links, cart, notifications, e-mail choices, the addresses and browsers of their
    /// downloads); orders stay for the sellers' records, under an address that reaches no one;
    /// reviews stay, by "Deleted account". The row remains, disabled, so nothing dangles.
    public func deleteAccount(userID: String) async throws {
        let now = clock.now()
        try await writer.write { db in
            guard var user = try UserRecord.fetchOne(db, key: userID) else { throw SoukError.notFound("The account \(userID)") }
            let address = "deleted-\(userID)@deleted.invalid"
            user.email = address
            user.name = "Deleted account"
            user.passwordHash = "!"
            user.timeZone = nil
            user.disabled = true
            user.updatedAt = now
            try user.update(db)
            try Self.endCredentials(userID: userID, now: now, in: db)
            try db.execute(sql: "UPDATE orders SET buyer_email = ? WHERE buyer_id = ?", arguments: [address, userID])
            try db.execute(sql: "UPDATE downloads SET ip = NULL, user_agent = NULL WHERE user_id = ?", arguments: [userID])
            for table in ["carts", "notifications", "email_preferences", "email_changes", "password_resets", "magic_links"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE user_id = ?", arguments: [userID])
            }
        }
    }
}
