import Hummingbird
import Logging
import SoukCore

/// Turns every error into a response: `application/problem+json` for API clients, an HTML page
/// for browsers. Internal failures are logged with the request id and shown as "Internal error".
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let pages: Pages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let soukError = Self.translate(
                error, request: request, logger: context.logger,
                path: LoggedPath.loggable(request.uri.path, route: context.endpointPath))
            return respond(soukError, to: request, context: context)
        }
    }

    /// The error as the client wants it: an HTML page for a browser, problem+json otherwise.
    func respond(_ soukError: SoukError, to request: Request, context: Context) -> Response {
        if Self.wantsHTML(request) {
            return pages.error(soukError, context: context)
        }
        return Problem(soukError, path: request.uri.path, requestID: context.id)
            .response(retryAfter: soukError.retryAfterSeconds)
    }

    /// `path` is the request's path as it may be logged (`LoggedPath`).
    static func translate(_ error: any Error, request: Request, logger: Logger, path: String) -> SoukError {
        switch error {
        case let error as SoukError:
            if error.code == .insufficientStorage {
                logger.critical(
                    "the data folder's disk is full: free space, or uploads and writes keep failing",
                    metadata: ["error": "\(error.detail)", "path": "\(path)"])
            }
            guard error.code == .internalError else { return error }
            // The detail may name files or OS errors: the log gets it, the client does not.
            logger.error("request failed", metadata: ["error": "\(error.detail)", "path": "\(path)"])
            return Self.internalError
        case let error as HTTPError:
            let translated = ProblemMapping.soukError(from: error)
            if translated.code == .internalError {
                logger.error("request failed", metadata: ["error": "\(error)", "path": "\(path)"])
            }
            return translated
        case let error as any HTTPResponseError:
            // Other framework errors that carry a status, e.g. NIOTooManyBytesError (413) when a
            // chunked body without Content-Length grows past the limit while being collected.
            let translated = ProblemMapping.soukError(from: HTTPError(error.status))
            if translated.code == .internalError {
                logger.error("request failed", metadata: ["error": "\(error)", "path": "\(path)"])
            }
            return translated
        default:
            logger.error(
                "request failed with an unexpected error",
                metadata: ["error": "\(String(reflecting: error))", "path": "\(path)"])
            return Self.internalError
        }
    }

    static let internalError = SoukError(
        .internalError, "Something went wrong inside Souk. The operator's log has the details under this request id.")

    /// Browsers navigating to a page get HTML; API clients (and `/api/…` paths) get problem+json.
    static func wantsHTML(_ request: Request) -> Bool {
        let path = request.uri.path
        if path.hasPrefix("/api/") || path.hasPrefix("/webhooks/") { return false }
        return request.headers[.accept]?.contains("text/html") ?? false
    }
}
