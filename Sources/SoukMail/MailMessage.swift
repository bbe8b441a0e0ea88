import Foundation
import SoukCore

/// An e-mail as Souk sends it: UTF-8 text, and with `html` the same message as HTML beside it
/// (`multipart/alternative`); one recipient.
public struct MailMessage: Sendable, Equatable, Codable {
    public var from: String
    public var to: String
    public var replyTo: String?
    public var subject: String
    public var text: String
    /// The HTML alternative of `text` (a complete document), or nil for a plain-text message.
    public var html: String?
    /// Stable per logical e-mail (e.g. `receipt-ord_…@souk`), so a resend is recognisable.
    public var messageID: String
    public var date: Date
    /// The one-click unsubscribe URL of a notification e-mail (RFC 8058), sent as
    /// `List-Unsubscribe` with `List-Unsubscribe-Post`. Nil for mail the user cannot turn off
    /// (receipts).
    public var listUnsubscribe: String?

    public init(
        from: String, to: String, replyTo: String? = nil, subject: String, text: String, html: String? = nil,
        messageID: String, date: Date, listUnsubscribe: String? = nil
    ) {
        self.html = html
        self.listUnsubscribe = listUnsubscribe
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.messageID = messageID
        self.date = date
    }

    enum CodingKeys: String, CodingKey {
        case from, to, subject, text, html, date
        case replyTo = "reply_to"
        case messageID = "message_id"
        case listUnsubscribe = "list_unsubscribe"
    }
}

/// Sends mail. Throws when the message was not accepted; the `email` job then retries.
public protocol Mailer: Sendable {
    func send(_ message: MailMessage) async throws
}
