import Foundation

/// A platform announcement from the operator (`souk announce`): an in-app notification for every
/// active account, or every account of one role.
public struct Announcement: Sendable, Equatable {
    public let title: String
    public let body: String
    /// Where the notification links: a path in the store or an http(s) address.
    public let url: String?
    public let audience: Role?

    /// Checks what an operator typed: a title (≤ 200 characters), a body (≤ 2,000), and a link
    /// that can only lead somewhere (no `javascript:` or other schemes).
    public init(title: String, body: String, url: String? = nil, audience: Role? = nil) throws {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= 200 else {
            throw SoukError.validation("title", "Give the announcement a title of 1 to 200 characters.")
        }
        guard body.count <= 2000 else { throw SoukError.validation("body", "Keep the text under 2,000 characters.") }
        if let url {
            let lowered = url.lowercased()
            // "/x" stays in the store; "//host" and "/\host" would leave it (browsers read a backslash as "/").
            let isPath = url.hasPrefix("/") && !url.hasPrefix("//") && !url.contains("\\")
            guard isPath || lowered.hasPrefix("https://") || lowered.hasPrefix("http://"),
                !url.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\\" }), url.count <= 2000
            else {
                throw SoukError.validation("url", "The link must be a path in the store (/products/…) or an http(s) address.")
            }
        }
        self.title = title
        self.body = body
        self.url = url
        self.audience = audience
    }
}
