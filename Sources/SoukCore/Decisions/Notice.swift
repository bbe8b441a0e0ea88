import Foundation

/// An in-app notification a decision asks for: who hears what, once (`dedupeKey`).
public struct Notice: Sendable, Equatable {
    public var userID: String
    public var type: NotificationType
    public var title: String
    public var body: String
    public var url: String?
    public var dedupeKey: String
    /// Also e-mailed, unless the user turned this type off (`EmailPreferences`).
    public var email: Bool

    public init(
        userID: String, type: NotificationType, title: String, body: String, url: String?, dedupeKey: String,
        email: Bool? = nil
    ) {
        self.userID = userID
        self.type = type
        self.title = title
        self.body = body
        self.url = url
        self.dedupeKey = dedupeKey
        self.email = email ?? type.emailedByDefault
    }
}
