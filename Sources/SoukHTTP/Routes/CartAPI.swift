import Foundation
import Hummingbird
import SoukAuth
import SoukCatalog
import SoukCore
import SoukDatabase

/// `/api/v1/cart`: the buyer's cart, for a signed-in user or a guest (cookie `souk_cart`, see
/// `CartCookie`).
struct CartAPI: Sendable {
    let services: AppServices
    var cookies: CartCookie { CartCookie(services: services) }

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.get("cart", use: show)
        api.post("cart/items", use: add)
        api.delete("cart/items/:product_id", use: remove)
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let (cart, cookie) = try await cookies.current(request, context)
        return try respond(cart, cookie, request: request, context: context)
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
        context.allowAnyone()
        let body = try await request.decodeJSON(AddBody.self, limit: services.maxBodyBytes)
        let cart = try await cookies.resolve(request, context, creating: true)
        let updated = try await services.carts.add(
            productID: body.productID, quantity: body.quantity, amount: body.amount, owner: cart.owner!)
        return try respond(updated, cart.cookie, request: request, context: context)
    }

    @Sendable func remove(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let productID = try context.parameters.require("product_id")
        let cart = try await cookies.resolve(request, context, creating: false)
        let updated = try await cart.owner.asyncMap { try await services.carts.remove(productID: productID, owner: $0) } ?? nil
        return try respond(updated, cart.cookie, request: request, context: context)
    }

    private func respond(_ cart: Cart?, _ cookie: Cookie?, request: Request, context: SoukRequestContext) throws -> Response {
        var response = try JSONResponse(body: CartBody(cart, defaultCurrency: services.settings.store.currency))
            .response(from: request, context: context)
        if let cookie { response.setCookie(cookie) }
        return response
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
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
    }

    var items: [Item]
    var total: Int
    var currency: String
    var itemCount: Int
    @Nullable var expiresAt: String?

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
}
