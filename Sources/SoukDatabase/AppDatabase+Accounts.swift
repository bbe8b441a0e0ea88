import Foundation
import GRDB
import SoukCore

/// Named reads and writes for users, sessions and personal access tokens.
extension AppDatabase {
    // MARK: Users

    /// Inserts a new user. Throws `conflict` (field `email`) if the e-mail is already registered.
    public func insertUser(email: String, name: String, passwordHash: String, role: Role) async throws -> User {
        let now = clock.now()
        let record = UserRecord(
            id: ids.make(.user), email: email, name: name, passwordHash: passwordHash, role: role.rawValue,
            // Admins are the operator: they never wait for verification.
            sellerStatus: role == .seller ? SellerStatus.pending.rawValue : (role == .admin ? SellerStatus.verified.rawValue : nil),
            sellerStatusReason: nil, disabled: false, createdAt: now, updatedAt: now)
        let ids = self.ids
        do {
            try await writer.write { db in
                try record.insert(db)
                if role == .seller {
                    for admin in try Self.activeAdminIDs(in: db) {
                        try Self.notify(SellerStatusNotices.awaitingVerification(record.user, adminID: admin), now: now, ids: ids, in: db)
                    }
                }
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw SoukError(.conflict, "An account with this e-mail address already exists.", field: "email")
        }
        return record.user
    }

    public func user(id: String) async throws -> User? {
        try await writer.read { db in try UserRecord.fetchOne(db, key: id)?.user }
    }

    /// The account with this (normalised) e-mail address.
    public func user(email: String) async throws -> User? {
        try await userRecord(email: email)?.user
    }

    /// The account and its password hash, for sign-in.
    public func signInCredentials(email: String) async throws -> (user: User, passwordHash: String)? {
        try await userRecord(email: email).map { ($0.user, $0.passwordHash) }
    }

    /// The stored row, including the password hash.
    func userRecord(email: String) async throws -> UserRecord? {
        try await writer.read { db in
            try UserRecord.filter(UserRecord.Columns.email == email).fetchOne(db)
        }
    }

    /// Users, oldest first, optionally only one role and/or seller status.
    public func users(role: Role? = nil, sellerStatus: SellerStatus? = nil) async throws -> [User] {
        try await writer.read { db in
            var request = UserRecord.order(UserRecord.Columns.createdAt, UserRecord.Columns.id)
            if let role { request = request.filter(UserRecord.Columns.role == role.rawValue) }
            if let sellerStatus { request = request.filter(UserRecord.Columns.sellerStatus == sellerStatus.rawValue) }
            return try request.fetchAll(db).map(\.user)
        }
    }

    /// One page of accounts for the admin pages, newest first: `limit` rows from `offset`, only
    /// those whose e-mail contains `emailContains` (case-insensitive) and/or with `role`. The
    /// store may hold many accounts, so a page never reads more than it shows (plus the offset).
    public func users(emailContains: String?, role: Role?, limit: Int, offset: Int) async throws -> [User] {
        try await writer.read { db in
            try Self.users(emailContains: emailContains, role: role, in: db)
                .limit(max(0, limit), offset: max(0, offset)).fetchAll(db).map(\.user)
        }
    }

    /// The ids of up to `limit` accounts whose address holds `text`, newest first (a seller
    /// looking up a customer's license keys).
    static func userIDs(emailContains text: String, limit: Int, in db: Database) throws -> [String] {
        try users(emailContains: text, role: nil, in: db).limit(limit).fetchAll(db).map(\.id)
    }

    /// Accounts newest first, only those whose address holds `text` (any case) and/or with `role`.
    private static func users(emailContains text: String?, role: Role?, in db: Database) throws -> QueryInterfaceRequest<UserRecord> {
        var request = UserRecord.order(UserRecord.Columns.createdAt.desc, UserRecord.Columns.id.desc)
        if let role { request = request.filter(UserRecord.Columns.role == role.rawValue) }
        guard let text, !text.isEmpty else { return request }
        // instr() rather than LIKE: `%` and `_` in what the admin typed are plain characters.
        request = request.filter(sql: "instr(lower(email), lower(?)) > 0", arguments: [text])
        if text.unicodeScalars.count >= 3 {
            // The addresses holding the text, from the trigram index (a phrase: quotes doubled)
            // when they are few; text most addresses hold ("example") is found sooner by reading
            // the newest accounts until the page is full.
            let phrase = "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let few = 2_000
            let ids = try String.fetchAll(
                db, sql: "SELECT user_id FROM user_emails WHERE user_emails MATCH ? LIMIT ?", arguments: [phrase, few + 1])
            if ids.count <= few {
                request = request.filter(sql: "id IN (SELECT value FROM json_each(?))", arguments: [try jsonList(ids)])
            }
        }
        return request
    }

    /// One page of seller accounts in one status, those waiting longest first (for the admin's
    /// sellers page, which starts with the pending ones).
    public func sellers(status: SellerStatus, limit: Int, offset: Int) async throws -> [User] {
        try await writer.read { db in
            try UserRecord.filter(UserRecord.Columns.role == Role.seller.rawValue)
                .filter(UserRecord.Columns.sellerStatus == status.rawValue)
                .order(UserRecord.Columns.createdAt, UserRecord.Columns.id)
                .limit(max(0, limit), offset: max(0, offset)).fetchAll(db).map(\.user)
        }
    }

    /// How many seller accounts are in each status (every status present, zero included).
    public func sellerCounts() async throws -> [SellerStatus: Int] {
        try await writer.read { db in
            var counts = Dictionary(uniqueKeysWithValues: SellerStatus.allCases.map { ($0, 0) })
            let rows = try Row.fetchAll(
                db, sql: "SELECT seller_status, COUNT(*) AS n FROM users WHERE role = 'seller' GROUP BY seller_status")
            for row in rows {
                if let status = (row["seller_status"] as String?).flatMap(SellerStatus.init(rawValue:)) {
                    counts[status] = row["n"]
                }
            }
            return counts
        }
    }

    /// Sets a seller's status. Throws `notFound` for an unknown e-mail and `validationFailed` if
    /// the account is not a seller.
    /// Sets a seller's status and why (shown to them; cleared when verified), and tells them, in
    /// one transaction. Throws `notFound`, or `validationFailed` for an account that is not a seller.
    public func setSellerStatus(_ key: UserKey, _ status: SellerStatus, reason: String?) async throws -> User {
        let ids = self.ids
        return try await updateUser(key) { record, db, now in
            guard record.role == Role.seller.rawValue else {
                throw SoukError.validation(
                    "email", "\(record.email) is a \(record.role), not a seller: only seller accounts have a seller status.")
            }
            guard record.sellerStatus != status.rawValue || record.sellerStatusReason != reason else { return }
            record.sellerStatus = status.rawValue
            record.sellerStatusReason = status == .verified ? nil : reason
            if let notice = SellerStatusNotices.decided(
                record.user, status: status, reason: record.sellerStatusReason, changeID: ids.make(.notification))
            {
                try Self.notify(notice, now: now, ids: ids, in: db)
            }
        }
    }

    public func setSellerStatus(email: String, _ status: SellerStatus) async throws -> User {
        try await setSellerStatus(.email(email), status, reason: nil)
    }

    public func setDisabled(email: String, _ disabled: Bool) async throws -> User {
        try await setDisabled(.email(email), disabled)
    }

    /// Disables or re-enables an account. Disabling ends every credential of the user (sessions,
    /// personal access tokens, unused sign-in links) in the same transaction, so nothing the user
    /// held works afterwards, even once re-enabled. Throws `notFound`.
    public func setDisabled(_ key: UserKey, _ disabled: Bool) async throws -> User {
        try await updateUser(key) { record, db, now in
            record.disabled = disabled
            if disabled { try Self.endCredentials(userID: record.id, now: now, in: db) }
        }
    }

    /// Replaces the password hash and ends every credential of the user (sessions, personal
    /// access tokens, unused sign-in links) in the same transaction. Throws `notFound`.
    public func setPasswordHash(email: String, _ passwordHash: String) async throws -> User {
        try await updateUser(.email(email)) { record, db, now in
            record.passwordHash = passwordHash
            try Self.endCredentials(userID: record.id, now: now, in: db)
        }
    }

    /// "Sign out everywhere": ends every session, personal access token, unused sign-in link and
    /// password reset link of the user, in one transaction.
    public func endAllCredentials(userID: String) async throws {
        let now = clock.now()
        try await writer.write { db in try Self.endCredentials(userID: userID, now: now, in: db) }
    }

    /// Everything that lets someone act as the user without the password, ended together: a
    /// credential left behind (a token, a mailed link) would outlive the reset it was meant to follow.
    static func endCredentials(userID: String, now: Date, in db: Database) throws {
        try SessionRecord.filter(Column("user_id") == userID).deleteAll(db)
        try APITokenRecord.filter(Column("user_id") == userID).deleteAll(db)
        try db.execute(
            sql: "UPDATE magic_links SET revoked_at = ? WHERE user_id = ? AND used_at IS NULL AND revoked_at IS NULL",
            arguments: [now, userID])
        try db.execute(
            sql: "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL", arguments: [now, userID])
    }

    /// Whether this sign-in link was voided before use (see `endCredentials`).
    public func isRevokedMagicLink(tokenHash: String) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT revoked_at IS NOT NULL FROM magic_links WHERE token_hash = ?", arguments: [tokenHash])
                ?? false
        }
    }

    func updateUser(
        _ key: UserKey, _ change: @escaping @Sendable (inout UserRecord, Database, Date) throws -> Void
    ) async throws -> User {
        let now = clock.now()
        return try await writer.write { db in
            let found: UserRecord?
            switch key {
            case .email(let email): found = try UserRecord.filter(UserRecord.Columns.email == email).fetchOne(db)
            case .id(let id): found = try UserRecord.fetchOne(db, key: id)
            }
            guard var record = found else { throw SoukError(.notFound, "There is no account \(key).") }
            try change(&record, db, now)
            record.updatedAt = now
            try record.update(db)
            return record.user
        }
    }

    // MARK: Sessions

    /// Stores a session (by its token's hash); returns its id.
    @discardableResult
    public func insertSession(
        userID: String, tokenHash: String, lifetime: TimeInterval, origin: SessionOrigin = .password, ip: String?,
        userAgent: String?
    ) async throws -> String {
        let now = clock.now()
        let record = SessionRecord(
            id: ids.make(.session), userID: userID, tokenHash: tokenHash, createdAt: now,
            expiresAt: now.addingTimeInterval(lifetime), ip: ip, userAgent: userAgent.map { String($0.prefix(500)) },
            origin: origin.rawValue)
        try await writer.write { db in
            // Housekeeping on the write path: sign-ins are rare enough to carry it.
            try SessionRecord.filter(Column("expires_at") < now).deleteAll(db)
            try record.insert(db)
        }
        return record.id
    }

    /// The user of a live session: not expired, user not disabled. `nil` otherwise.
    public func userForSession(tokenHash: String) async throws -> User? {
        try await sessionHolder(tokenHash: tokenHash)?.user
    }

    /// The live session's user and how the session was made (which bounds what it may do).
    public func sessionHolder(tokenHash: String) async throws -> (user: User, origin: SessionOrigin)? {
        try await sessionHolder(tokenHash: tokenHash, since: moment())
    }

    /// The same, read no earlier than `moment` (taken by the caller, once for all its reads).
    public func sessionHolder(tokenHash: String, since moment: DatabaseMoment?) async throws
        -> (user: User, origin: SessionOrigin)?
    {
        let now = clock.now()
        // Kept with its expiry, which is checked on every use.
        let found = try await sessionHolders.value(tokenHash, moment: moment, now: now) {
            try await writer.read { db -> SessionHolderReading? in
                guard let session = try SessionRecord.filter(Column("token_hash") == tokenHash).fetchOne(db),
                    let user = try UserRecord.fetchOne(db, key: session.userID), !user.disabled
                else { return nil }
                return SessionHolderReading(
                    user: user.user, origin: SessionOrigin(rawValue: session.origin) ?? .link, expiresAt: session.expiresAt)
            }
        }
        guard let found, found.expiresAt > now else { return nil }
        return (found.user, found.origin)
    }

    public func deleteSession(tokenHash: String) async throws {
        _ = try await writer.write { db in try SessionRecord.filter(Column("token_hash") == tokenHash).deleteAll(db) }
    }

    // MARK: Personal access tokens

    public func insertToken(userID: String, name: String, tokenHash: String, scopes: [TokenScope]) async throws
        -> AccessToken
    {
        let record = APITokenRecord(
            id: ids.make(.token), userID: userID, name: name, tokenHash: tokenHash,
            scopes: scopes.map(\.rawValue).joined(separator: " "), createdAt: clock.now(), lastUsedAt: nil)
        try await writer.write { db in try record.insert(db) }
        return record.accessToken
    }

    public func tokens(userID: String) async throws -> [AccessToken] {
        try await writer.read { db in
            try APITokenRecord.filter(Column("user_id") == userID).order(Column("created_at").desc, Column("id"))
                .fetchAll(db).map(\.accessToken)
        }
    }

    /// Deletes one of the user's tokens. Returns false if the user has no token with that id
    /// (another user's token is indistinguishable from a missing one).
    public func deleteToken(id: String, userID: String) async throws -> Bool {
        try await writer.write { db in
            try APITokenRecord.filter(Column("id") == id && Column("user_id") == userID).deleteAll(db) > 0
        }
    }

    /// The token and its user, if the token exists and the user is not disabled. Records the
    /// time of use at most once a minute, so reads stay reads.
    public func userForToken(tokenHash: String) async throws -> (token: AccessToken, user: User)? {
        let now = clock.now()
        let found: (APITokenRecord, UserRecord)? = try await writer.read { db in
            guard let token = try APITokenRecord.filter(Column("token_hash") == tokenHash).fetchOne(db),
                let user = try UserRecord.fetchOne(db, key: token.userID), !user.disabled
            else { return nil }
            return (token, user)
        }
        guard let (token, user) = found else { return nil }
        if token.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try await writer.write { db in
                try db.execute(sql: "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", arguments: [now, token.id])
            }
        }
        return (token.accessToken, user.user)
    }
}

/// How an operator names an account: by e-mail (the CLI) or by id (the admin pages).
public enum UserKey: Sendable, Equatable, CustomStringConvertible {
    case email(String)
    case id(String)

    public var description: String {
        switch self {
        case .email(let email): "with the e-mail address \(email)"
        case .id(let id): "with the id \(id)"
        }
    }
}

/// A session as last read: whose it is, made how, and until when.
struct SessionHolderReading: Sendable {
    let user: User
    let origin: SessionOrigin
    let expiresAt: Date
}
