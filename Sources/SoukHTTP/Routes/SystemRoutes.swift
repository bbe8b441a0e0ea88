import Foundation
import Hummingbird
import Prometheus
import SoukCore

/// `/healthz`, `/metrics`, `/api/v1/openapi.json` and the static assets.
struct SystemRoutes: Sendable {
    let services: AppServices
    let metrics: PrometheusCollectorRegistry

    func register(on router: Router<SoukRequestContext>) {
        router.get("healthz", use: health)
        router.get("metrics", use: prometheus)
        router.get("api/v1/openapi.json") { _, context in
            context.allowAnyone()
            return try asset("openapi.json", type: "application/json")
        }
        // Styles and scripts the pages load: cached for an hour (the names do not change per build).
        let assets = [
            ("souk.css", "text/css; charset=utf-8"), ("bell.js", "text/javascript; charset=utf-8"),
            ("upload.js", "text/javascript; charset=utf-8"), ("copy.js", "text/javascript; charset=utf-8"),
            ("local-time.js", "text/javascript; charset=utf-8"),
        ]
        for (name, type) in assets {
            router.get(RouterPath("assets/\(name)")) { _, context in
                context.allowAnyone()
                var response = try asset(name, type: type)
                response.headers[.cacheControl] = "public, max-age=3600"
                return response
            }
        }
    }

    struct HealthBody: Encodable, Sendable {
        var status: String
        var database: String
        var migrations: Int
        var uptimeSeconds: Int
    }

    @Sendable func health(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<HealthBody> {
        context.allowAnyone()
        let uptime = Int(services.database.clock.now().timeIntervalSince(services.startedAt))
        do {
            let migrations = try await services.database.ping()
            return JSONResponse(body: HealthBody(status: "ok", database: "ok", migrations: migrations, uptimeSeconds: uptime))
        } catch {
            context.logger.error("health check: the database does not answer", metadata: ["error": "\(error)"])
            return JSONResponse(
                status: .serviceUnavailable,
                body: HealthBody(status: "unavailable", database: "error", migrations: 0, uptimeSeconds: uptime))
        }
    }

    @Sendable func prometheus(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
    }

    private func asset(_ name: String, type: String) throws -> Response {
        guard let data = services.pages.templates.assets[name] else { throw SoukError.notFound("The asset \(name)") }
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
