import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Counts requests and times them for `/metrics`, under the names and dimensions of
/// Hummingbird's `MetricsMiddleware` (`hb.requests`, `http.server.request.duration`,
/// `hb.request.errors`, `http.server.active_requests`), which it replaces.
///
/// Why not that one: it wraps every response body in a closure to time the write. A body that is
/// one buffer (every page and JSON answer) then loses Hummingbird's fast path, which sends head,
/// body and end in one batch: it went out as three writes to the channel, each a hop to the event
/// loop, and as two TCP segments. Here the time is taken when the answer is ready; for a streamed
/// body (a download) that is the moment its first bytes may go, and the transfer itself is in the
/// download's own log line.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let meters = Meters()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = meters.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let endpoint = meters.endpoint(
                .init(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status))
            endpoint.requests.increment()
            endpoint.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let endpoint = meters.endpoint(.init(route: context.endpointPath ?? "NotFound", method: request.method, status: status))
            endpoint.requests.increment()
            endpoint.errors.increment()
            throw error
        }
    }
}

/// The metric handles, made once per method and per (route, method, status): creating one asks
/// the metrics backend, which takes its own lock and builds the label.
private final class Meters: Sendable {
    struct EndpointKey: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: HTTPResponse.Status
    }

    struct Endpoint: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let errors: Counter

        init(_ key: EndpointKey) {
            let dimensions = [
                ("http.route", key.route), ("http.request.method", key.method.rawValue),
                ("http.response.status_code", String(key.status.code)),
            ]
            requests = Counter(label: "hb.requests", dimensions: dimensions)
            duration = Metrics.Timer(
                label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            errors = Counter(
                label: "hb.request.errors",
                dimensions: [
                    ("http.route", key.route), ("http.request.method", key.method.rawValue),
                    ("error.type", String(key.status.code)),
                ])
        }
    }

    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let endpoints = Mutex<[EndpointKey: Endpoint]>([:])

    func active(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { methods in
            if let meter = methods[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            methods[method] = meter
            return meter
        }
    }

    func endpoint(_ key: EndpointKey) -> Endpoint {
        endpoints.withLock { endpoints in
            if let endpoint = endpoints[key] { return endpoint }
            let endpoint = Endpoint(key)
            endpoints[key] = endpoint
            return endpoint
        }
    }
}
