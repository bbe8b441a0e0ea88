import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukDelivery

/// The private pages of `content` products, for those who own them (an active grant: a refund
/// takes them back) and for the product's seller and admins:
/// `GET /library/{product_id}/pages/{slug}` (HTML) and `GET /api/v1/library/{product_id}/pages/{slug}`.
/// Anyone else is told the page does not exist; a guest asking for the HTML page is sent to sign in.
struct LibraryContentRoutes: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("library/:product_id/pages/:slug", use: page)
        router.get("api/v1/library/:product_id/pages/:slug", use: pageJSON)
    }

    struct PageBody: Encodable, Sendable {
        var productID: String
        var slug: String
        var title: String
        var bodyHTML: String
        var updatedAt: String
    }

    @Sendable func pageJSON(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let (_, page) = try await readablePage(context, user: user)
        return try JSONResponse(
            body: PageBody(
                productID: page.productID, slug: page.slug, title: page.title, bodyHTML: page.bodyHTML,
                updatedAt: Timestamp.rfc3339(page.updatedAt))
        ).response(from: request, context: context)
    }

    @Sendable func page(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else {
            return Pages.redirect(to: "/signin?next=" + StoreViews.pathComponent(request.uri.path))
        }
        let user = try context.require(.signedIn)
        let (product, page, siblings) = try await readablePageAndSiblings(context, user: user)
        return services.pages.render(
            "library_page", title: "\(page.title) · \(product.title)", context: context,
            [
                "product": StoreViews.card(product),
                // Sanitised by the Markdown renderer when the seller saved the page.
                "page": [
                    "slug": page.slug, "title": page.title, "body_html": page.bodyHTML,
                    "updated_at": DateViews.moment(page.updatedAt),
                ],
                "pages": siblings.map { sibling -> [String: Any] in
                    [
                        "title": sibling.title, "is_current": sibling.slug == page.slug,
                        "url": "/library/\(StoreViews.pathComponent(product.id))/pages/\(StoreViews.pathComponent(sibling.slug))",
                    ]
                },
                "has_pages": siblings.count > 1,
            ])
    }

    /// The product and page from the path if `user` may read it (`LibraryService.page`).
    private func readablePage(_ context: SoukRequestContext, user: User) async throws -> (Product, ProductPage) {
        let found = try await readablePageAndSiblings(context, user: user)
        return (found.product, found.page)
    }

    private func readablePageAndSiblings(_ context: SoukRequestContext, user: User) async throws
        -> (product: Product, page: ProductPage, siblings: [ProductPage])
    {
        try await services.library.page(
            productID: try context.decodedParameter("product_id"), slug: try context.decodedParameter("slug"), for: user)
    }
}
