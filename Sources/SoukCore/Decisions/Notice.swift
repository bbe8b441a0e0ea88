import Foundation

/// An in-app notification a decision asks for: who hears what, once (`dedupeKey`).
public struct Notice: Sendable, Equatable {
    public var userID: String
    /// A stable kind (`order_paid`, `new_sale`, `refund`, `payment_mismatch`, …).
    public var type: String
    public var title: String
    public var body: String
    public var url: String?
    public var dedupeKey: String

    public init(userID: String, type: String, title: String, body: String, url: String?, dedupeKey: String) {
        self.userID = userID
        self.type = type
        self.title = title
        self.body = body
        self.url = url
        self.dedupeKey = dedupeKey
    }
}
