import Foundation

/// How a browser session was made, which bounds how long it lasts and who may make it.
///
/// A single-use sign-in link (receipts, notices, guest checkout) proves only that someone could
/// read one e-mail, so its session is short and an admin account never gets one: admins sign in
/// with their password. Signing in with the password later gives a normal session.
public enum SessionOrigin: String, Sendable, Codable, CaseIterable {
    case password
    case link

    /// The longest a link session lasts, whatever `[auth] session_ttl_hours` says.
    public static let maximumLinkSessionLifetime: TimeInterval = 24 * 3600

    /// The session's lifetime given the configured one: `min(configured, 24 h)` for a link.
    public func lifetime(configured: TimeInterval) -> TimeInterval {
        switch self {
        case .password: configured
        case .link: min(configured, Self.maximumLinkSessionLifetime)
        }
    }

    /// Throws `forbidden` if `user` may not start a session this way (an admin, by link).
    public func requireAllowed(for user: User) throws {
        if self == .link && user.role == .admin { throw Self.adminLinkRefused }
    }

    /// Throws `forbidden` if a session made this way may not mint personal access tokens: a
    /// token from a link session would outlive the day that session is bounded to.
    public func requireMayCreateTokens() throws {
        if self == .link { throw Self.tokensNeedPassword }
    }

    public static let tokensNeedPassword = SoukError(
        .forbidden,
        "You signed in with an e-mailed link. Sign in with your password to create access tokens (set one with \"Forgot password\" if you have none).")

    public static let adminLinkRefused = SoukError(
        .forbidden,
        "Admin accounts sign in with their password only, never with an e-mailed link. This link is now used up; sign in with your password.")
}
