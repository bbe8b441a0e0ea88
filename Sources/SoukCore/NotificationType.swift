import Foundation

/// What a notification is about. The raw value is the `type` clients see in the API and on the
/// stream (dotted like the seller webhooks' event names).
public enum NotificationType: String, Sendable, CaseIterable, Codable {
    case orderPaid = "order.paid"
    case orderFulfilled = "order.fulfilled"
    case orderRefunded = "order.refunded"
    case reviewCreated = "review.created"
    case reviewReplied = "review.replied"
    case sellerVerified = "seller.verified"
    case sellerRejected = "seller.rejected"
    case sellerAwaitingVerification = "seller.pending"
    case fileUpdated = "file.updated"
    case messageCreated = "message.created"
    case announcement = "announcement"
    case webhookEndpointFailing = "webhook_endpoint.failing"
    case paymentMismatch = "payment.mismatch"

    /// The important ones are also e-mailed (unless the user turned that off); the rest stay in
    /// the app, where the bell shows them. A buyer's paid order is not: its receipt is the e-mail.
    public var emailedByDefault: Bool {
        switch self {
        case .orderPaid, .orderRefunded, .sellerVerified, .sellerRejected, .sellerAwaitingVerification, .fileUpdated,
            .messageCreated, .announcement, .webhookEndpointFailing, .paymentMismatch:
            true
        case .orderFulfilled, .reviewCreated, .reviewReplied:
            false
        }
    }

    /// The e-mails a user chooses on the account page, in the order shown, by role.
    public static func emailChoices(for role: Role) -> [NotificationType] {
        let everyone: [NotificationType] = [.orderRefunded, .fileUpdated, .messageCreated, .reviewReplied, .announcement]
        switch role {
        case .buyer: return everyone
        case .seller:
            return [.orderPaid, .reviewCreated, .sellerVerified, .sellerRejected, .webhookEndpointFailing] + everyone
        case .admin: return [.sellerAwaitingVerification, .paymentMismatch, .messageCreated, .announcement]
        }
    }

    /// How the account page names the choice.
    public var label: String {
        switch self {
        case .orderPaid: "A sale of one of my products"
        case .orderFulfilled: "An order is ready"
        case .orderRefunded: "A refund"
        case .reviewCreated: "A new review of one of my products"
        case .reviewReplied: "A seller replied to my review"
        case .sellerVerified: "My seller account was verified"
        case .sellerRejected: "My seller application was turned down"
        case .sellerAwaitingVerification: "A new seller awaits verification"
        case .fileUpdated: "A new version of something I bought"
        case .messageCreated: "A new message about an order"
        case .announcement: "Announcements from the store"
        case .webhookEndpointFailing: "One of my webhook endpoints is failing"
        case .paymentMismatch: "A payment did not match its order"
        }
    }
}

/// A user's e-mail choices: the types they turned off (everything else follows its default).
public struct EmailPreferences: Sendable, Equatable {
    public var muted: Set<NotificationType>

    public init(muted: Set<NotificationType> = []) { self.muted = muted }

    public func wantsEmail(_ type: NotificationType) -> Bool { type.emailedByDefault && !muted.contains(type) }
}
