import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// The checkout form (`/checkout`: provider choice, e-mail for guests), and the pages providers
/// send the buyer back to: `/checkout/success` (confirms with the provider, then waits for the
/// webhook) and `/checkout/cancel`.
struct CheckoutPages: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("checkout", use: form)
        router.post("checkout", use: submit)
        router.get("checkout/success", use: success)
        router.get("checkout/cancel", use: cancel)
    }

    @Sendable func form(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let (cart, cookie) = try await CartCookie(services: services).current(request, context)
        guard let cart, !cart.lines.isEmpty else { return Pages.redirect(to: "/cart") }
        var response = page(cart: cart, context: context, error: nil, email: "")
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// The form; after a refusal, with the e-mail typed and the provider chosen kept.
    private func page(cart: Cart, context: SoukRequestContext, error: SoukError?, email: String, provider: String? = nil,
                      status: HTTPResponse.Status = .ok) -> Response {
        let available = services.providers.available
        let chosen = provider.flatMap { available.firstIndex(of: $0) } ?? 0
        return services.pages.render(
            "checkout", title: "Checkout", status: status, context: context,
            [
                "lines": cart.lines.map { line -> [String: Any] in
                    [
                        "title": line.product.title, "quantity": line.quantity, "available": line.isAvailable,
                        "amount_label": MoneyFormat.amount(line.lineAmount, currency: line.product.price.currency),
                    ]
                },
                "total_label": MoneyFormat.amount(cart.total, currency: cart.currency ?? services.settings.store.currency),
                "providers": available.enumerated().map { index, name -> [String: Any] in
                    ["name": name, "label": Self.providerLabel(name), "checked": index == chosen]
                },
                "guest": context.identity == nil, "email": email,
                "idempotency_key": RandomText.base62(length: 24),
                "error": error?.detail as Any,
            ])
    }

    static func providerLabel(_ name: String) -> String {
        switch name {
        case "stripe": "Card (Stripe)"
        case "paypal": "PayPal"
        default: "Test payment (no money moves)"
        }
    }

    struct SubmitForm: Decodable {
        var provider: String?
        var email: String?
        var idempotencyKey: String?

        enum CodingKeys: String, CodingKey {
            case provider, email
            case idempotencyKey = "idempotency_key"
        }
    }

    @Sendable func submit(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let form = try await request.decodeForm(SubmitForm.self, limit: services.maxBodyBytes)
        do {
            let outcome = try await CheckoutFlow(services: services).checkout(
                request, context, provider: form.provider, guestEmail: form.email, idempotencyKey: form.idempotencyKey)
            var response = Pages.redirect(to: outcome.redirectURL)
            if let cookie = outcome.cartCookie { response.setCookie(cookie) }
            return response
        } catch let error as SoukError where [.validationFailed, .conflict, .paymentProviderError].contains(error.code) {
            // Show the form again with what went wrong, keeping what the buyer typed.
            let (cart, _) = try await CartCookie(services: services).current(request, context)
            guard let cart, !cart.lines.isEmpty else { return Pages.redirect(to: "/cart") }
            return page(
                cart: cart, context: context, error: error, email: form.email ?? "", provider: form.provider,
                status: ProblemMapping.status(for: error.code))
        }
    }

    @Sendable func success(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let query = request.uri.queryParameters
        guard let id = query.get("order") else { throw SoukError(.badRequest, "The link is missing its order.") }
        _ = try await OrderPages.visibleOrder(id, key: query.get("key"), services, context)
        // Ask the provider now rather than only wait for its webhook; both take the same path.
        _ = try await services.paymentEvents.confirmReturn(orderID: id)
        let (order, viewer) = try await OrderPages.visibleOrder(id, key: query.get("key"), services, context)
        let heading =
            switch order.status {
            case .created: "Confirming your payment…"
            case .paymentFailed: "Your payment did not go through"
            case .expired: "This order expired before it was paid"
            case .canceled: "This order was canceled"
            default: order.status.isPaidUp || order.status == .refunded ? "Thank you!" : "Your order"
            }
        return OrderPages(services: services).render(order, viewer: viewer, heading: heading, context: context, thanks: true)
    }

    @Sendable func cancel(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let query = request.uri.queryParameters
        guard let id = query.get("order") else { throw SoukError(.badRequest, "The link is missing its order.") }
        let (order, viewer) = try await OrderPages.visibleOrder(id, key: query.get("key"), services, context)
        return OrderPages(services: services).render(order, viewer: viewer, heading: "Payment not completed", context: context)
    }
}
