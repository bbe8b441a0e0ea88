import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// License keys in HTML (forms work without JavaScript; the CSRF middleware checks them):
///
/// - `POST /library/licenses/{key}/activations/{id}/deactivate`: the key's owner frees a seat from
///   the library, then goes back to `/library`.
/// - `GET /dashboard/products/{id}/licenses`: the keys of a product with their buyers, status and
///   activations, for its seller (or an admin); `POST …/licenses/{key}/disable|enable` turn one off
///   or on. Anyone else is told the product does not exist.
struct LicensePages: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.post("library/licenses/:key/activations/:id/deactivate", use: freeSeat)
        router.get("dashboard/products/:id/licenses", use: index)
        router.post("dashboard/products/:id/licenses/:key/disable", use: disable)
        router.post("dashboard/products/:id/licenses/:key/enable", use: enable)
    }

    // MARK: Buyer

    @Sendable func freeSeat(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let license = try await services.licenses.freeSeat(
            key: try context.decodedParameter("key"), instanceID: try context.decodedParameter("id"), owner: user)
        context.logger.info("license seat freed by its owner", metadata: ["license": "\(license.id)"])
        return Pages.redirect(to: "/library")
    }

    // MARK: Seller

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else {
            return Pages.redirect(
                to: "/signin?next=" + StoreViews.pathComponent("/dashboard/products/\(try context.decodedParameter("id"))/licenses"))
        }
        let (_, product) = try await soldProduct(context)
        let query = request.formQuery
        var notice: String?
        if let key = query["disabled"] { notice = "The key \(key) is disabled: it no longer activates or validates." }
        if let key = query["enabled"] { notice = "The key \(key) is enabled again." }
        let position = AppDatabase.ListPosition.asked(older: query["older"], newer: query["newer"])
        return try await page(product, context: context, from: position, matching: query["q"], notice: notice)
    }

    /// Keys a page lists; "Older keys" and "Newer keys" go on from the last and first shown.
    static let pageSize = 50

    @Sendable func disable(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try await setEnabled(false, context)
    }

    @Sendable func enable(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try await setEnabled(true, context)
    }

    private func setEnabled(_ enabled: Bool, _ context: SoukRequestContext) async throws -> Response {
        let (user, product) = try await soldProduct(context)
        let license: LicenseKey
        do {
            license = try await services.licenses.setEnabled(
                enabled, key: try context.decodedParameter("key"), productID: product.id, by: user)
        } catch let error as SoukError where error.code == .conflict {
            return try await page(product, context: context, error: error.detail, status: .conflict)
        }
        context.logger.info(
            "license \(enabled ? "enabled" : "disabled")", metadata: ["license": "\(license.id)", "by": "\(user.id)"])
        return Pages.redirect(
            to: "/dashboard/products/\(StoreViews.pathComponent(product.id))/licenses?\(enabled ? "enabled" : "disabled")=\(license.key)")
    }

    /// The product from `:id` if the caller sells it, in good standing (or is an admin);
    /// `forbidden` for a seller who is not verified, `notFound` otherwise (`SellerAccess`).
    private func soldProduct(_ context: SoukRequestContext) async throws -> (User, Product) {
        let user = try context.require(.sellerAction)
        let id = try context.decodedParameter("id")
        let product = try await services.database.productIncludingDeleted(id: id)
        try SellerAccess.require(sellerID: product?.sellerID ?? "", user: user, notFound: "The product \(id)")
        guard let product else { throw SoukError.notFound("The product \(id)") }
        return (user, product)
    }

    private func page(
        _ product: Product, context: SoukRequestContext, from position: AppDatabase.ListPosition? = nil,
        matching text: String? = nil, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        // One more than a page, to know whether there is another past it.
        let (found, applied) = try await services.licenses.keys(
            of: product, by: try context.require(.sellerAction), from: position, matching: text, limit: Self.pageSize + 1)
        let page = PositionedPage(found, from: applied, size: Self.pageSize)
        let (keys, older, newer) = (page.items, page.hasOlder, page.hasNewer)
        let base = "/dashboard/products/\(StoreViews.pathComponent(product.id))/licenses"
        let searched = text.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        func link(_ position: String, _ id: String) -> String {
            base + "?" + StoreViews.queryString((searched.isEmpty ? [] : [("q", searched)]) + [(position, id)])
        }
        let now = services.licenses.now
        var rows: [[String: Any]] = []
        for (license, buyerEmail) in keys {
            let keyStatus = license.status(at: now)
            var row: [String: Any] = [
                "key": license.key, "buyer_email": buyerEmail, "order_id": license.orderID, "order_label": "Order",
                "order_url": "/orders/\(StoreViews.pathComponent(license.orderID))",
                "status": keyStatus.rawValue, "is_usable": keyStatus.isUsable,
                "limit_label": license.activationLimit.map(String.init) ?? "unlimited",
                "usage": license.activationUsage,
                "instances": license.activations.map { activation -> [String: Any] in
                    ["id": activation.id, "name": activation.instanceName, "created_at": DateViews.moment(activation.createdAt)]
                },
                "created_at": DateViews.moment(license.createdAt),
                "can_disable": license.storedStatus == .active, "can_enable": license.storedStatus == .disabled,
                "action_base": "/dashboard/products/\(StoreViews.pathComponent(product.id))/licenses/\(license.key)",
            ]
            // Absent, not nil: the template engine would print an Optional's "nil".
            if let expiresAt = license.expiresAt { row["expires_at"] = DateViews.day(expiresAt) }
            rows.append(row)
        }
        var values: [String: Any] = [
            "product": StoreViews.card(product), "edit_url": "/dashboard/products/\(StoreViews.pathComponent(product.id))",
            "keys": rows, "has_keys": !rows.isEmpty, "is_license": product.kind == .license,
            "search_url": base, "searched": searched, "has_search": !searched.isEmpty,
        ]
        if older, let last = keys.last { values["older_url"] = link("older", last.license.id) }
        if newer, let first = keys.first { values["newer_url"] = link("newer", first.license.id) }
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return services.pages.render(
            "dashboard_licenses", title: "License keys · \(product.title)", status: status, context: context, values)
    }
}
