import Foundation
import Hummingbird
import SoukAuth
import SoukCatalog
import SoukCore
import SoukDatabase

/// `/api/v1/cart`: the buyer's cart, for a signed-in user or a guest (cookie `souk_cart`).
/// A guest cart joins the account's cart at the first cart request after signing in.
struct CartAPI: Sendable {
    let services: AppServices
    static let cookieName = "souk_cart"

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.get("cart", use: show)
        api.post("cart/items", use: add)
        api.delete("cart/items/:product_id", use: remove)
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = context.allowAnyone()
        let guest = guestToken(request)
        let cart = try await services.carts.cart(user: user, guestTokenHash: guest.map(Secrets.storageHash))
        return try respond(cart, request: request, context: context, clearGuest: user != nil && guest != nil)
    }

    struct AddBody: Decodable {
        var productID: String
        var quantity: Int?
        var amount: Int?

        enum CodingKeys: String, CodingKey {
            case quantity, amount
            case productID = "product_id"
        }
    }

    @Sendable func add(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = context.allowAnyone()
        let body = try await request.decodeJSON(AddBody.self, limit: services.maxBodyBytes)
        var guest = guestToken(request)
        var newGuest: String?
        if user != nil, let existing = guest {
            _ = try await services.carts.cart(user: user, guestTokenHash: Secrets.storageHash(existing))
        } else if user == nil && guest == nil {
            newGuest = Secrets.newSessionToken()
            guest = newGuest
        }
        let owner: CartOwner = user.map { .user($0.id) } ?? .guest(tokenHash: Secrets.storageHash(guest!))
        let cart = try await services.carts.add(
            productID: body.productID, quantity: body.quantity, amount: body.amount, owner: owner)
        var response = try respond(cart, request: request, context: context, clearGuest: user != nil && guest != nil)
        if let newGuest { response.setCookie(cookie(newGuest, maxAge: Int(services.carts.lifetime))) }
        return response
    }

    @Sendable func remove(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = context.allowAnyone()
        let productID = try context.parameters.require("product_id")
        let guest = guestToken(request)
        if user != nil, let guest {
            _ = try await services.carts.cart(user: user, guestTokenHash: Secrets.storageHash(guest))
        }
        guard let owner: CartOwner = user.map({ .user($0.id) }) ?? guest.map({ .guest(tokenHash: Secrets.storageHash($0)) })
        else {
            return try respond(nil, request: request, context: context, clearGuest: false)
        }
        let cart = try await services.carts.remove(productID: productID, owner: owner)
        return try respond(cart, request: request, context: context, clearGuest: user != nil && guest != nil)
    }

    private func guestToken(_ request: Request) -> String? {
        guard let value = request.cookies[Self.cookieName]?.value, value.count >= 32, value.count <= 64,
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        return value
    }

    private func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: Self.cookieName, value: value, maxAge: maxAge, path: "/", secure: services.settings.isHTTPS,
            httpOnly: true, sameSite: .lax)
    }

    private func respond(_ cart: Cart?, request: Request, context: SoukRequestContext, clearGuest: Bool) throws -> Response {
        var response = try JSONResponse(body: CartBody(cart, defaultCurrency: services.settings.store.currency))
            .response(from: request, context: context)
        // The guest cart now lives in the account: forget the cookie.
        if clearGuest { response.setCookie(cookie("", maxAge: 0)) }
        return response
    }
}

/// A cart as the API shows it.
struct CartBody: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var productID: String
        var title: String
        var slug: String
        var sellerID: String
        var sellerName: String
        var quantity: Int
        var unitAmount: Int
        var amount: Int
        var currency: String
        var payWhatYouWant: Bool
        var minPrice: Int?
        var available: Bool

        enum CodingKeys: String, CodingKey {
            case title, slug, quantity, amount, currency, available
            case productID = "product_id"
            case sellerID = "seller_id"
            case sellerName = "seller_name"
            case unitAmount = "unit_amount"
            case payWhatYouWant = "pay_what_you_want"
            case minPrice = "min_price"
        }
    }

    var items: [Item]
    var total: Int
    var currency: String
    var itemCount: Int
    var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case items, total, currency
        case itemCount = "item_count"
        case expiresAt = "expires_at"
    }

    init(_ cart: Cart?, defaultCurrency: String) {
        items = (cart?.lines ?? []).map { line in
            Item(
                productID: line.product.id, title: line.product.title, slug: line.product.slug,
                sellerID: line.product.sellerID, sellerName: line.product.sellerName, quantity: line.quantity,
                unitAmount: line.unitAmount, amount: line.lineAmount, currency: line.product.price.currency,
                payWhatYouWant: line.product.price.isPayWhatYouWant, minPrice: line.product.price.minimum,
                available: line.isAvailable)
        }
        total = cart?.total ?? 0
        currency = cart?.currency ?? defaultCurrency
        itemCount = cart?.itemCount ?? 0
        expiresAt = cart.map { Timestamp.rfc3339($0.expiresAt) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encode(total, forKey: .total)
        try c.encode(currency, forKey: .currency)
        try c.encode(itemCount, forKey: .itemCount)
        try c.encode(expiresAt, forKey: .expiresAt)
    }
}
