import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukImages

/// The dashboard's picture form (`multipart/form-data`, so it works without JavaScript): the
/// upload goes to a scratch blob, is checked and resized, and the scratch copy (which may carry
/// EXIF and GPS) is removed at once.
extension DashboardPages {
    @Sendable func uploadImage(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (user, owned) = try await ownProduct(context)
        let product = try await catalog.productForUpload(id: owned.id, by: user)
        guard let boundary = MultipartUpload.boundary(of: request.headers[.contentType]) else {
            throw SoukError(.unsupportedMediaType, "Send the picture with the upload form (multipart/form-data).")
        }
        let scratch = BlobStore(root: services.images.blobs.root + "/scratch")
        let form = MultipartUpload(
            boundary: boundary, csrfToken: context.csrfToken, blobs: scratch, maxBytes: Int64(ProductImageService.maximumBytes))
        let asCover = request.uri.queryParameters.get("as") == "cover"
        do {
            if let length = request.headers[.contentLength].flatMap(Int.init),
                length > ProductImageService.maximumBytes + 64 * 1024
            {
                throw SoukError(.payloadTooLarge, "The picture is larger than 20 MiB, the most a picture may have.")
            }
            let (_, blob) = try await form.receive(request.body) { $0 }
            let path = try scratch.path(sha256: blob.sha256)
            defer { try? FileManager.default.removeItem(atPath: path) }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SoukError(.internalError, "The uploaded picture could not be read back from \(path).")
            }
            let image = try await services.images.add(data, to: product, alt: nil, asCover: asCover)
            context.logger.info("product image added", metadata: ["product": "\(product.id)", "image": "\(image.id)"])
            return Pages.redirect(to: "/dashboard/products/\(product.id)?image=\(image.id)#images")
        } catch let error as SoukError
            where [.validationFailed, .payloadTooLarge, .badRequest, .unsupportedMediaType, .conflict].contains(error.code)
        {
            return try await editPage(
                product, form: ProductForm(product), context: context, status: ProblemMapping.status(for: error.code),
                extra: ["image_error": error.detail])
        }
    }

    @Sendable func deleteImage(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (user, owned) = try await ownProduct(context)
        let product = try await catalog.productForUpload(id: owned.id, by: user)
        try await services.database.deleteImage(id: try context.decodedParameter("image"), productID: product.id)
        return Pages.redirect(to: "/dashboard/products/\(product.id)#images")
    }
}
