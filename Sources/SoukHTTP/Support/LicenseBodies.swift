import Foundation
import SoukCore

/// The license API's JSON bodies (Lemon Squeezy's shape for the public calls).
extension LicenseAPI {
    /// What `activate`, `validate` and `deactivate` answer (Lemon Squeezy's shape): one of
    /// `activated`, `valid` or `deactivated`, then `error`, `license_key`, `instance` and `meta`.
    struct Answer: Encodable, Sendable {
        enum Verb: String, Sendable { case activated, valid, deactivated }

        struct KeyState: Encodable, Sendable {
            var key: String
            var status: String
            @Nullable var activationLimit: Int?
            var activationUsage: Int
            var createdAt: String
            @Nullable var expiresAt: String?
        }

        struct Meta: Encodable, Sendable {
            var productID: String
            var orderID: String
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
        @Nullable var activationLimit: Int?
        var activationUsage: Int
        @Nullable var expiresAt: String?
        var createdAt: String
        var instances: [InstanceBody]
        var productID: String
        var orderID: String

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
    }
}
