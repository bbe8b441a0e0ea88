import HTTPTypes
import Hummingbird
import SoukCore

/// A known address asked with a method it does not take gets 405 with an `Allow` header listing
/// the methods it does take, before any other check (CSRF, authentication) can answer with
/// something that misleads a client about what went wrong. Unknown addresses go on to the router's 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = SoukRequestContext
    let routes: RouteTableReference
    let errors: ErrorMiddleware

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard !routes.current.accepts(request.method, path: request.uri.path) else { return try await next(request, context) }
        let allowed = routes.current.methods(for: request.uri.path)
        let names = allowed.map(\.rawValue).sorted()
        var response = errors.respond(
            SoukError(
                .methodNotAllowed,
                "\(request.uri.path) does not accept \(request.method.rawValue); it accepts \(names.joined(separator: ", "))."),
            to: request, context: context)
        response.headers[.allow] = names.joined(separator: ", ")
        return response
    }
}
