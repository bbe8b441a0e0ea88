import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukDelivery

/// The license API, shaped like Lemon Squeezy's so existing clients fit:
///
/// - `POST /api/v1/licenses/activate|validate|deactivate`: no sign-in (the key is the credential),
///   limited per client IP. The answer scheme: a request about a key that exists is always
///   answered 200 with `activated|valid|deactivated` true or false and, when false, an `error` to
///   show (limit reached, key disabled/revoked/expired, instance not active on the key). Only
///   requests that are not about an existing key are problems: 404 `not_found` for an unknown (or
///   malformed) key, 400 for a malformed body, 422 for a bad `instance_name`, 429 when throttled.
/// - `POST /api/v1/licenses/{key}/disable|enable`: the product's seller (or an admin) turns a key
///   off or on. Anyone else is told the key does not exist.
/// - `DELETE /api/v1/library/licenses/{key}/activations/{id}`: the key's owner frees a seat.
struct LicenseAPI: Sendable {
    let services: AppServices
    /// The public endpoints' own per-IP budget, tighter than the store-wide one: they need no
    /// account, so this is what stands between a script and the key table.
    let limiter: RateLimiter

    static let requestsPerIPPerMinute = 60

    init(services: AppServices) {
        self.services = services
        // An operator who turned per-IP throttling off (`requests_per_ip_per_minute = 0`, e.g.
        // behind a proxy that throttles) turns this one off too.
        let enabled = services.settings.limits.requestsPerIPPerMinute > 0
        limiter = RateLimiter(
            limit: enabled ? Self.requestsPerIPPerMinute : 0, window: 60, clock: services.database.clock)
    }

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.post("licenses/activate", use: activate)
        api.post("licenses/validate", use: validate)
        api.post("licenses/deactivate", use: deactivate)
        api.post("licenses/:key/disable", use: disable)
        api.post("licenses/:key/enable", use: enable)
        api.delete("library/licenses/:key/activations/:id", use: freeSeat)
    }

    // MARK: Public license API

    struct ActivateRequest: Decodable {
        var licenseKey: String
        var instanceName: String

        enum CodingKeys: String, CodingKey {
            case licenseKey = "license_key"
            case instanceName = "instance_name"
        }
    }

    struct ValidateRequest: Decodable {
        var licenseKey: String
        var instanceID: String?

        enum CodingKeys: String, CodingKey {
            case licenseKey = "license_key"
            case instanceID = "instance_id"
        }
    }

    struct DeactivateRequest: Decodable {
        var licenseKey: String
        var instanceID: String

        enum CodingKeys: String, CodingKey {
            case licenseKey = "license_key"
            case instanceID = "instance_id"
        }
    }

    @Sendable func activate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        try throttle(request, context)
        let body = try await request.decodeJSON(ActivateRequest.self, limit: services.maxBodyBytes)
        let answer = try await services.licenses.activate(key: body.licenseKey, instanceName: body.instanceName)
        if let instance = answer.instance, answer.ok {
            context.logger.info("license activated", metadata: ["license": "\(answer.license.id)", "instance": "\(instance.id)"])
        }
        return try respond(.activated, answer, request, context)
    }

    @Sendable func validate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        try throttle(request, context)
        let body = try await request.decodeJSON(ValidateRequest.self, limit: services.maxBodyBytes)
        let answer = try await services.licenses.validate(key: body.licenseKey, instanceID: body.instanceID)
        return try respond(.valid, answer, request, context)
    }

    @Sendable func deactivate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        try throttle(request, context)
        let body = try await request.decodeJSON(DeactivateRequest.self, limit: services.maxBodyBytes)
        let answer = try await services.licenses.deactivate(key: body.licenseKey, instanceID: body.instanceID)
        if answer.ok {
            context.logger.info(
                "license deactivated", metadata: ["license": "\(answer.license.id)", "instance": "\(body.instanceID)"])
        }
        return try respond(.deactivated, answer, request, context)
    }

    private func respond(_ verb: Answer.Verb, _ answer: LicenseAnswer, _ request: Request, _ context: SoukRequestContext)
        throws -> Response
    {
        try JSONResponse(
            body: Answer(verb, ok: answer.ok, error: answer.error, license: answer.license, instance: answer.instance, now: now)
        ).response(from: request, context: context)
    }

    // MARK: Seller: disable / enable

    @Sendable func disable(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try await setEnabled(false, request, context)
    }

    @Sendable func enable(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try await setEnabled(true, request, context)
    }

    private func setEnabled(_ enabled: Bool, _ request: Request, _ context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.sellerAction)
        let updated = try await services.licenses.setEnabled(enabled, key: try context.decodedParameter("key"), by: user)
        context.logger.info(
            "license \(enabled ? "enabled" : "disabled")", metadata: ["license": "\(updated.id)", "by": "\(user.id)"])
        return try JSONResponse(body: KeyBody(updated, now: now)).response(from: request, context: context)
    }

    // MARK: Buyer: free a seat

    @Sendable func freeSeat(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let updated = try await services.licenses.freeSeat(
            key: try context.decodedParameter("key"), instanceID: try context.decodedParameter("id"), owner: user)
        context.logger.info("license seat freed by its owner", metadata: ["license": "\(updated.id)"])
        return try JSONResponse(body: KeyBody(updated, now: now)).response(from: request, context: context)
    }

    // MARK: Helpers

    private var now: Date { services.licenses.now }

    private func throttle(_ request: Request, _ context: SoukRequestContext) throws {
        try limiter.hit("license:\(services.clientAddress.network(request, context))", what: "license requests from this address")
    }
}
