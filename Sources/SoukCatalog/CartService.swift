import Foundation
import SoukCore
import SoukDatabase

/// Carts: what may go in, at what price, and whose cart a request means.
public struct CartService: Sendable {
    public let database: AppDatabase
    /// How long a cart lives after its last change.
    public let lifetime: TimeInterval

    public init(database: AppDatabase, lifetime: TimeInterval = 30 * 86_400) {
        self.database = database
        self.lifetime = lifetime
    }

    /// Puts a product in the cart (or changes its quantity or amount). Throws `notFound` for a
    /// product the buyer cannot see or buy (drafts, archived, suspended seller), `validationFailed`
    /// for a quantity or amount the rules refuse, `conflict` for a second currency.
    public func add(productID: String, quantity: Int?, amount: Int?, owner: CartOwner) async throws -> Cart {
        guard let product = try await database.product(id: productID), product.status == .published,
            product.sellerListed
        else { throw SoukError.notFound("The product \(productID)") }
        let quantity = try CartRules.quantity(quantity ?? 1, for: product)
        let unitAmount = try CartRules.unitAmount(for: product, offered: amount)
        return try await database.setCartItem(
            product.id, quantity: quantity, unitAmount: unitAmount, owner: owner, lifetime: lifetime)
    }

    public func remove(productID: String, owner: CartOwner) async throws -> Cart? {
        try await database.removeCartItem(productID, owner: owner)
    }

    /// The cart a request means: a signed-in user's (after folding in any guest cart from before
    /// signing in), else the guest cookie's.
    public func cart(user: User?, guestTokenHash: String?) async throws -> Cart? {
        if let user {
            if let guestTokenHash {
                return try await database.mergeGuestCart(tokenHash: guestTokenHash, intoUser: user.id, lifetime: lifetime)
            }
            return try await database.cart(of: .user(user.id))
        }
        guard let guestTokenHash else { return nil }
        return try await database.cart(of: .guest(tokenHash: guestTokenHash))
    }
}
