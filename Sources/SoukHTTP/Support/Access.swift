import Hummingbird
import SoukCore

/// Who may call a route. Every handler declares one with `context.require(_:)` (or `allowAnyone()`) as its first line,
/// so the rule sits next to the route and is checked in one place.
enum Access {
    /// Any signed-in, enabled user.
    case signedIn
    /// A seller the operator has verified, or an admin; everyone else gets 403 with the reason
    /// (`SellerStanding`). For seller actions that create something (a product, a file, a page).
    case verifiedSeller
    /// A seller action on something the caller sells (a product, its keys, its download log, their
    /// sales): a seller who is not verified gets 403 with the reason (`SellerStanding`), exactly as
    /// with `verifiedSeller`; a buyer passes, to be told by the route's ownership check that the
    /// object does not exist (so IDs leak nothing).
    case sellerAction
    /// An admin.
    case admin
}

extension SoukRequestContext {
    /// Declares a public route: anyone may call it. Returns the caller if signed in.
    @discardableResult
    func allowAnyone() -> User? { identity?.user }

    /// The signed-in user if `access` allows this caller; throws `unauthenticated` (401) when no
    /// one is signed in and `forbidden` (403) when the caller lacks the role.
    @discardableResult
    func require(_ access: Access) throws -> User {
        guard let user = identity?.user else {
            throw SoukError(.unauthenticated, "Sign in, or send a personal access token, to use this.")
        }
        switch access {
        case .signedIn:
            return user
        case .verifiedSeller:
            try SellerStanding.require(user)
            return user
        case .sellerAction:
            if SellerStanding(of: user) != .notASeller { try SellerStanding.require(user) }
            return user
        case .admin:
            guard user.role == .admin else { throw SoukError(.forbidden, "Only an admin may do this.") }
            return user
        }
    }

    /// Ownership: the caller must own the object (admins may act on any). A non-owner is told the
    /// object does not exist, so IDs of other users' objects leak nothing.
    func requireOwner(_ ownerID: String, of what: String) throws -> User {
        let user = try require(.signedIn)
        guard user.id == ownerID || user.role == .admin else { throw SoukError.notFound(what) }
        return user
    }
}

/// The client's IP address, from the socket or (when configured behind a proxy) X-Forwarded-For.
struct ClientAddress: Sendable {
    let trustForwardedFor: Bool

    func ip(_ request: Request, _ context: SoukRequestContext) -> String {
        // The proxy appends the address it saw; entries before it are whatever the client sent.
        if trustForwardedFor, let forwarded = request.headers[.init("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last
        {
            return last.trimmingCharacters(in: .whitespaces)
        }
        return context.peerIP ?? "unknown"
    }

    /// What per-address rate limits count this client under: its IPv4 address, or its IPv6 /64
    /// (see `ClientNetwork`). Every per-address limiter keys on this, never on `ip`.
    func network(_ request: Request, _ context: SoukRequestContext) -> String {
        ClientNetwork.limiterKey(for: ip(request, context))
    }
}
