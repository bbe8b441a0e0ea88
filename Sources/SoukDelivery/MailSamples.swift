import Foundation
import SoukCore
import SoukMail

/// Every e-mail the store sends, written for made-up people and orders: the dashboard previews
/// them (and a theme's templates) without touching the database or sending anything.
extension MailComposer {
    /// The e-mails, by the name of their preview page, with how the dashboard lists them.
    public static let samples: [(kind: String, title: String, template: String)] = [
        ("receipt", "Receipt (to the buyer, once paid)", "receipt"),
        ("sale", "New sale (to the seller)", "message"),
        ("refund", "Refund (to the buyer)", "message"),
        ("file-update", "New version of a file (to buyers)", "message"),
        ("password-reset", "Password reset link", "message"),
        ("sign-in", "Sign-in link", "message"),
        ("email-change", "New e-mail address to confirm", "message"),
    ]

    /// The sample e-mail `kind` (see `samples`), or nil for a name that is not one.
    public func sample(_ kind: String, now: Date) -> MailMessage? {
        let base = links.baseURL
        let to = "buyer@example.com"
        let content: MailContent
        switch kind {
        case "receipt": return sampleReceipt(now: now)
        case "sale":
            content = noticeContent(
                name: "Sam Seller", userID: "usr_sample", type: .orderPaid, title: "New sale",
                body: "1 × Moth Atlas (sample) — your share \(Currency.display(2400, currency: "USD")) (order #1042).",
                url: "/dashboard/sales")
        case "refund":
            content = noticeContent(
                name: "Bea Buyer", userID: "usr_sample", type: .orderRefunded, title: "Refund for order #1042",
                body: "\(Currency.display(900, currency: "USD")) refunded.", url: "/orders/ord_sample")
        case "file-update":
            content = fileUpdateContent(
                name: "Bea Buyer", userID: "usr_sample", product: "Moth Atlas (sample)", file: "moth-atlas.pdf", version: 2,
                link: "\(base)/magic/sample")
        case "password-reset":
            content = passwordResetContent(name: "Bea Buyer", email: to, link: "\(base)/password/reset/sample")
        case "sign-in":
            content = signInContent(name: "Bea Buyer", link: "\(base)/magic/sample")
        case "email-change":
            content = emailChangeContent(
                name: "Bea Buyer", oldEmail: to, newEmail: "bea@example.org", link: "\(base)/account/email/confirm/sample")
        default: return nil
        }
        return message(to: to, kind: "sample-\(kind)", content, messageID: "sample-\(kind)@\(host)")
    }
}
