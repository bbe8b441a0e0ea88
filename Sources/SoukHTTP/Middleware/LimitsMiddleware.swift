import Hummingbird
import SoukCore

/// Refuses bodies over the JSON limit before reading them (when `Content-Length` says so) and
/// applies the per-IP request rate limit. Health and metrics probes are exempt from the rate limit.
struct LimitsMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let maxBodyBytes: Int
    let requestsPerIP: RateLimiter
    /// The client's address, or IPv6 /64 (`ClientAddress.network`).
    let clientNetwork: @Sendable (Request, Context) -> String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // File and picture uploads have their own, larger limits (the upload limit; 20 MiB).
        let path = request.uri.path
        let isUpload = request.method == .post
            && ((path.hasPrefix("/api/v1/products/") && (path.hasSuffix("/files") || path.hasSuffix("/images")))
                || CSRFMiddleware.streamsFiles(path))
        if !isUpload, let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw SoukError(
                .payloadTooLarge, "The request body is \(length) bytes; this route accepts at most \(maxBodyBytes).")
        }
        if path != "/healthz" && path != "/metrics" {
            try requestsPerIP.hit("ip:\(clientNetwork(request, context))", what: "requests from this address")
        }
        return try await next(request, context)
    }
}
