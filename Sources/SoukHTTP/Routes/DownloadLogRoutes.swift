import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// The download log of a product, for its seller and admins: `GET /api/v1/products/{id}/downloads`
/// and the page `/dashboard/products/{id}/downloads`. A seller who is not verified gets 403 (the
/// log holds buyers' e-mails and addresses); anyone else is told the product does not exist (404),
/// so product IDs leak nothing.
struct DownloadLogRoutes: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.group("api/v1").get("products/:id/downloads", use: list)
        router.get("dashboard/products/:id/downloads", use: page)
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let query = request.uri.queryParameters
        let limit = try query.get("limit").map { raw -> Int in
            guard let value = Int(raw), (1...500).contains(value) else {
                throw SoukError.validation("limit", "limit must be an integer from 1 to 500.")
            }
            return value
        } ?? 500
        // One more than asked: whether there is a next page.
        let (_, log) = try await services.library.downloadLog(
            productID: try context.decodedParameter("id"), by: user, after: query.get("cursor"), limit: limit + 1)
        let page = Array(log.prefix(limit))
        return try JSONResponse(
            body: ListBody(data: page.map(DownloadLogEntryBody.init), nextCursor: log.count > limit ? page.last?.id : nil)
        ).response(from: request, context: context)
    }

    /// Downloads a page of the dashboard's log shows; "Older downloads" goes on from the last.
    static let pageSize = 100

    @Sendable func page(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let id = try context.decodedParameter("id")
        guard context.identity != nil else {
            return Pages.redirect(to: "/signin?next=/dashboard/products/\(LibraryLinks.pathSegment(id))/downloads")
        }
        let user = try context.require(.sellerAction)
        let older = request.uri.queryParameters.get("older").flatMap { $0.isEmpty ? nil : $0 }
        let (product, found) = try await services.library.downloadLog(productID: id, by: user, after: older, limit: Self.pageSize + 1)
        let log = Array(found.prefix(Self.pageSize))
        return services.pages.render(
            "dashboard_downloads", title: "Downloads of \(product.title)", context: context,
            [
                "product_title": product.title,
                "product_url": "/dashboard/products/\(LibraryLinks.pathSegment(product.id))",
                "count": log.count,
                "has_downloads": !log.isEmpty,
                "older_url": (found.count > Self.pageSize ? log.last : nil).map {
                    "/dashboard/products/\(LibraryLinks.pathSegment(product.id))/downloads?older=\(LibraryLinks.pathSegment($0.id))"
                } as Any,
                "newest_url": (older == nil ? nil : "/dashboard/products/\(LibraryLinks.pathSegment(product.id))/downloads") as Any,
                "downloads": log.map { record -> [String: Any] in
                    [
                        "id": record.id, "created_at": DateViews.moment(record.createdAt), "user_email": record.userEmail,
                        "file_name": record.fileName, "file_version": record.fileVersion, "ip": record.ip ?? "",
                        "user_agent": record.userAgent ?? "", "first_byte": record.firstByte, "bytes": record.bytes,
                    ]
                },
            ])
    }
}

struct DownloadLogEntryBody: Encodable, Sendable {
    var id: String
    var fileID: String
    var fileName: String
    var fileVersion: Int
    var userEmail: String
    @Nullable var ip: String?
    @Nullable var userAgent: String?
    var firstByte: Int64
    var bytes: Int64
    var createdAt: String

    init(_ record: DownloadRecord) {
        id = record.id
        fileID = record.fileID
        fileName = record.fileName
        fileVersion = record.fileVersion
        userEmail = record.userEmail
        ip = record.ip
        userAgent = record.userAgent
        firstByte = record.firstByte
        bytes = record.bytes
        createdAt = Timestamp.rfc3339(record.createdAt)
    }
}
