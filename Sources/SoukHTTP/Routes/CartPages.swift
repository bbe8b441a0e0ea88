import Hummingbird
import SoukCore
import SoukDatabase

/// `/cart` and the "Add to cart" form of product pages (no JavaScript needed).
struct CartPages: Sendable {
    let services: AppServices
    var cookies: CartCookie { CartCookie(services: services) }

    func register(on router: Router<SoukRequestContext>) {
        router.get("cart", use: show)
        router.post("cart/items", use: add)
        router.post("cart/items/:product_id/remove", use: remove)
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let (cart, cookie) = try await cookies.current(request, context)
        let lines = (cart?.lines ?? []).map { line -> [String: Any] in
            var values = StoreViews.card(line.product)
            values["quantity"] = line.quantity
            values["unit_label"] = MoneyFormat.amount(line.unitAmount, currency: line.product.price.currency)
            values["line_label"] = MoneyFormat.amount(line.lineAmount, currency: line.product.price.currency)
            values["available"] = line.isAvailable
            values["remove_url"] = "/cart/items/\(StoreViews.pathComponent(line.product.id))/remove"
            return values
        }
        var response = services.pages.render(
            "cart", title: "Your cart", context: context,
            [
                "lines": lines, "has_lines": !lines.isEmpty,
                "total_label": MoneyFormat.amount(cart?.total ?? 0, currency: cart?.currency ?? services.settings.store.currency),
                "has_unavailable": lines.contains { $0["available"] as? Bool == false },
            ])
        if let cookie { response.setCookie(cookie) }
        return response
    }

    struct AddForm: Decodable {
        var productID: String
        var quantity: String?
        /// Pay what you want, in major units as typed ("5", "5.50").
        var amount: String?

        enum CodingKeys: String, CodingKey {
            case quantity, amount
            case productID = "product_id"
        }
    }

    @Sendable func add(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let form = try await request.decodeForm(AddForm.self, limit: services.maxBodyBytes)
        let product = try await services.catalog.visibleProduct(id: form.productID, to: context.identity?.user)
        do {
            var amount: Int?
            if let typed = form.amount?.trimmingCharacters(in: .whitespaces), !typed.isEmpty {
                guard let minor = MoneyFormat.minorUnits(typed, currency: product.price.currency) else {
                    throw SoukError.validation(
                        "amount", "Enter an amount like \(MoneyFormat.major(500, currency: product.price.currency)).")
                }
                amount = minor
            }
            var quantity: Int?
            if let typed = form.quantity?.trimmingCharacters(in: .whitespaces), !typed.isEmpty {
                guard let number = Int(typed) else { throw SoukError.validation("quantity", "Enter a whole number of copies.") }
                quantity = number
            }
            let resolution = try await cookies.resolve(request, context, creating: true)
            _ = try await services.carts.add(
                productID: form.productID, quantity: quantity, amount: amount, owner: resolution.owner!)
            var response = Pages.redirect(to: "/cart")
            if let cookie = resolution.cookie { response.setCookie(cookie) }
            return response
        } catch let error as SoukError where error.code == .validationFailed {
            // The product page again, the message beside the form and what was typed kept.
            return try await StorePages(services: services).productPage(
                product, refusedCart: .init(amount: form.amount, quantity: form.quantity, error: error), context: context)
        }
    }

    @Sendable func remove(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let productID = try context.decodedParameter("product_id")
        let resolution = try await cookies.resolve(request, context, creating: false)
        if let owner = resolution.owner { _ = try await services.carts.remove(productID: productID, owner: owner) }
        var response = Pages.redirect(to: "/cart")
        if let cookie = resolution.cookie { response.setCookie(cookie) }
        return response
    }
}
