import CSoukImage
import Dispatch
import Foundation
import SoukCore

/// A product image made ready to serve: the original's size and format, and WebP copies at a
/// few widths, each with every metadata block (EXIF with GPS, XMP) stripped.
public struct PreparedImage: Sendable {
    public struct Variant: Sendable {
        public var width: Int
        public var height: Int
        public var webp: Data
    }
    public var format: String
    public var width: Int
    public var height: Int
    /// Narrowest first; never wider than the original.
    public var variants: [Variant]
}

/// Checks uploaded images by their content and resizes them with libvips.
public struct ImageProcessor: Sendable {
    /// The widths pages ask for (`srcset`): cards, the product page, a wide screen.
    public static let widths = [320, 640, 1280]
    /// Past this many pixels an image is refused before it is decoded (a "decompression bomb":
    /// a small file that would take gigabytes to hold).
    public static let maximumPixels = 50_000_000
    public static let formats: Set<String> = ["jpeg", "png", "webp"]

    public init() {}

    /// The image's variants, or `unsupportedMediaType` for anything that is not a JPEG, PNG or
    /// WebP (whatever it is called), `validationFailed` for a damaged or oversized one. The
    /// decoding runs off the caller's thread: it may take a fraction of a second.
    public func prepare(_ data: Data) async throws -> PreparedImage {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try Self.prepareNow(data) })
            }
        }
    }

    static func prepareNow(_ data: Data) throws -> PreparedImage {
        var info = souk_image_info()
        var error = [CChar](repeating: 0, count: 512)
        let probed = data.withUnsafeBytes { bytes in
            souk_image_probe(bytes.baseAddress, bytes.count, &info, &error, error.count)
        }
        if probed == SOUK_IMAGE_UNAVAILABLE { throw Self.unavailable(error) }
        let format = withUnsafeBytes(of: info.format) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard probed == 0, Self.formats.contains(format) else {
            throw SoukError(
                .unsupportedMediaType,
                "Upload a JPEG, PNG or WebP image; this file is \(probed == 0 ? "an image in another format" : "not an image").")
        }
        let (width, height) = (Int(info.width), Int(info.height))
        guard width > 0, height > 0 else { throw SoukError.validation("image", "The image has no pixels.") }
        guard width * height <= maximumPixels else {
            throw SoukError.validation(
                "image", "The image is \(width) × \(height) pixels; the most it may have is 50 million (e.g. 8000 × 6000).")
        }
        var variants: [PreparedImage.Variant] = []
        // Each width up to the original's, and the original's own when it is narrower than the last.
        var targets = widths.filter { $0 < width }
        if targets.count < widths.count { targets.append(width) }
        for target in targets {
            var output: UnsafeMutableRawPointer?
            var length = 0
            let status = data.withUnsafeBytes { bytes in
                souk_image_webp(bytes.baseAddress, bytes.count, Int32(target), 82, &output, &length, &error, error.count)
            }
            guard status == 0, let output else {
                if status == SOUK_IMAGE_UNAVAILABLE { throw Self.unavailable(error) }
                throw SoukError.validation(
                    "image", "The image could not be read (\(Self.message(error))). Export it again and retry.")
            }
            let webp = Data(bytes: output, count: length)
            souk_image_free(output)
            variants.append(.init(width: target, height: max(1, (height * target + width / 2) / width), webp: webp))
        }
        return PreparedImage(format: format, width: width, height: height, variants: variants)
    }

    /// libvips missing or of another version: the operator's problem, not the uploader's, so the
    /// log gets the reason and what to install, and the seller a 500 with the request id.
    private static func unavailable(_ error: [CChar]) -> SoukError {
        SoukError(.internalError, "Product images cannot be made on this server: \(message(error)).")
    }

    private static func message(_ error: [CChar]) -> String {
        String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
