import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukDelivery

/// `GET /api/v1/library`: everything the caller owns (an active grant), newest purchase first,
/// with fresh signed download links (absolute), downloads left, license keys with their
/// activations, and the private pages.
struct LibraryAPI: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.group("api/v1").get("library", use: list)
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let entries = try await services.library.entries(for: user)
        let now = services.database.clock.now()
        let body = ListBody(
            data: entries.map { LibraryEntryBody($0, links: LibraryLinks(services: services), now: now) }, nextCursor: nil)
        return try JSONResponse(body: body).response(from: request, context: context)
    }
}

/// Fresh absolute download links, made each time the library is shown.
struct LibraryLinks: Sendable {
    let services: AppServices

    func download(grantID: String, fileID: String) -> String {
        services.settings.publicBaseURL + services.downloadLinks.link(grantID: grantID, fileID: fileID)
    }

    /// Where the buyer reads a private page of a content product.
    static func page(productID: String, slug: String) -> String { "/library/\(productID)/pages/\(slug)" }

    /// The form action freeing one seat of a license key.
    static func deactivate(key: String, instanceID: String) -> String {
        "/library/licenses/\(pathSegment(key))/activations/\(pathSegment(instanceID))/deactivate"
    }

    static func pathSegment(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

struct LibraryEntryBody: Encodable, Sendable {
    struct File: Encodable, Sendable {
        var id: String
        var name: String
        var size: Int64
        var version: Int
        var downloadURL: String
        /// nil: unlimited (encoded as null).
        @Nullable var downloadsLeft: Int?
    }

    struct Instance: Encodable, Sendable {
        var id: String
        var name: String
        var createdAt: String
    }

    struct License: Encodable, Sendable {
        var key: String
        var status: String
        @Nullable var activationLimit: Int?
        var activationUsage: Int
        @Nullable var expiresAt: String?
        var instances: [Instance]
    }

    struct Page: Encodable, Sendable {
        var slug: String
        var title: String
    }

    var productID: String
    var title: String
    var slug: String
    var kind: String
    var orderID: String
    var purchasedAt: String
    var files: [File]
    var licenseKeys: [License]
    var pages: [Page]

    init(_ entry: LibraryEntry, links: LibraryLinks, now: Date) {
        productID = entry.product.id
        title = entry.product.title
        slug = entry.product.slug
        kind = entry.product.kind.rawValue
        orderID = entry.orderID
        purchasedAt = Timestamp.rfc3339(entry.purchasedAt)
        files = entry.files.map { item in
            File(
                id: item.file.id, name: item.file.name, size: item.file.size, version: item.file.version,
                downloadURL: links.download(grantID: entry.grantID, fileID: item.file.id), downloadsLeft: item.downloadsLeft)
        }
        licenseKeys = entry.licenseKeys.map { key in
            License(
                key: key.key, status: key.status(at: now).rawValue, activationLimit: key.activationLimit,
                activationUsage: key.activationUsage, expiresAt: key.expiresAt.map(Timestamp.rfc3339),
                instances: key.activations.map {
                    Instance(id: $0.id, name: $0.instanceName, createdAt: Timestamp.rfc3339($0.createdAt))
                })
        }
        pages = entry.pages.map { Page(slug: $0.slug, title: $0.title) }
    }
}
