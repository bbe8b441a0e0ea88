import Foundation
import SoukCore
import SoukDatabase

/// Accounts, sign-in, sessions and tokens: the rules shared by the web store, the API and the CLI.
public struct AccountService: Sendable {
    public let database: AppDatabase
    public let hasher: PasswordHasher
    public let sessionLifetime: TimeInterval
    private let decoyHash: String

    public init(database: AppDatabase, hasher: PasswordHasher, sessionLifetime: TimeInterval) async {
        self.database = database
        self.hasher = hasher
        self.sessionLifetime = sessionLifetime
        self.decoyHash = hasher.decoyHash
    }

    /// Creates an account. Sellers start `pending`. Throws `validationFailed` for a bad e-mail,
    /// password or name, `conflict` if the e-mail is taken.
    public func register(email: String, password: String, name: String, role: Role) async throws -> User {
        let email = try AccountRules.email(email)
        let password = try AccountRules.password(password)
        let name = try AccountRules.name(name)
        let hash = await hasher.hash(password)
        return try await database.insertUser(email: email, name: name, passwordHash: hash, role: role)
    }

    /// Checks an e-mail and password. Throws `invalidCredentials` when they don't match (the same
    /// error, after the same work, whether or not the account exists) and `accountDisabled` for a
    /// disabled account with the right password, `validationFailed` (before any hashing) for an
    /// address that cannot be one.
    public func authenticate(email: String, password: String) async throws -> User {
        let email = try AccountRules.email(email)
        guard let (user, passwordHash) = try await database.signInCredentials(email: email) else {
            _ = await hasher.verify(password, hash: decoyHash)
            throw Self.invalidCredentials
        }
        guard await hasher.verify(password, hash: passwordHash) else { throw Self.invalidCredentials }
        guard !user.disabled else {
            throw SoukError(.accountDisabled, "This account has been disabled. Contact the store's operator.")
        }
        return user
    }

    /// The buyer account a guest checkout belongs to: the existing account with this e-mail, or a
    /// new buyer account with a random password (the buyer reaches orders through the links Souk
    /// sends, or sets a password with a reset). Throws `validationFailed` for a bad e-mail and
    /// `accountDisabled` for a disabled account. `beforeCreating` runs only when an account is about
    /// to be made (the caller's sign-up rate limit).
    public func buyerForGuestCheckout(email raw: String, beforeCreating: () throws -> Void = {}) async throws -> User {
        let email = try AccountRules.email(raw)
        if let record = try await database.user(email: email) {
            guard !record.disabled else {
                throw SoukError(.accountDisabled, "The account for \(email) has been disabled. Contact the store's operator.")
            }
            return record
        }
        try beforeCreating()
        let hash = await hasher.hash(Secrets.newSessionToken())
        let name = (try? AccountRules.name(String(email.prefix { $0 != "@" }))) ?? "Buyer"
        do {
            return try await database.insertUser(email: email, name: name, passwordHash: hash, role: .buyer)
        } catch let error as SoukError where error.code == .conflict {
            // Two guest checkouts with one e-mail at once: the other made the account.
            guard let record = try await database.user(email: email) else { throw error }
            return record
        }
    }

    static let invalidCredentials = SoukError(.invalidCredentials, "The e-mail address or password is wrong.")

    /// Starts a browser session; returns the secret for the cookie (stored only as a hash). Its
    /// lifetime and who may have one depend on how the user proved who they are (`SessionOrigin`):
    /// throws `forbidden` for an admin signing in by link.
    public func startSession(for user: User, via origin: SessionOrigin = .password, ip: String?, userAgent: String?)
        async throws -> String
    {
        try origin.requireAllowed(for: user)
        let token = Secrets.newSessionToken()
        _ = try await database.insertSession(
            userID: user.id, tokenHash: Secrets.storageHash(token), lifetime: origin.lifetime(configured: sessionLifetime),
            origin: origin, ip: ip, userAgent: userAgent)
        return token
    }

    /// Signs the user out everywhere: ends every session, personal access token and unused
    /// sign-in link in one transaction.
    public func endAllCredentials(of user: User) async throws {
        try await database.endAllCredentials(userID: user.id)
    }

    /// The holder of a session token already hashed (`Secrets.storageHash`), read no earlier than
    /// `moment` (`AppDatabase.moment()`).
    public func user(forSessionHash hash: String, since moment: DatabaseMoment?) async throws
        -> (user: User, origin: SessionOrigin)?
    {
        try await database.sessionHolder(tokenHash: hash, since: moment)
    }

    public func endSession(_ token: String) async throws {
        try await database.deleteSession(tokenHash: Secrets.storageHash(token))
    }

    /// Creates a personal access token; the plaintext is returned once and never stored.
    ///
    /// A session made from an e-mailed link may not: it lasts a day at most, and a token minted
    /// from it would outlive that. Pass the caller's session origin, or nil
    /// when the caller holds a personal access token already.
    public func createToken(for user: User, name: String, scopes: [TokenScope], from origin: SessionOrigin?)
        async throws -> (record: AccessToken, token: String)
    {
        try origin?.requireMayCreateTokens()
        let name = try AccountRules.tokenName(name)
        let scopes = scopes.isEmpty ? [.read, .write] : Array(Set(scopes)).sorted { $0.rawValue < $1.rawValue }
        let token = Secrets.newAccessToken()
        let record = try await database.insertToken(
            userID: user.id, name: name, tokenHash: Secrets.storageHash(token), scopes: scopes)
        return (record, token)
    }

    /// The user and scopes behind a bearer token, or nil for an unknown or revoked token.
    public func user(forToken token: String) async throws -> (user: User, scopes: Set<TokenScope>)? {
        guard token.hasPrefix(Secrets.tokenPrefix),
            let found = try await database.userForToken(tokenHash: Secrets.storageHash(token))
        else { return nil }
        return (found.user, Set(found.token.scopes))
    }

    /// Sets a new password and ends every credential of the user (sessions, tokens, unused sign-in
    /// links) in the same transaction. Throws `validationFailed`, `notFound`.
    public func resetPassword(email: String, to password: String) async throws -> User {
        let password = try AccountRules.password(password)
        let email = try AccountRules.email(email)
        let hash = await hasher.hash(password)
        return try await database.setPasswordHash(email: email, hash)
    }

    // MARK: Getting back into an account

    /// "Forgot password" or "e-mail me a sign-in link": queues the e-mail when an enabled account
    /// has this address, and says nothing either way (the answer must not tell who has an
    /// account). Throws `validationFailed` for an address that cannot be one.
    public func requestAccountMail(_ request: AppDatabase.AccountMailRequest, email: String) async throws {
        try await database.requestAccountMail(request, email: AccountRules.email(email))
    }

    /// Whether an e-mailed reset link would still set a password.
    public func isLivePasswordReset(token: String) async throws -> Bool {
        try await database.isLivePasswordReset(tokenHash: Secrets.storageHash(token))
    }

    /// Sets a new password through an e-mailed reset link, once, and ends every other credential
    /// of the account. Throws `validationFailed` for a password the rules refuse (the link stays
    /// usable), `notFound` for a link that is unknown, used, expired or of a disabled account.
    public func resetPassword(token: String, to password: String) async throws -> User {
        let password = try AccountRules.password(password)
        let hash = await hasher.hash(password)
        guard let user = try await database.resetPassword(tokenHash: Secrets.storageHash(token), passwordHash: hash) else {
            throw Self.deadResetLink
        }
        return user
    }

    public static let deadResetLink = SoukError(
        .notFound, "This password reset link is unknown, already used or more than an hour old. Ask for a new one.")

    // MARK: Changes a user makes to their own account

    public func changeName(of user: User, to name: String) async throws -> User {
        try await database.setName(userID: user.id, AccountRules.name(name))
    }

    /// Checks the current password (as a sign-in does: `invalidCredentials`), then sets the new
    /// one and ends every credential of the account; the caller starts a fresh session.
    public func changePassword(of user: User, current: String, new: String) async throws -> User {
        let new = try AccountRules.password(new)
        _ = try await authenticate(email: user.email, password: current)
        return try await database.setPasswordHash(userID: user.id, await hasher.hash(new))
    }

    /// Sends a confirmation link to `newEmail`, after checking the current password; the
    /// address changes when the link is opened. Throws `validationFailed`, `invalidCredentials`,
    /// `conflict` (another account has that address).
    public func requestEmailChange(of user: User, to newEmail: String, password: String) async throws -> String {
        let email = try AccountRules.email(newEmail)
        guard email != user.email else {
            throw SoukError.validation("email", "That is already your address.")
        }
        _ = try await authenticate(email: user.email, password: password)
        try await database.requestEmailChange(userID: user.id, newEmail: email, lifetime: Self.emailChangeLifetime)
        return email
    }

    public static let emailChangeLifetime: TimeInterval = 86_400

    /// The address an e-mailed confirmation link would change to, or nil for a dead link.
    public func pendingEmailChange(token: String) async throws -> String? {
        try await database.pendingEmailChange(tokenHash: Secrets.storageHash(token))
    }

    /// Applies an e-mailed confirmation. Throws `notFound` for a dead link, `conflict` when the
    /// address was taken meanwhile.
    public func confirmEmailChange(token: String) async throws -> User {
        guard let user = try await database.confirmEmailChange(tokenHash: Secrets.storageHash(token)) else {
            throw Self.deadEmailLink
        }
        return user
    }

    public static let deadEmailLink = SoukError(
        .notFound, "This confirmation link is unknown, already used, replaced by a newer one or more than a day old.")

    /// Deletes a buyer's own account after checking the password (see `AppDatabase.deleteAccount`).
    /// A seller's or admin's account holds the store's records: the operator closes it.
    public func deleteAccount(_ user: User, password: String) async throws {
        guard user.role == .buyer else {
            throw SoukError(
                .conflict,
                "A \(user.role.rawValue)'s account keeps the store's records: ask the store's operator to close it (`souk user disable`).")
        }
        _ = try await authenticate(email: user.email, password: password)
        try await database.deleteAccount(userID: user.id)
    }

    // MARK: The operator's actions (the CLI and the admin pages share them)

    /// Verifies, rejects or suspends a seller; the seller is notified, with the reason (at most
    /// 500 characters; kept and shown to them unless verified). With `requireReason` (the admin
    /// pages, where the form asks for one) a rejection or suspension without a reason is refused
    /// before anything changes; the CLI leaves it to the operator. Throws `validationFailed`
    /// (field `reason`, or `email` for an account that is not a seller), `notFound`.
    public func setSellerStatus(_ key: UserKey, _ status: SellerStatus, reason: String? = nil, requireReason: Bool = false)
        async throws -> User
    {
        let reason = try AccountRules.sellerStatusReason(reason)
        if requireReason && status != .verified && reason == nil {
            throw SoukError.validation(
                "reason", "Give a reason: the seller sees it on their account page and in their notification.")
        }
        return try await database.setSellerStatus(try Self.normalized(key), status, reason: reason)
    }

    /// Disables an account (ending every credential it holds) or enables it again. `actor` is the
    /// admin doing it from the pages (nil for the operator's CLI): an admin may not disable their
    /// own account, which would sign them out with no admin left to undo it. Throws `forbidden`,
    /// `notFound`.
    public func setDisabled(_ key: UserKey, _ disabled: Bool, by actor: User? = nil) async throws -> User {
        let key = try Self.normalized(key)
        if disabled, let actor {
            let isSelf: Bool
            switch key {
            case .id(let id): isSelf = id == actor.id
            case .email(let email): isSelf = email == actor.email
            }
            if isSelf { throw SoukError(.forbidden, "You cannot disable your own account.") }
        }
        return try await database.setDisabled(key, disabled)
    }

    /// One page of accounts for the admin pages, newest first (see `AppDatabase.users(emailContains:…)`).
    public func users(emailContains: String?, role: Role?, limit: Int, offset: Int) async throws -> [User] {
        try await database.users(
            emailContains: emailContains?.trimmingCharacters(in: .whitespaces), role: role, limit: limit, offset: offset)
    }

    /// One page of sellers in one status, waiting longest first.
    public func sellers(status: SellerStatus, limit: Int, offset: Int) async throws -> [User] {
        try await database.sellers(status: status, limit: limit, offset: offset)
    }

    private static func normalized(_ key: UserKey) throws -> UserKey {
        switch key {
        case .email(let email): .email(try AccountRules.email(email))
        case .id: key
        }
    }
}
