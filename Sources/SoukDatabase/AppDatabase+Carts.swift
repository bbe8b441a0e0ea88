import Foundation
import GRDB
import SoukCore

/// Whose cart: a signed-in user's, or a guest's (by the SHA-256 of the guest cookie).
public enum CartOwner: Sendable, Equatable {
    case user(String)
    case guest(tokenHash: String)

    var condition: (sql: String, argument: String) {
        switch self {
        case .user(let id): ("user_id = ?", id)
        case .guest(let hash): ("guest_token_hash = ?", hash)
        }
    }
}

/// Named reads and writes for carts. Every change extends the cart's life by `lifetime`.
extension AppDatabase {
    /// The owner's cart, or nil when there is none or it has expired.
    public func cart(of owner: CartOwner) async throws -> Cart? {
        let now = clock.now()
        return try await writer.read { db in try Self.cart(of: owner, now: now, in: db) }
    }

    /// Puts `productID` in the owner's cart with this quantity and unit price (replacing what was
    /// there), creating the cart if needed. Throws `conflict` for a product in another currency
    /// than the cart's, `validationFailed` past `CartRules.maxLines`.
    public func setCartItem(
        _ productID: String, quantity: Int, unitAmount: Int, owner: CartOwner, lifetime: TimeInterval
    ) async throws -> Cart {
        let now = clock.now()
        let newID = ids.make(.cart)
        return try await writer.write { db in
            let cartID = try Self.cartID(of: owner, creating: newID, now: now, lifetime: lifetime, in: db)
            try Self.putItem(productID, quantity: quantity, unitAmount: unitAmount, cartID: cartID, now: now, in: db)
            return try Self.cart(of: owner, now: now, in: db)!
        }
    }

    /// Removes a product from the owner's cart (nothing happens if it is not there).
    public func removeCartItem(_ productID: String, owner: CartOwner) async throws -> Cart? {
        let now = clock.now()
        return try await writer.write { db in
            let (condition, argument) = owner.condition
            try db.execute(
                sql: "DELETE FROM cart_items WHERE product_id = ? AND cart_id = (SELECT id FROM carts WHERE \(condition))",
                arguments: [productID, argument])
            return try Self.cart(of: owner, now: now, in: db)
        }
    }

    /// Moves a guest's cart into a user's, in one transaction: the guest's choices win for a
    /// product in both (they are the latest); lines that cannot join (another currency, too many)
    /// stay out. The guest cart is deleted. Returns the user's cart.
    public func mergeGuestCart(tokenHash: String, intoUser userID: String, lifetime: TimeInterval) async throws -> Cart? {
        let now = clock.now()
        let newID = ids.make(.cart)
        return try await writer.write { db in
            let guest = CartOwner.guest(tokenHash: tokenHash)
            if let guestCart = try Self.cart(of: guest, now: now, in: db), !guestCart.lines.isEmpty {
                let cartID = try Self.cartID(of: .user(userID), creating: newID, now: now, lifetime: lifetime, in: db)
                for line in guestCart.lines {
                    do {
                        try Self.putItem(
                            line.product.id, quantity: line.quantity, unitAmount: line.unitAmount, cartID: cartID, now: now,
                            in: db)
                    } catch is SoukError {
                        continue
                    }
                }
            }
            try db.execute(sql: "DELETE FROM carts WHERE guest_token_hash = ?", arguments: [tokenHash])
            return try Self.cart(of: .user(userID), now: now, in: db)
        }
    }

    // MARK: Helpers

    private static func cartID(
        of owner: CartOwner, creating newID: String, now: Date, lifetime: TimeInterval, in db: Database
    ) throws -> String {
        let (condition, argument) = owner.condition
        // An expired cart is emptied and starts a new life.
        try db.execute(
            sql: "DELETE FROM cart_items WHERE cart_id = (SELECT id FROM carts WHERE \(condition) AND expires_at <= ?)",
            arguments: [argument, now])
        if let id = try String.fetchOne(db, sql: "SELECT id FROM carts WHERE \(condition)", arguments: [argument]) {
            try db.execute(
                sql: "UPDATE carts SET updated_at = ?, expires_at = ? WHERE id = ?",
                arguments: [now, now.addingTimeInterval(lifetime), id])
            return id
        }
        var cart = CartRecord(
            id: newID, userID: nil, guestTokenHash: nil, createdAt: now, updatedAt: now,
            expiresAt: now.addingTimeInterval(lifetime))
        switch owner {
        case .user(let userID): cart.userID = userID
        case .guest(let hash): cart.guestTokenHash = hash
        }
        try cart.insert(db)
        return newID
    }

    private static func putItem(
        _ productID: String, quantity: Int, unitAmount: Int, cartID: String, now: Date, in db: Database
    ) throws {
        guard let product = try product(id: productID, includingDeleted: true, in: db) else { throw SoukError.notFound("The product \(productID)") }
        let others = try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT p.currency FROM cart_items i JOIN products p ON p.id = i.product_id
                WHERE i.cart_id = ? AND i.product_id != ?
                """, arguments: [cartID, productID])
        let lines = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM cart_items WHERE cart_id = ? AND product_id != ?", arguments: [cartID, productID]) ?? 0
        try CartRules.requireRoom(for: product, otherCurrencies: others, otherLines: lines)
        try db.execute(
            sql: """
                INSERT INTO cart_items (cart_id, product_id, quantity, unit_amount, added_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity, unit_amount = excluded.unit_amount
                """, arguments: [cartID, productID, quantity, unitAmount, now])
    }

    static func cart(of owner: CartOwner, now: Date, in db: Database) throws -> Cart? {
        let (condition, argument) = owner.condition
        guard
            let cart = try CartRecord.fetchOne(
                db, sql: "SELECT * FROM carts WHERE \(condition) AND expires_at > ?", arguments: [argument, now])
        else { return nil }
        let items = try CartItemRecord.filter(CartItemRecord.Columns.cartID == cart.id)
            .order(CartItemRecord.Columns.addedAt, CartItemRecord.Columns.productID).fetchAll(db)
        let lines = try items.compactMap { item -> CartLine? in
            guard let product = try product(id: item.productID, includingDeleted: true, in: db) else { return nil }
            // A fixed price is whatever the product costs today; a pay-what-you-want line keeps
            // the buyer's amount (unavailable if it fell below a raised minimum).
            let unitAmount = product.price.isPayWhatYouWant ? item.unitAmount : product.price.amount
            return CartLine(product: product, quantity: item.quantity, unitAmount: unitAmount, addedAt: item.addedAt)
        }
        return Cart(id: cart.id, lines: lines, expiresAt: cart.expiresAt)
    }
}
