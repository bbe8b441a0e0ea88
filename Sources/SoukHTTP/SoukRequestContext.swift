import Hummingbird
import NIOCore
import SoukCore
import SoukDatabase

/// Who is calling, and how they proved it.
public struct Identity: Sendable {
    public enum Credential: Sendable {
        /// A browser session cookie (carries the cookie value, to end it on sign-out) and how
        /// the session was made.
        case session(token: String, origin: SessionOrigin)
        /// A personal access token with its scopes.
        case accessToken(scopes: Set<TokenScope>)
    }
    public var user: User
    public var credential: Credential

    /// How the session was made; nil for a personal access token.
    public var sessionOrigin: SessionOrigin? {
        if case .session(_, let origin) = credential { return origin }
        return nil
    }
}

/// Per-request state shared by the middleware chain and the handlers.
public struct SoukRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address as the socket sees it (the proxy's, behind one).
    public let peerIP: String?
    /// The connection: downloads hand their file to its `FileRegionWriter`.
    public let channel: any Channel
    /// Set by `AuthenticationMiddleware`.
    public var identity: Identity?
    /// The CSRF token HTML forms on this response must carry. Set by `CSRFMiddleware`.
    public var csrfToken: String = ""
    /// The storage hash of the session token the caller signed in with (what CSRF tokens bind
    /// to), computed once by `AuthenticationMiddleware`.
    public var sessionHash: String?
    /// Taken by `AuthenticationMiddleware` before its reads, for every read of the request whose
    /// result is kept while the database is unchanged (`UnchangedReadings`): one `stat`.
    public var databaseMoment: DatabaseMoment?
    /// The signed-in user's unread notifications, for the bell (set for page requests only).
    public var unreadNotifications: Int?
    /// The newest notification event id the bell's count includes: its live stream starts after it.
    public var bellSeq: Int64 = 0

    static func paddedRequestID(_ id: String) -> String {
        id.utf8.count < 32 ? String(repeating: "0", count: 32 - id.utf8.count) + id : id
    }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerIP = source.channel.remoteAddress?.ipAddress
        self.channel = source.channel
        // Hummingbird writes the first half of a request id without its leading zeros, so one
        // process in sixteen hands out 31-digit ids: each is made the 32 hex digits the API shows.
        if let id = logger[metadataKey: "hb.request.id"]?.description {
            logger[metadataKey: "hb.request.id"] = .string(Self.paddedRequestID(id))
        }
    }
}
