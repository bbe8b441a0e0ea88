import Foundation

/// Why a message could not be rendered, sent or written. `description` is a sentence for the log
/// and the operator; it never contains the SMTP password.
public struct MailError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// A header field holds CR, LF or NUL (header injection), or a message ID is malformed.
        case invalidHeader = "invalid_header"
        /// `from`, `to` or `reply_to` holds no usable `local@domain` address.
        case invalidAddress = "invalid_address"
        /// `mail.smtp_url` is not an `smtp://` or `smtps://` URL.
        case configuration
        /// The SMTP server could not be reached or did not accept the message.
        case smtp
        /// The `.eml` file could not be written to the outbox.
        case outbox
    }

    public var kind: Kind
    /// The message field the error is about (`from`, `to`, `reply_to`, `subject`, `message_id`).
    public var field: String?
    /// A human sentence: what failed, where, and why.
    public var detail: String
    /// For `.smtp`: libcurl's result code (e.g. 7 = could not connect, 28 = timeout).
    public var curlCode: Int?
    /// For `.smtp`: the server's last reply code when there was one (e.g. 550).
    public var smtpReplyCode: Int?

    public init(_ kind: Kind, _ detail: String, field: String? = nil, curlCode: Int? = nil, smtpReplyCode: Int? = nil) {
        self.kind = kind
        self.detail = detail
        self.field = field
        self.curlCode = curlCode
        self.smtpReplyCode = smtpReplyCode
    }

    public var description: String { detail }

    /// True when sending the same message again cannot succeed: a malformed message, a bad
    /// configuration, or an SMTP 5xx reply (e.g. unknown recipient). Network failures, timeouts
    /// and 4xx replies are temporary.
    public var isPermanent: Bool {
        switch kind {
        case .invalidHeader, .invalidAddress, .configuration: return true
        case .outbox: return false
        case .smtp: return (smtpReplyCode ?? 0) >= 500
        }
    }
}
