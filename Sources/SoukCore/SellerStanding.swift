import Foundation

/// Whether an account may act as a seller (create, edit, publish or archive products, upload files,
/// edit private pages, turn license keys off or on, read download logs, see and refund sales),
/// and if not, why. The one rule every seller action applies, whoever calls it (API, pages, services):
/// only a verified seller or an admin acts as a seller.
public enum SellerStanding: Equatable, Sendable {
    /// A verified seller, or an admin (the operator, who never waits for verification).
    case inGoodStanding
    /// A buyer: not a seller at all.
    case notASeller
    /// A seller the operator has not verified (pending), or has rejected or suspended.
    case refused(SellerStatus)

    public init(of user: User) {
        switch user.role {
        case .admin: self = .inGoodStanding
        case .buyer: self = .notASeller
        case .seller:
            let status = user.sellerStatus ?? .pending
            self = status == .verified ? .inGoodStanding : .refused(status)
        }
    }

    public var mayAct: Bool { self == .inGoodStanding }

    /// What to tell a caller who may not act as a seller; nil when they may.
    public var refusal: String? {
        switch self {
        case .inGoodStanding: nil
        case .notASeller: "Only sellers may do this."
        case .refused(.pending), .refused(.verified):
            "Your seller account is pending: it is waiting for the operator's verification; you can sell once it is verified."
        case .refused(.rejected): "Your seller account was rejected; contact the store operator."
        case .refused(.suspended): "Your seller account is suspended; contact the store operator."
        }
    }

    /// Throws `forbidden` with the reason unless the account may act as a seller.
    public static func require(_ user: User) throws {
        if let refusal = SellerStanding(of: user).refusal { throw SoukError(.forbidden, refusal) }
    }
}

extension User {
    /// May this user act as a seller? See `SellerStanding`.
    public var canSell: Bool { SellerStanding(of: self).mayAct }

    /// The admin's reason for rejecting or suspending this seller, shown to them beside their
    /// standing; nil when they may sell (verifying clears it) or none was given.
    public var sellerRefusalReason: String? {
        role == .seller && !canSell ? sellerStatusReason : nil
    }
}

/// The one rule for seller actions on a seller's things (a product, its keys, its download log,
/// its private pages, its sales): the seller in good standing (`SellerStanding`), or an admin.
public enum SellerAccess {
    /// May `user` act on what `sellerID` sells? A seller who is not verified may not, even on
    /// their own products.
    public static func manages(sellerID: String, user: User) -> Bool {
        user.role == .admin || (user.id == sellerID && user.canSell)
    }

    /// Throws `forbidden` with the reason for a seller who is not in good standing, and `notFound`
    /// (`what`) for anyone else who does not manage it: IDs of others' things leak nothing.
    public static func require(sellerID: String, user: User, notFound what: String) throws {
        if user.role == .seller { try SellerStanding.require(user) }
        guard manages(sellerID: sellerID, user: user) else { throw SoukError.notFound(what) }
    }
}
