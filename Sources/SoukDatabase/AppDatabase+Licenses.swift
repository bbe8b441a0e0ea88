import Foundation
import GRDB
import SoukCore

/// License keys and their activations.
extension AppDatabase {
    public func licenseKey(_ key: String) async throws -> LicenseKey? {
        try await writer.read { db in try Self.licenseKey(sql: "key = ?", key, in: db) }
    }

    /// The keys one order issued (for its receipt).
    public func licenseKeys(orderID: String) async throws -> [LicenseKey] {
        try await writer.read { db in try Self.licenseKeys(sql: "order_id = ?", orderID, in: db) }
    }

    public func licenseKeys(productID: String) async throws -> [LicenseKey] {
        try await writer.read { db in try Self.licenseKeys(sql: "product_id = ?", productID, in: db) }
    }

    /// Activates `key` on a new instance, atomically against its limit. Throws `notFound` for an
    /// unknown key, `forbidden` for a key that is not usable (disabled, revoked, expired) and
    /// `conflict` when every seat is taken.
    public func activateLicense(key: String, instanceName: String) async throws -> (LicenseKey, LicenseActivation) {
        let now = clock.now()
        let id = ids.make(.activation)
        let ids = self.ids
        return try await writer.write { db in
            guard let license = try Self.licenseKey(sql: "key = ?", key, in: db) else {
                throw SoukError.notFound("The license key")
            }
            if let refusal = LicenseRules.activationRefusal(license, at: now) { throw refusal }
            let record = LicenseActivationRecord(
                id: id, licenseID: license.id, instanceName: instanceName, createdAt: now, deactivatedAt: nil)
            try record.insert(db)
            let activation = record.activation
            let updated = try Self.licenseKey(sql: "id = ?", license.id, in: db)!
            try Self.emitProductWebhook(
                .licenseActivated, productID: updated.productID,
                data: WebhookLicenseData(license: updated, instanceID: activation.id, instanceName: activation.instanceName, at: now),
                now: now, ids: ids, in: db)
            return (updated, activation)
        }
    }

    /// Frees a seat. Throws `notFound` for an unknown key or an instance not active on it.
    public func deactivateLicense(key: String, instanceID: String) async throws -> LicenseKey {
        let now = clock.now()
        let ids = self.ids
        return try await writer.write { db in
            guard let license = try Self.licenseKey(sql: "key = ?", key, in: db) else {
                throw SoukError.notFound("The license key")
            }
            try db.execute(
                sql: "UPDATE license_activations SET deactivated_at = ? WHERE id = ? AND license_id = ? AND deactivated_at IS NULL",
                arguments: [now, instanceID, license.id])
            guard db.changesCount == 1 else { throw SoukError.notFound("The instance \(instanceID) of this license key") }
            let name = try String.fetchOne(
                db, sql: "SELECT instance_name FROM license_activations WHERE id = ?", arguments: [instanceID]) ?? ""
            let updated = try Self.licenseKey(sql: "id = ?", license.id, in: db)!
            try Self.emitProductWebhook(
                .licenseDeactivated, productID: updated.productID,
                data: WebhookLicenseData(license: updated, instanceID: instanceID, instanceName: name, at: now),
                now: now, ids: ids, in: db)
            return updated
        }
    }

    /// The seller turns a key off (`disabled`) or on again (`active`). A revoked key stays revoked.
    public func setLicenseEnabled(key: String, _ enabled: Bool) async throws -> LicenseKey {
        let now = clock.now()
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE license_keys SET status = ?, updated_at = ? WHERE key = ? AND status != 'revoked'",
                arguments: [enabled ? "active" : "disabled", now, key])
            guard let license = try Self.licenseKey(sql: "key = ?", key, in: db) else { throw SoukError.notFound("The license key") }
            return license
        }
    }

    static func licenseKey(sql condition: String, _ argument: String, in db: Database) throws -> LicenseKey? {
        try licenseKeys(sql: condition, argument, in: db).first
    }

    static func licenseKeys(sql condition: String, _ argument: String, in db: Database) throws -> [LicenseKey] {
        try licenseKeys(sql: condition, arguments: [argument], in: db)
    }

    static func licenseKeys(sql condition: String, arguments: StatementArguments, in db: Database) throws -> [LicenseKey] {
        let keys = try LicenseKeyRecord.fetchAll(
            db, sql: "SELECT * FROM license_keys WHERE \(condition) ORDER BY created_at, unit", arguments: arguments)
        return try keys.map { key in
            let activations = try LicenseActivationRecord.filter(
                LicenseActivationRecord.Columns.licenseID == key.id && LicenseActivationRecord.Columns.deactivatedAt == nil
            ).order(LicenseActivationRecord.Columns.createdAt, LicenseActivationRecord.Columns.id).fetchAll(db)
            return key.licenseKey(activations: activations)
        }
    }
}
