import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// The license API (SPEC §6), shaped like Lemon Squeezy's so existing clients fit:
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
        let name = try Self.instanceName(body.instanceName)
        let (key, license) = try await existingKey(body.licenseKey)
        let answer: Answer
        do {
            let (updated, activation) = try await services.database.activateLicense(key: key, instanceName: name)
            context.logger.info("license activated", metadata: ["license": "\(updated.id)", "instance": "\(activation.id)"])
            answer = Answer(.activated, ok: true, error: nil, license: updated, instance: activation, now: now)
        } catch let error as SoukError where error.code == .forbidden || error.code == .conflict {
            // Not usable, or every seat taken: a normal answer about this key, not a failure.
            let current = try await services.database.licenseKey(key) ?? license
            answer = Answer(.activated, ok: false, error: error.detail, license: current, instance: nil, now: now)
        }
        return try JSONResponse(body: answer).response(from: request, context: context)
    }

    @Sendable func validate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        try throttle(request, context)
        let body = try await request.decodeJSON(ValidateRequest.self, limit: services.maxBodyBytes)
        let (_, license) = try await existingKey(body.licenseKey)
        let now = self.now
        let status = license.status(at: now)
        var error: String? = status.isUsable ? nil : "This license key is \(status.rawValue)."
        var instance: LicenseActivation?
        if let instanceID = body.instanceID {
            instance = license.activations.first { $0.id == instanceID }
            if instance == nil, error == nil { error = Self.instanceNotActive(instanceID) }
        }
        let answer = Answer(.valid, ok: error == nil, error: error, license: license, instance: instance, now: now)
        return try JSONResponse(body: answer).response(from: request, context: context)
    }

    @Sendable func deactivate(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        try throttle(request, context)
        let body = try await request.decodeJSON(DeactivateRequest.self, limit: services.maxBodyBytes)
        let (key, license) = try await existingKey(body.licenseKey)
        let instance = license.activations.first { $0.id == body.instanceID }
        let answer: Answer
        do {
            // Freeing a seat gives nothing away, so it works whatever the key's status.
            let updated = try await services.database.deactivateLicense(key: key, instanceID: body.instanceID)
            context.logger.info("license deactivated", metadata: ["license": "\(updated.id)", "instance": "\(body.instanceID)"])
            answer = Answer(.deactivated, ok: true, error: nil, license: updated, instance: instance, now: now)
        } catch let error as SoukError where error.code == .notFound {
            let current = try await services.database.licenseKey(key) ?? license
            answer = Answer(
                .deactivated, ok: false, error: Self.instanceNotActive(body.instanceID), license: current, instance: nil,
                now: now)
        }
        return try JSONResponse(body: answer).response(from: request, context: context)
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
        let license = try await Self.sellersKey(try context.decodedParameter("key"), user: user, database: services.database)
        let updated = try await Self.setEnabled(enabled, license: license, database: services.database)
        context.logger.info(
            "license \(enabled ? "enabled" : "disabled")", metadata: ["license": "\(license.id)", "by": "\(user.id)"])
        return try JSONResponse(body: KeyBody(updated, now: now)).response(from: request, context: context)
    }

    /// A key of a product `user` sells (or any key, for an admin); `notFound` otherwise, so keys
    /// of other sellers' products leak nothing.
    static func sellersKey(_ raw: String, user: User, database: AppDatabase) async throws -> LicenseKey {
        guard let key = LicenseKeyFormat.normalize(raw), let license = try await database.licenseKey(key) else {
            throw SoukError.notFound("The license key")
        }
        let sellerID = try await database.product(id: license.productID)?.sellerID
        guard user.role == .admin || sellerID == user.id else { throw SoukError.notFound("The license key") }
        return license
    }

    /// Turns a key off or on. A revoked key (refund, lost dispute) is `conflict`: it stays revoked.
    static func setEnabled(_ enabled: Bool, license: LicenseKey, database: AppDatabase) async throws -> LicenseKey {
        guard license.storedStatus != .revoked else {
            throw SoukError(
                .conflict, "This license key was revoked by a refund or a lost dispute; it can be neither enabled nor disabled.")
        }
        return try await database.setLicenseEnabled(key: license.key, enabled)
    }

    // MARK: Buyer: free a seat

    @Sendable func freeSeat(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let license = try await Self.ownKey(try context.decodedParameter("key"), user: user, database: services.database)
        let updated = try await services.database.deactivateLicense(
            key: license.key, instanceID: try context.decodedParameter("id"))
        context.logger.info("license seat freed by its owner", metadata: ["license": "\(license.id)"])
        return try JSONResponse(body: KeyBody(updated, now: now)).response(from: request, context: context)
    }

    /// A key `user` bought; `notFound` for anyone else's.
    static func ownKey(_ raw: String, user: User, database: AppDatabase) async throws -> LicenseKey {
        guard let key = LicenseKeyFormat.normalize(raw), let license = try await database.licenseKey(key),
            license.userID == user.id
        else { throw SoukError.notFound("The license key") }
        return license
    }

    // MARK: Helpers

    private var now: Date { services.database.clock.now() }

    private func throttle(_ request: Request, _ context: SoukRequestContext) throws {
        try limiter.hit("license:\(services.clientAddress.network(request, context))", what: "license requests from this address")
    }

    /// The normalized key and its license; `notFound` when it cannot be a key or does not exist.
    private func existingKey(_ raw: String) async throws -> (String, LicenseKey) {
        guard let key = LicenseKeyFormat.normalize(raw), let license = try await services.database.licenseKey(key) else {
            throw SoukError.notFound("The license key")
        }
        return (key, license)
    }

    /// 1 to 255 characters (Unicode code points, as JSON Schema counts) after trimming, on one line.
    static func instanceName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...255).contains(name.unicodeScalars.count) else {
            throw SoukError.validation("instance_name", "The instance name must be 1 to 255 characters.")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw SoukError.validation("instance_name", "The instance name must be plain text on one line.")
        }
        return name
    }

    static func instanceNotActive(_ id: String) -> String {
        "The instance \(id) is not active on this license key."
    }
}

// MARK: Bodies

extension LicenseAPI {
    /// What `activate`, `validate` and `deactivate` answer (Lemon Squeezy's shape): one of
    /// `activated`, `valid` or `deactivated`, then `error`, `license_key`, `instance` and `meta`.
    struct Answer: Encodable, Sendable {
        enum Verb: String, Sendable { case activated, valid, deactivated }

        struct KeyState: Encodable, Sendable {
            var key: String
            var status: String
            var activationLimit: Int?
            var activationUsage: Int
            var createdAt: String
            var expiresAt: String?

            enum CodingKeys: String, CodingKey {
                case key, status
                case activationLimit = "activation_limit"
                case activationUsage = "activation_usage"
                case createdAt = "created_at"
                case expiresAt = "expires_at"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(key, forKey: .key)
                try container.encode(status, forKey: .status)
                try container.encode(activationLimit, forKey: .activationLimit)  // null: unlimited
                try container.encode(activationUsage, forKey: .activationUsage)
                try container.encode(createdAt, forKey: .createdAt)
                try container.encode(expiresAt, forKey: .expiresAt)  // null: never
            }
        }

        struct Meta: Encodable, Sendable {
            var productID: String
            var orderID: String

            enum CodingKeys: String, CodingKey {
                case productID = "product_id"
                case orderID = "order_id"
            }
        }

        var verb: Verb
        var ok: Bool
        var error: String?
        var licenseKey: KeyState
        var instance: InstanceBody?
        var meta: Meta

        init(_ verb: Verb, ok: Bool, error: String?, license: LicenseKey, instance: LicenseActivation?, now: Date) {
            self.verb = verb
            self.ok = ok
            self.error = error
            licenseKey = KeyState(
                key: license.key, status: license.status(at: now).rawValue, activationLimit: license.activationLimit,
                activationUsage: license.activationUsage, createdAt: Timestamp.rfc3339(license.createdAt),
                expiresAt: license.expiresAt.map(Timestamp.rfc3339))
            self.instance = instance.map(InstanceBody.init)
            meta = Meta(productID: license.productID, orderID: license.orderID)
        }

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ string: String) { stringValue = string }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(ok, forKey: Key(verb.rawValue))
            try container.encode(error, forKey: Key("error"))
            try container.encode(licenseKey, forKey: Key("license_key"))
            try container.encode(instance, forKey: Key("instance"))
            try container.encode(meta, forKey: Key("meta"))
        }
    }

    /// One activation of a key: `{id, name, created_at}`.
    struct InstanceBody: Encodable, Sendable {
        var id: String
        var name: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, name
            case createdAt = "created_at"
        }

        init(_ activation: LicenseActivation) {
            id = activation.id
            name = activation.instanceName
            createdAt = Timestamp.rfc3339(activation.createdAt)
        }
    }

    /// A key as its owner (library) or its seller sees it, with its current instances.
    struct KeyBody: Encodable, Sendable {
        var key: String
        var status: String
        var activationLimit: Int?
        var activationUsage: Int
        var expiresAt: String?
        var createdAt: String
        var instances: [InstanceBody]
        var productID: String
        var orderID: String

        enum CodingKeys: String, CodingKey {
            case key, status, instances
            case activationLimit = "activation_limit"
            case activationUsage = "activation_usage"
            case expiresAt = "expires_at"
            case createdAt = "created_at"
            case productID = "product_id"
            case orderID = "order_id"
        }

        init(_ license: LicenseKey, now: Date) {
            key = license.key
            status = license.status(at: now).rawValue
            activationLimit = license.activationLimit
            activationUsage = license.activationUsage
            expiresAt = license.expiresAt.map(Timestamp.rfc3339)
            createdAt = Timestamp.rfc3339(license.createdAt)
            instances = license.activations.map(InstanceBody.init)
            productID = license.productID
            orderID = license.orderID
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .key)
            try container.encode(status, forKey: .status)
            try container.encode(activationLimit, forKey: .activationLimit)
            try container.encode(activationUsage, forKey: .activationUsage)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(instances, forKey: .instances)
            try container.encode(productID, forKey: .productID)
            try container.encode(orderID, forKey: .orderID)
        }
    }
}
