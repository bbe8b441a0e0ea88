import Foundation

/// A message about an order between its buyer and its sellers.
public struct OrderMessage: Sendable, Equatable {
    public enum AuthorRole: String, Sendable, Codable { case buyer, seller, admin }

    public var id: String
    public var orderID: String
    public var authorID: String
    public var authorName: String
    public var authorRole: AuthorRole
    public var body: String
    public var createdAt: Date

    public init(
        id: String, orderID: String, authorID: String, authorName: String, authorRole: AuthorRole, body: String,
        createdAt: Date
    ) {
        self.id = id
        self.orderID = orderID
        self.authorID = authorID
        self.authorName = authorName
        self.authorRole = authorRole
        self.body = body
        self.createdAt = createdAt
    }
}

/// Who may say what about an order, and who hears of it.
public enum OrderMessageRules {
    public static let maximumLength = 5000

    /// The text as stored: trimmed, 1–5000 characters. Throws `validationFailed` naming `body`.
    public static func body(_ raw: String?) throws -> String {
        let text = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw SoukError.validation("body", "Write a message (it is empty).") }
        guard text.count <= maximumLength else {
            throw SoukError.validation("body", "Keep a message under \(maximumLength) characters (this one has \(text.count)).")
        }
        return text
    }

    /// The author's part in the order: its buyer or one of its sellers. Admins read (audited)
    /// but do not post; anyone else is told the order does not exist.
    public static func role(of user: User, in order: Order) -> OrderMessage.AuthorRole? {
        if user.id == order.buyerID { return .buyer }
        if order.sellerIDs.contains(user.id) { return .seller }
        return nil
    }

    /// The other side hears of it: a buyer's message reaches every seller of the order; a
    /// seller's reaches the buyer.
    public static func notices(for message: OrderMessage, in order: Order) -> [Notice] {
        let recipients: [String] =
            message.authorRole == .buyer ? order.sellerIDs.sorted() : [order.buyerID]
        let excerpt = message.body.count > 140 ? String(message.body.prefix(140)) + "…" : message.body
        return recipients.filter { $0 != message.authorID }.map { recipient in
            Notice(
                userID: recipient, type: .messageCreated, title: "New message from \(message.authorName) about order \(order.id)",
                body: excerpt, url: "/orders/\(order.id)#messages", dedupeKey: "message:\(message.id):\(recipient)")
        }
    }
}
