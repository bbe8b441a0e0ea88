import Foundation
import GRDB
import SoukCore

/// Orders: reading them, and the one way their status changes (`setStatus`, through
/// `OrderLifecycle`). Checkout, provider events, refunds and payouts have files of their own.
extension AppDatabase {
    // MARK: Reading

    public func order(id: String) async throws -> Order? {
        try await writer.read { db in try Self.order(id: id, in: db) }
    }

    /// The order a person names: its id (`ord_…`) or its number (`1042`, `#1042`).
    public func order(reference: String) async throws -> Order? {
        let trimmed = reference.trimmingCharacters(in: .whitespaces)
        guard let number = Int(trimmed.hasPrefix("#") ? String(trimmed.dropFirst()) : trimmed) else {
            return try await order(id: trimmed)
        }
        return try await writer.read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT id FROM orders WHERE number = ?", arguments: [number])
            else { return nil }
            return try Self.order(id: id, in: db)
        }
    }

    public func order(provider: String, sessionID: String) async throws -> Order? {
        try await writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT id FROM orders WHERE provider = ? AND provider_session_id = ?", arguments: [provider, sessionID]
            ).flatMap { try Self.order(id: $0, in: db) }
        }
    }

    /// Whose orders a list shows.
    public enum OrderScope: Sendable, Equatable {
        case buyer(String)
        /// Orders with at least one line of this seller's.
        case seller(String)
        case all
    }

    /// Newest first, `limit` per page; `before` is the last order id of the previous page.
    /// Orders in `scope`, newest first: of one `status`, or of any in `statuses`, or all.
    public func orders(
        _ scope: OrderScope, status: OrderStatus? = nil, statuses: Set<OrderStatus>? = nil, limit: Int = 50,
        after cursor: String? = nil
    ) async throws -> [Order] {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            var from = "orders o"
            var (placedAt, id) = ("o.created_at", "o.id")
            switch scope {
            case .buyer(let buyerID):
                conditions.append("o.buyer_id = ?")
                arguments.append(buyerID)
            case .seller(let sellerID):
                // The seller's orders by when they were placed (`seller_orders`), not every
                // order of the store checked for a line of theirs.
                conditions.append("s.seller_id = ?")
                arguments.append(sellerID)
                from = "seller_orders s JOIN orders o ON o.id = s.order_id"
                (placedAt, id) = ("s.created_at", "s.order_id")
            case .all:
                break
            }
            if let status {
                conditions.append("o.status = ?")
                arguments.append(status.rawValue)
            }
            if let statuses {
                conditions.append("o.status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ",")))")
                arguments += statuses.map(\.rawValue).sorted()
            }
            // The anchor's key as stored (its text, not a `Date` written again).
            if let cursor, let anchor = try Row.fetchOne(db, sql: "SELECT created_at, id FROM orders WHERE id = ?", arguments: [cursor]) {
                conditions.append("(\(placedAt), \(id)) < (?, ?)")
                arguments.append(anchor["created_at"] as DatabaseValue)
                arguments.append(anchor["id"] as DatabaseValue)
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let ids = try String.fetchAll(
                db, sql: "SELECT o.id FROM \(from) \(whereClause) ORDER BY \(placedAt) DESC, \(id) DESC LIMIT ?",
                arguments: StatementArguments(arguments + [limit]))
            return try ids.compactMap { try Self.order(id: $0, in: db) }
        }
    }

    /// Every order in `scope`, newest first, read `pageSize` at a time (an account's export must
    /// hold all of them, however many).
    public func allOrders(_ scope: OrderScope, pageSize: Int = 1_000) async throws -> [Order] {
        var orders: [Order] = []
        while true {
            let page = try await self.orders(scope, limit: pageSize, after: orders.last?.id)
            orders += page
            if page.count < pageSize { return orders }
        }
    }

    /// The grants of an order (revoked ones included).
    public func grants(orderID: String) async throws -> [AccessGrant] {
        try await writer.read { db in
            try GrantRecord.filter(GrantRecord.Columns.orderID == orderID).order(GrantRecord.Columns.id).fetchAll(db)
                .map(\.grant)
        }
    }

    public func refunds(orderID: String) async throws -> [RefundRecord] {
        try await writer.read { db in
            try RefundRow.filter(RefundRow.Columns.orderID == orderID).order(RefundRow.Columns.createdAt).fetchAll(db)
                .map(\.refund)
        }
    }

    // MARK: Status

    /// Expires an order still awaiting payment and puts its stock back on sale. Returns false
    /// when the order had moved on (paid, failed…): nothing changes then.
    @discardableResult
    public func expireOrder(id: String) async throws -> Bool {
        let now = clock.now()
        return try await writer.write { db in
            guard let order = try Self.order(id: id, in: db), order.status == .created else { return false }
            try Self.setStatus(id, from: order.status, to: .expired, now: now, in: db)
            try Self.releaseStock(orderID: id, in: db)
            return true
        }
    }

    /// Moves an order along the lifecycle (for fulfilment steps). Throws `conflict` when illegal.
    public func transitionOrder(id: String, to status: OrderStatus) async throws -> Order {
        let now = clock.now()
        return try await writer.write { db in
            guard let order = try Self.order(id: id, in: db) else { throw SoukError.notFound("The order \(id)") }
            try Self.setStatus(id, from: order.status, to: status, now: now, in: db)
            return try Self.order(id: id, in: db)!
        }
    }

    /// The one way an order's status changes: checked against `OrderLifecycle` (an illegal move
    /// throws `conflict`), and only from the status the caller read.
    static func setStatus(_ orderID: String, from current: OrderStatus, to status: OrderStatus, now: Date, in db: Database)
        throws
    {
        try OrderLifecycle.check(orderID: orderID, from: current, to: status)
        try db.executeCached(
            "UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
            [status.rawValue, now, orderID, current.rawValue])
        guard db.changesCount == 1 else {
            throw SoukError(.conflict, "Order \(orderID) changed while it was being updated; try again.")
        }
    }

    static func order(id: String, in db: Database) throws -> Order? {
        // Cached statements: every payment event, job and order page reads an order this way.
        guard let order = try OrderRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM orders WHERE id = ?"), arguments: [id])
        else { return nil }
        let items = try OrderItemRecord.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM order_items WHERE order_id = ? ORDER BY rowid"), arguments: [id])
        return order.order(items: items)
    }
}

/// Access to what one order line bought.
public struct AccessGrant: Sendable, Equatable {
    public var id: String
    public var orderID: String
    public var orderItemID: String
    public var userID: String
    public var productID: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var isActive: Bool { revokedAt == nil }
}

public struct RefundRecord: Sendable, Equatable {
    public var id: String
    public var orderID: String
    public var amount: Int
    public var reason: String?
    public var providerRefundID: String?
    public var requestedBy: String
    public var createdAt: Date
}
