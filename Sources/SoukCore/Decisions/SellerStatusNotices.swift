import Foundation

/// What a seller and the admins hear of a seller's standing.
public enum SellerStatusNotices {
    /// A new seller account waits for an admin (sent to each admin).
    public static func awaitingVerification(_ seller: User, adminID: String) -> Notice {
        Notice(
            userID: adminID, type: .sellerAwaitingVerification, title: "\(seller.name) wants to sell here",
            body: "\(seller.email) signed up as a seller and waits for verification. Verify or reject them on the admin page, "
                + "or with `souk seller verify \(seller.email)`.",
            url: "/admin/sellers", dedupeKey: "seller.pending:\(seller.id):\(adminID)")
    }

    /// The seller's own notice of a decision on their account; nil for a change they need not hear
    /// of (back to pending). `changeID` keeps a verify → reject → verify sequence three notices.
    public static func decided(_ seller: User, status: SellerStatus, reason: String?, changeID: String) -> Notice? {
        let why = reason.map { " Reason: \($0)" } ?? ""
        switch status {
        case .verified:
            return Notice(
                userID: seller.id, type: .sellerVerified, title: "Your seller account is verified",
                body: "You can now publish products and sell them in this store.", url: "/dashboard",
                dedupeKey: "seller.verified:\(changeID)")
        case .rejected:
            return Notice(
                userID: seller.id, type: .sellerRejected, title: "Your seller application was turned down",
                body: "An admin did not verify your seller account." + why, url: "/account",
                dedupeKey: "seller.rejected:\(changeID)")
        case .suspended:
            return Notice(
                userID: seller.id, type: .sellerRejected, title: "Your seller account is suspended",
                body: "Your products are no longer on sale." + why, url: "/account",
                dedupeKey: "seller.suspended:\(changeID)")
        case .pending:
            return nil
        }
    }
}
