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

    /// A page of a product's keys, newest first, with each buyer's address: the newest, or those
    /// just past `position` (a key's id), only those whose key is `matching` or whose buyer's
    /// address contains it when given. Reads the page's keys and their seats only, whatever
    /// the number sold (the page listed every key, with a query per key and per order: a product
    /// with thousands of sales took seconds).
    public func licenseKeysPage(
        productID: String, from position: ListPosition?, matching text: String?, limit: Int
    ) async throws -> (keys: [(license: LicenseKey, buyerEmail: String)], from: ListPosition?) {
        try await writer.read { db in
            var conditions = ["k.product_id = ?"]
            var arguments: StatementArguments = [productID]
            if let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                // The key itself (keys are upper case; the unique index finds it), or the keys of
                // the buyers whose address holds the text (the account search's index). Those
                // candidates are read first and sorted (`+` keeps SQLite from walking the
                // product's whole index in order instead, testing each key: 29 ms for 100,000).
                // Text hundreds of accounts hold ("gmail") is looked for in each key's order.
                let few = 500
                let buyers = try Self.userIDs(emailContains: text, limit: few + 1, in: db)
                if buyers.count <= few {
                    conditions = [
                        "+k.product_id = ?",
                        """
                        k.rowid IN (SELECT rowid FROM license_keys WHERE key = ?
                                    UNION ALL SELECT rowid FROM license_keys WHERE user_id IN (SELECT value FROM json_each(?)))
                        """,
                    ]
                    arguments += [text.uppercased(), try Self.jsonList(buyers)]
                } else {
                    conditions.append("(k.key = ? OR instr(lower(o.buyer_email), lower(?)) > 0)")
                    arguments += [text.uppercased(), text]
                }
            }
            var applied = position
            var newerFirst = true
            if let position,
                let anchor = try Row.fetchOne(
                    db, sql: "SELECT created_at, id FROM license_keys WHERE id = ? AND product_id = ?", arguments: [position.id, productID])
            {
                if case .olderThan = position {
                    conditions.append("(k.created_at, k.id) < (?, ?)")
                } else {
                    conditions.append("(k.created_at, k.id) > (?, ?)")
                    newerFirst = false
                }
                arguments += [anchor[0] as DatabaseValue, anchor[1] as DatabaseValue]
            } else {
                applied = nil
            }
            let order = newerFirst ? "k.created_at DESC, k.id DESC" : "k.created_at, k.id"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT k.*, o.buyer_email AS buyer_email FROM license_keys k JOIN orders o ON o.id = k.order_id
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?
                    """, arguments: arguments + [max(0, limit)])
            let records = try rows.map { try LicenseKeyRecord(row: $0) }
            let seats = try Self.activeSeats(of: records, in: db)
            let keys = zip(records, rows).map { record, row in
                (license: record.licenseKey(activations: seats[record.id] ?? []), buyerEmail: row["buyer_email"] as String)
            }
            return (newerFirst ? keys : keys.reversed(), applied)
        }
    }

    static func licenseKeys(sql condition: String, _ argument: String, in db: Database) throws -> [LicenseKey] {
        try licenseKeys(sql: condition, arguments: [argument], in: db)
    }

    static func licenseKeys(sql condition: String, arguments: StatementArguments, in db: Database) throws -> [LicenseKey] {
        let keys = try LicenseKeyRecord.fetchAll(
            db, sql: "SELECT * FROM license_keys WHERE \(condition) ORDER BY created_at, unit", arguments: arguments)
        let seats = try activeSeats(of: keys, in: db)
        return keys.map { $0.licenseKey(activations: seats[$0.id] ?? []) }
    }

    /// The seats taken on `keys`, by key id, oldest first: one query for them all.
    static func activeSeats(of keys: [LicenseKeyRecord], in db: Database) throws -> [String: [LicenseActivationRecord]] {
        guard !keys.isEmpty else { return [:] }
        return Dictionary(
            grouping: try LicenseActivationRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM license_activations
                    WHERE license_id IN (SELECT value FROM json_each(?)) AND deactivated_at IS NULL ORDER BY created_at, id
                    """, arguments: [try jsonList(keys.map(\.id))]),
            by: \.licenseID)
    }
}
