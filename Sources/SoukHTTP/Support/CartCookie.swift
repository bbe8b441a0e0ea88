import Hummingbird
import SoukAuth
import SoukCatalog
import SoukCore
import SoukDatabase

/// Whose cart a request means, and what the guest cookie `souk_cart` (`__Host-souk_cart` over
/// https) must become: a signed-in user's cart (a guest cart from before signing in is folded into
/// it, and its cookie cleared), else the guest cookie's (created on the first addition).
struct CartCookie: Sendable {
    let services: AppServices
    var name: String { CookieNames(https: services.settings.isHTTPS).cart }

    struct Resolution {
        var owner: CartOwner?
        var cookie: Cookie?
    }

    func resolve(_ request: Request, _ context: SoukRequestContext, creating: Bool) async throws -> Resolution {
        let guest = guestToken(request)
        if let user = context.identity?.user {
            guard let guest else { return Resolution(owner: .user(user.id), cookie: nil) }
            _ = try await services.carts.cart(user: user, guestTokenHash: Secrets.storageHash(guest))
            return Resolution(owner: .user(user.id), cookie: cookie("", maxAge: 0))
        }
        if let guest { return Resolution(owner: .guest(tokenHash: Secrets.storageHash(guest)), cookie: nil) }
        guard creating else { return Resolution(owner: nil, cookie: nil) }
        let token = Secrets.newSessionToken()
        return Resolution(
            owner: .guest(tokenHash: Secrets.storageHash(token)), cookie: cookie(token, maxAge: Int(services.carts.lifetime)))
    }

    /// The cart to show: one read (the merge, after a sign-in, returns the merged cart).
    func current(_ request: Request, _ context: SoukRequestContext) async throws -> (cart: Cart?, cookie: Cookie?) {
        let guest = guestToken(request).map(Secrets.storageHash)
        let cart = try await services.carts.cart(user: context.identity?.user, guestTokenHash: guest)
        return (cart, context.identity != nil && guest != nil ? cookie("", maxAge: 0) : nil)
    }

    private func guestToken(_ request: Request) -> String? {
        guard let value = request.cookies[name]?.value, (32...64).contains(value.count),
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        return value
    }

    private func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: services.settings.isHTTPS, httpOnly: true,
            sameSite: .lax)
    }
}
