import Foundation
import Hummingbird
import Logging

/// Tags the response with `X-Request-Id` and logs one line per request with its outcome, so an
/// operator can go from a user's error page to the log line. The path is logged through
/// `LoggedPath` (no secrets), the query string never.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.init("X-Request-Id")!] = context.id
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        let level: Logger.Level = response.status.code >= 500 ? .error : .info
        context.logger.log(
            level: level,
            "\(request.method) \(LoggedPath.loggable(request.uri.path, route: context.endpointPath)) \(response.status.code)",
            metadata: [
                "status": "\(response.status.code)", "ms": "\(String(format: "%.1f", milliseconds))",
                "ip": "\(context.peerIP ?? "-")",
            ])
        return response
    }
}
