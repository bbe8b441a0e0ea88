import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukOrders

/// `POST /api/v1/checkout`: the caller's cart (signed in, or the guest cookie with an e-mail)
/// becomes an order and a hosted checkout. Send an `Idempotency-Key`: repeating the request with
/// it returns the same order and session.
struct CheckoutAPI: Sendable {
    let services: AppServices
    var cookies: CartCookie { CartCookie(services: services) }

    func register(on router: Router<SoukRequestContext>) {
        router.group("api/v1").post("checkout", use: checkout)
    }

    struct Body: Decodable {
        var provider: String?
        /// Required for a guest: the receipt goes there, and the order joins that buyer account.
        var email: String?
    }

    @Sendable func checkout(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let body = try await request.decodeJSON(Body.self, limit: services.maxBodyBytes)
        let key = request.headers[.init("Idempotency-Key")!]
        let result = try await CheckoutFlow(services: services).checkout(
            request, context, provider: body.provider, guestEmail: body.email, idempotencyKey: key)
        var response = try JSONResponse(
            status: .created,
            body: CheckoutBody(order: OrderBody(result.order, viewer: .full), redirectURL: result.redirectURL),
            location: "/api/v1/orders/\(result.order.id)"
        ).response(from: request, context: context)
        if let cookie = result.cartCookie { response.setCookie(cookie) }
        return response
    }
}

/// Shared by the API and the checkout page: whose cart, which buyer, then `CheckoutService`.
struct CheckoutFlow: Sendable {
    let services: AppServices

    struct Outcome {
        var order: Order
        var redirectURL: String
        var cartCookie: Cookie?
    }

    func checkout(
        _ request: Request, _ context: SoukRequestContext, provider: String?, guestEmail: String?, idempotencyKey: String?
    ) async throws -> Outcome {
        let (cart, cookie) = try await CartCookie(services: services).current(request, context)
        let buyer: User
        if let user = context.identity?.user {
            buyer = user
        } else {
            guard let raw = guestEmail, !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw SoukError.validation("email", "Enter your e-mail address: the receipt and your downloads go there.")
            }
            let email = try AccountRules.email(raw)
            // A checkout that will be refused makes no account: the provider must be one this
            // store takes, and a new account needs something in the cart. (A repeated request whose
            // first attempt emptied the cart finds the account it made.)
            _ = try services.providers.provider(named: provider)
            let cartIsEmpty = cart?.lines.isEmpty ?? true
            let network = services.clientAddress.network(request, context)
            // Guest checkouts send mail and may make accounts: limited per address and per e-mail
            // (the normalised one, so spellings of one address share a count).
            try services.limits.guestCheckoutsPerIP.hit("guest:\(network)", what: "guest checkouts from this address")
            try services.limits.guestCheckoutsPerEmail.hit("guest:\(email)", what: "guest checkouts for this e-mail")
            buyer = try await services.accounts.buyerForGuestCheckout(email: email) {
                guard !cartIsEmpty else { throw SoukError.validation("cart", "Your cart is empty.") }
                // A guest checkout that creates an account counts as a sign-up from this address.
                try services.limits.signupPerIP.hit("signup:\(network)", what: "new accounts from this address")
            }
            // The guest's receipt in their browser's zone. Only where none is known: a request
            // with no session must not change what an account's owner set.
            if buyer.timeZone == nil, let zone = request.cookies[CookieNames.timeZone]?.value, HumanDate.zone(named: zone) != nil {
                try await services.database.setTimeZone(userID: buyer.id, zone)
            }
        }
        let result = try await services.checkout.checkout(
            buyer: buyer, cart: cart, providerName: provider, idempotencyKey: idempotencyKey,
            isGuest: context.identity == nil)
        return Outcome(order: result.order, redirectURL: result.redirectURL, cartCookie: cookie)
    }
}
