import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// `/library`: the signed-in buyer's purchases — files with fresh download links, license keys
/// with their activations (each with a deactivate form), and links to private pages.
struct LibraryPages: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("library", use: index)
    }

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.redirect(to: "/signin?next=/library") }
        let user = try context.require(.signedIn)
        let query = request.uri.queryParameters
        let position = AppDatabase.ListPosition.asked(older: query.get("older"), newer: query.get("newer"))
        // One more than a page, to know whether there is another past it.
        let (found, applied) = try await services.library.entries(for: user, from: position, limit: Self.pageSize + 1)
        let page = PositionedPage(found, from: applied, size: Self.pageSize)
        let (entries, older, newer) = (page.items, page.hasOlder, page.hasNewer)
        let ratings = try await services.database.ratings(byUser: user.id, of: entries.map(\.product.id))
        let now = services.database.clock.now()
        let links = LibraryLinks(services: services)
        let minutes = max(1, services.downloadLinks.lifetime / 60)
        let covers = try await services.database.covers(productIDs: entries.map(\.product.id))
        return services.pages.render(
            "library", title: "Your library", context: context,
            [
                "products": entries.map { entry -> [String: Any] in
                    var values = Self.values(entry, links: links, now: now, rating: ratings[entry.product.id])
                    if let cover = covers[entry.product.id] {
                        values["cover"] = StoreViews.picture(cover, sizes: "96px", fallbackWidth: 320)
                    }
                    return values
                },
                "has_products": !entries.isEmpty,
                "link_minutes": Int(minutes.rounded()),
                "older_url": (older ? entries.last : nil).map { "/library?older=\($0.grantID)" } as Any,
                "newer_url": (newer ? entries.first : nil).map { "/library?newer=\($0.grantID)" } as Any,
            ])
    }

    /// Purchases a page of the library shows; "Older purchases" goes on from the last.
    static let pageSize = 50

    /// A key's state in words: "inactive" reads as broken to someone who just bought it.
    static func label(_ status: LicenseStatus) -> String {
        switch status {
        case .active: "In use"
        case .inactive: "Ready to activate"
        case .expired: "Expired"
        case .disabled: "Turned off by the seller"
        case .revoked: "Withdrawn (refunded)"
        }
    }

    static func values(_ entry: LibraryEntry, links: LibraryLinks, now: Date, rating: Int? = nil) -> [String: Any] {
        let product = entry.product
        let files = entry.files.map { item -> [String: Any] in
            [
                "id": item.file.id, "name": item.file.name, "version": item.file.version,
                "size_label": MoneyFormat.size(item.file.size),
                "download_url": links.download(grantID: entry.grantID, fileID: item.file.id),
                "downloads_left_label": item.downloadsLeft.map(String.init) ?? "Unlimited",
                "exhausted": item.downloadsLeft == 0,
            ]
        }
        let keys = entry.licenseKeys.map { key -> [String: Any] in
            var values: [String: Any] = [
                "key": key.key, "status": key.status(at: now).rawValue, "status_label": Self.label(key.status(at: now)),
                "activation_usage": key.activationUsage,
                "activation_limit_label": key.activationLimit.map(String.init) ?? "unlimited",
                "instances": key.activations.map { activation -> [String: Any] in
                    [
                        "id": activation.id, "name": activation.instanceName,
                        "created_at": DateViews.moment(activation.createdAt),
                        "deactivate_url": LibraryLinks.deactivate(key: key.key, instanceID: activation.id),
                    ]
                },
                "has_instances": !key.activations.isEmpty,
            ]
            if let expiresAt = key.expiresAt { values["expires_at"] = DateViews.day(expiresAt) }
            return values
        }
        let pages = entry.pages.map { page -> [String: Any] in
            ["title": page.title, "url": LibraryLinks.page(productID: product.id, slug: page.slug)]
        }
        return [
            "product_id": product.id, "title": product.title, "kind": product.kind.rawValue,
            "product_url": "/products/\(LibraryLinks.pathSegment(product.slug))",
            "review_url": "/products/\(LibraryLinks.pathSegment(product.slug))#write-review",
            "review_label": rating.map { "Your rating: " + String(repeating: "★", count: $0) + String(repeating: "☆", count: 5 - $0) + " · Edit" }
                ?? "Rate this",
            "order_number": entry.orderNumber, "order_url": "/orders/\(LibraryLinks.pathSegment(entry.orderID))",
            "purchased_at": DateViews.day(entry.purchasedAt),
            "files": files, "has_files": !files.isEmpty,
            "license_keys": keys, "has_license_keys": !keys.isEmpty,
            "pages": pages, "has_pages": !pages.isEmpty,
        ]
    }
}
