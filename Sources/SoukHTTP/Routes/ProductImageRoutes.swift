import Foundation
import Hummingbird
import NIOCore
import SoukCatalog
import SoukCore
import SoukDatabase
import SoukImages

/// A product's pictures over the API (`/api/v1/products/{id}/images`) and the pictures themselves
/// (`/images/{sha256}.webp`): content-addressed, so a browser or CDN may keep them for a year.
struct ProductImageRoutes: Sendable {
    let services: AppServices
    var catalog: CatalogService { services.catalog }

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.get("products/:id/images", use: list)
        api.post("products/:id/images", use: upload)
        api.delete("products/:id/images/:image", use: delete)
        router.get("images/:name", use: serve)
    }

    @Sendable func list(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ListBody<ImageBody>> {
        let user = context.allowAnyone()
        let product = try await catalog.visibleProduct(id: try context.parameters.require("id"), to: user)
        let images = try await services.database.images(productID: product.id)
        return JSONResponse(body: ListBody(data: images.map(ImageBody.init), nextCursor: nil))
    }

    /// The raw body is the image (JPEG, PNG or WebP, told apart by content); `?cover=true` makes it
    /// the cover, `?alt=` describes it. Answers 201 with its variants.
    @Sendable func upload(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ImageBody> {
        let user = try context.require(.verifiedSeller)
        let product = try await catalog.productForUpload(id: try context.parameters.require("id"), by: user)
        let limit = ProductImageService.maximumBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw SoukError(.payloadTooLarge, "The image is \(length) bytes; the most an image may have is 20 MiB.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw SoukError(.payloadTooLarge, "The image is larger than 20 MiB, the most an image may have.")
        }
        let cover: Bool
        switch request.uri.queryParameters.get("cover") {
        case nil, "false": cover = false
        case "true": cover = true
        default: throw SoukError.validation("cover", "Say cover=true to make the picture the cover, or leave it out.")
        }
        let image = try await services.images.add(
            Data(buffer: buffer), to: product, alt: Self.formValue("alt", in: request.uri.query), asCover: cover)
        context.logger.info(
            "product image added",
            metadata: ["product": "\(product.id)", "image": "\(image.id)", "position": "\(image.position)"])
        return JSONResponse(
            status: .created, body: ImageBody(image), location: "/api/v1/products/\(product.id)/images")
    }

    /// A query parameter as a form encodes it (`+` for a space, then percent-escapes), which
    /// `URI.queryParameters` leaves as a `+`.
    static func formValue(_ name: String, in query: String?) -> String? {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    @Sendable func delete(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.verifiedSeller)
        let product = try await catalog.productForUpload(id: try context.parameters.require("id"), by: user)
        try await services.database.deleteImage(id: try context.parameters.require("image"), productID: product.id)
        return Response(status: .noContent)
    }

    /// `<sha256>.webp` from the images store only (never the product files' store).
    @Sendable func serve(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let name = try context.decodedParameter("name")
        guard name.hasSuffix(".webp") else { throw SoukError.notFound("The image \(name)") }
        let sha256 = String(name.dropLast(5))
        let path = try services.images.blobs.path(sha256: sha256)
        let etag = "\"\(sha256)\""
        var headers: HTTPFields = [
            .contentType: "image/webp", .cacheControl: "public, max-age=31536000, immutable", .eTag: etag,
        ]
        if request.headers[.ifNoneMatch] == etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw SoukError.notFound("The image \(name)") }
        return Response(
            status: .ok, headers: headers,
            body: request.method == .head ? ResponseBody() : .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// An image as the API shows it.
struct ImageBody: Encodable, Sendable {
    struct Variant: Encodable, Sendable {
        var width: Int
        var height: Int
        var url: String
        var bytes: Int
    }
    var id: String
    var position: Int
    var isCover: Bool
    var width: Int
    var height: Int
    var alt: String
    /// The widest variant.
    var url: String
    var srcset: String
    var variants: [Variant]
    var createdAt: String

    init(_ image: ProductImage) {
        id = image.id
        position = image.position
        isCover = image.position == 0
        width = image.width
        height = image.height
        alt = image.alt
        url = image.variants.last.map(ProductImage.path) ?? ""
        srcset = image.srcset
        variants = image.variants.map {
            Variant(width: $0.width, height: $0.height, url: ProductImage.path(of: $0), bytes: $0.bytes)
        }
        createdAt = Timestamp.rfc3339(image.createdAt)
    }
}
