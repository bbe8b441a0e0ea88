import Foundation
import GRDB
import SoukCore

/// What fulfilling an order did.
public struct Fulfilment: Sendable, Equatable {
    public var order: Order
    /// Keys issued by this run (empty when an earlier run issued them).
    public var issuedKeys: [LicenseKey]
    /// False when the order had been fulfilled before: nothing changed.
    public var isNew: Bool
}

/// Fulfilment: delivering a paid order as `FulfilmentDecision` plans it, and completing it.
extension AppDatabase {

    /// Delivers a paid order in one transaction, as `FulfilmentDecision` plans it: one license
    /// key per unit of each `license` line (with the product's activation limit), the order
    /// marked fulfilled (`paid → fulfilled`; a partly refunded or disputed order keeps its
    /// status), in-app notices to the buyer and the sellers, and the `followUps` jobs (the
    /// receipt). Idempotent: a second run changes nothing. Returns nil when the order is not paid
    /// up (or its access was revoked).
    public func fulfil(orderID: String, followUps: [JobRequest]) async throws -> Fulfilment? {
        let now = clock.now()
        let ids = self.ids
        let queue = JobQueue(database: self)
        return try await writer.write { db in
            guard let order = try Self.order(id: orderID, in: db) else { return nil }
            let fulfilledBefore =
                try Date.fetchOne(db, sql: "SELECT fulfilled_at FROM orders WHERE id = ?", arguments: [orderID]) != nil
            var grants: [String: String] = [:]
            var limits: [String: Int] = [:]
            for item in order.items where item.kind == .license {
                grants[item.id] = try String.fetchOne(
                    db, sql: "SELECT id FROM grants WHERE order_item_id = ? AND revoked_at IS NULL", arguments: [item.id])
                limits[item.productID] = try Int.fetchOne(
                    db, sql: "SELECT activation_limit FROM products WHERE id = ?", arguments: [item.productID])
            }
            let plan = FulfilmentDecision.plan(
                order: order, fulfilledBefore: fulfilledBefore, activeGrants: grants, activationLimits: limits,
                followUps: followUps)
            switch plan {
            case .nothing:
                return nil
            case .catchUp(let markFulfilled):
                if markFulfilled { try Self.setStatus(orderID, from: order.status, to: .fulfilled, now: now, in: db) }
                return Fulfilment(order: try Self.order(id: orderID, in: db)!, issuedKeys: [], isNew: false)
            case .deliver(let keys, let markFulfilled, let notices, let followUps):
                var issued: [LicenseKey] = []
                for planned in keys {
                    let id = ids.make(.license)
                    try db.execute(
                        sql: """
                            INSERT INTO license_keys (id, key, grant_id, order_id, product_id, user_id, unit, status,
                                                      activation_limit, created_at, updated_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) ON CONFLICT (grant_id, unit) DO NOTHING
                            """,
                        arguments: [
                            id, LicenseKeyFormat.make(), planned.grantID, orderID, planned.productID, order.buyerID,
                            planned.unit, planned.seats, now, now,
                        ])
                    if db.changesCount == 1, let key = try Self.licenseKey(sql: "id = ?", id, in: db) { issued.append(key) }
                }
                try db.execute(sql: "UPDATE orders SET fulfilled_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, orderID])
                if markFulfilled { try Self.setStatus(orderID, from: order.status, to: .fulfilled, now: now, in: db) }
                for notice in notices { try Self.notify(notice, now: now, ids: ids, in: db) }
                for job in followUps { try queue.enqueue(job, in: db) }
                return Fulfilment(order: try Self.order(id: orderID, in: db)!, issuedKeys: issued, isNew: true)
            }
        }
    }

    /// `fulfilled → completed`, once every delivery step has succeeded (the receipt was accepted).
    @discardableResult
    public func completeOrder(id: String) async throws -> Bool {
        let now = clock.now()
        return try await writer.write { db in
            guard let order = try Self.order(id: id, in: db), order.status == .fulfilled else { return false }
            try Self.setStatus(id, from: .fulfilled, to: .completed, now: now, in: db)
            return true
        }
    }
}
