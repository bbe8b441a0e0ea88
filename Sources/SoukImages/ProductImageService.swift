import Foundation
import SoukCore
import SoukDatabase

/// Adds and removes a product's pictures: checks the upload by its content, stores its resized,
/// metadata-free WebP variants in the blob store (by SHA-256) and records them.
public struct ProductImageService: Sendable {
    /// Under the data folder: a blob store of its own, so `/images/…` can serve nothing but images
    /// (a product file's SHA-256 is public; its bytes must not be).
    public static let folder = "images"
    /// The largest image upload taken (a photo straight from a camera fits).
    public static let maximumBytes = 20 * 1_048_576
    let database: AppDatabase
    public let blobs: BlobStore
    let processor = ImageProcessor()

    public init(database: AppDatabase, blobs: BlobStore) {
        self.database = database
        self.blobs = blobs
    }

    /// Adds `data` as the product's cover (`asCover`) or the gallery's last picture. `alt`
    /// describes it for people who cannot see it (the product's title when empty). The caller
    /// has checked the user may change the product.
    public func add(_ data: Data, to product: Product, alt rawAlt: String?, asCover: Bool) async throws -> ProductImage {
        guard data.count <= Self.maximumBytes else {
            throw SoukError(.payloadTooLarge, "The image is \(data.count) bytes; the most an image may have is 20 MiB.")
        }
        let alt = try Self.altText(rawAlt) ?? product.title
        let prepared = try await processor.prepare(data)
        var variants: [ProductImage.Variant] = []
        for variant in prepared.variants {
            let upload = try blobs.beginUpload(maxBytes: Int64(variant.webp.count))
            do {
                try variant.webp.withUnsafeBytes { try upload.write($0) }
                let stored = try upload.finish()
                variants.append(.init(width: variant.width, height: variant.height, sha256: stored.sha256, bytes: variant.webp.count))
            } catch {
                upload.abort()
                throw error
            }
        }
        return try await database.addImage(
            productID: product.id, width: prepared.width, height: prepared.height, alt: alt, variants: variants,
            asCover: asCover)
    }

    /// At most 300 characters on one line; nil when empty.
    static func altText(_ raw: String?) throws -> String? {
        let alt = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !alt.isEmpty else { return nil }
        guard alt.count <= 300, !alt.contains(where: \.isNewline) else {
            throw SoukError.validation("alt", "Describe the image in at most 300 characters, on one line.")
        }
        return alt
    }
}
