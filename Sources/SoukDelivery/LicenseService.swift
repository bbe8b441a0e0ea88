import Foundation
import SoukCore
import SoukDatabase

/// What the license API answers about a key that exists: whether the request did what it asked
/// (`ok`) and, when not, the reason to show.
public struct LicenseAnswer: Sendable {
    public var ok: Bool
    public var error: String?
    public var license: LicenseKey
    public var instance: LicenseActivation?
}

/// The rules of license keys: activation against the key's seats, validation, freeing a
/// seat (its owner's), and turning a key off or on (its seller's, or an admin's). The key is the
/// credential of the public calls; an unknown or malformed key is `notFound`.
public struct LicenseService: Sendable {
    let database: AppDatabase

    public init(database: AppDatabase) { self.database = database }

    public var now: Date { database.clock.now() }

    /// Activates `instanceName` on the key. A key that is not usable, or whose seats are all
    /// taken, is a normal answer (`ok` false with the reason), not a failure.
    public func activate(key raw: String, instanceName rawName: String) async throws -> LicenseAnswer {
        let name = try LicenseRules.instanceName(rawName)
        let (key, license) = try await existingKey(raw)
        do {
            let (updated, activation) = try await database.activateLicense(key: key, instanceName: name)
            return LicenseAnswer(ok: true, error: nil, license: updated, instance: activation)
        } catch let error as SoukError where error.code == .forbidden || error.code == .conflict {
            let current = try await database.licenseKey(key) ?? license
            return LicenseAnswer(ok: false, error: error.detail, license: current, instance: nil)
        }
    }

    /// Whether the key is usable now and, given an instance, whether that instance is active on it.
    public func validate(key raw: String, instanceID: String?) async throws -> LicenseAnswer {
        let (_, license) = try await existingKey(raw)
        let status = license.status(at: now)
        var error: String? = status.isUsable ? nil : "This license key is \(status.rawValue)."
        var instance: LicenseActivation?
        if let instanceID {
            instance = license.activations.first { $0.id == instanceID }
            if instance == nil, error == nil { error = LicenseRules.instanceNotActive(instanceID) }
        }
        return LicenseAnswer(ok: error == nil, error: error, license: license, instance: instance)
    }

    /// Frees the instance's seat. Freeing a seat gives nothing away, so it works whatever the
    /// key's status; an instance not active on the key is an answer, not a failure.
    public func deactivate(key raw: String, instanceID: String) async throws -> LicenseAnswer {
        let (key, license) = try await existingKey(raw)
        let instance = license.activations.first { $0.id == instanceID }
        do {
            let updated = try await database.deactivateLicense(key: key, instanceID: instanceID)
            return LicenseAnswer(ok: true, error: nil, license: updated, instance: instance)
        } catch let error as SoukError where error.code == .notFound {
            let current = try await database.licenseKey(key) ?? license
            return LicenseAnswer(ok: false, error: LicenseRules.instanceNotActive(instanceID), license: current, instance: nil)
        }
    }

    /// The key's owner frees one of its seats; anyone else is told the key does not exist.
    public func freeSeat(key raw: String, instanceID: String, owner user: User) async throws -> LicenseKey {
        let license = try await ownKey(raw, user: user)
        return try await database.deactivateLicense(key: license.key, instanceID: instanceID)
    }

    /// The key if `user` bought it; `notFound` for anyone else's.
    public func ownKey(_ raw: String, user: User) async throws -> LicenseKey {
        let (_, license) = try await existingKey(raw)
        guard license.userID == user.id else { throw SoukError.notFound("The license key") }
        return license
    }

    /// Turns a key off or on, for the product's seller (or an admin), `SellerAccess`'s rule; when
    /// `productID` is given, the key must be one of that product's. A revoked key is `conflict`.
    public func setEnabled(_ enabled: Bool, key raw: String, productID: String? = nil, by user: User) async throws
        -> LicenseKey
    {
        let (_, license) = try await existingKey(raw)
        let sellerID = try await database.productIncludingDeleted(id: license.productID)?.sellerID ?? ""
        try SellerAccess.require(sellerID: sellerID, user: user, notFound: "The license key")
        if let productID, license.productID != productID { throw SoukError.notFound("The license key") }
        guard license.storedStatus != .revoked else { throw LicenseRules.revokedStaysRevoked }
        return try await database.setLicenseEnabled(key: license.key, enabled)
    }

    /// A page of a product's keys with each buyer's e-mail, newest first, for its seller (or an
    /// admin): see `AppDatabase.licenseKeysPage`.
    public func keys(
        of product: Product, by user: User, from position: AppDatabase.ListPosition? = nil, matching text: String? = nil,
        limit: Int
    ) async throws -> (keys: [(license: LicenseKey, buyerEmail: String)], from: AppDatabase.ListPosition?) {
        try SellerAccess.require(sellerID: product.sellerID, user: user, notFound: "The product \(product.id)")
        return try await database.licenseKeysPage(productID: product.id, from: position, matching: text, limit: limit)
    }

    /// The normalized key and its license; `notFound` when it cannot be a key or does not exist.
    private func existingKey(_ raw: String) async throws -> (String, LicenseKey) {
        guard let key = LicenseKeyFormat.normalize(raw), let license = try await database.licenseKey(key) else {
            throw SoukError.notFound("The license key")
        }
        return (key, license)
    }
}
