import Foundation

extension MailMessage {
    /// The message as RFC 5322 text with CRLF line endings, ready for SMTP `DATA` or an `.eml` file:
    /// `From`, `To`, `Reply-To` (when set), `Subject` (RFC 2047 encoded-words when not plain ASCII),
    /// `Date`, `Message-ID`, MIME headers, a blank line, then the text as quoted-printable UTF-8.
    ///
    /// Throws `MailError` (`.invalidHeader`) when a header field holds CR, LF or NUL — a header
    /// injection attempt is refused, not cleaned up — and (`.invalidAddress`) when `from`, `to` or
    /// `reply_to` has no usable address.
    public func rendered() throws -> String {
        try validate()
        var lines: [String] = []
        lines.append("From: " + MailHeader.mailbox(from))
        lines.append("To: " + MailHeader.mailbox(to))
        if let replyTo = replyToAddress {
            lines.append("Reply-To: " + MailHeader.mailbox(replyTo))
        }
        lines.append(MailHeader.unstructured(name: "Subject", value: subject))
        lines.append("Date: " + MailHeader.date(date))
        lines.append("Message-ID: <\(bareMessageID)>")
        if let listUnsubscribe {
            lines.append("List-Unsubscribe: <\(listUnsubscribe)>")
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        lines.append("MIME-Version: 1.0")
        guard let html else {
            lines.append("Content-Type: text/plain; charset=utf-8")
            lines.append("Content-Transfer-Encoding: quoted-printable")
            return lines.joined(separator: "\r\n") + "\r\n\r\n" + QuotedPrintable.encode(text)
        }
        // `=_` cannot occur in quoted-printable output (`=` is always escaped there), so the
        // boundary never collides with a part's content (RFC 2045 §6.7, RFC 2046 §5.1.1).
        let boundary = "=_souk_" + String(bareMessageID.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }, radix: 16)
        lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
        func part(_ type: String, _ body: String) -> String {
            "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + QuotedPrintable.encode(body)
        }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
            + part("text/plain", text) + part("text/html", html) + "--\(boundary)--\r\n"
    }

    /// `rendered()` as UTF-8 bytes.
    public func renderedData() throws -> Data { Data(try rendered().utf8) }

    /// The SMTP envelope sender, `<store@example.com>` (MAIL FROM).
    public func envelopeFrom() throws -> String { "<\(try Self.address(from, field: "from"))>" }

    /// The SMTP envelope recipient, `<buyer@example.com>` (RCPT TO).
    public func envelopeTo() throws -> String { "<\(try Self.address(to, field: "to"))>" }

    /// The message ID without angle brackets, as it appears between `<` and `>` in the header.
    public var bareMessageID: String {
        var id = messageID.trimmingCharacters(in: .whitespaces)
        if id.hasPrefix("<") && id.hasSuffix(">") && id.count >= 2 { id = String(id.dropFirst().dropLast()) }
        return id
    }

    /// `replyTo`, or nil when it is nil or blank.
    var replyToAddress: String? {
        guard let replyTo, !replyTo.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return replyTo
    }

    /// Refuses header injection and unusable addresses or IDs.
    func validate() throws {
        var fields: [(String, String)] = [("from", from), ("to", to), ("subject", subject), ("message_id", messageID)]
        if let replyTo { fields.append(("reply_to", replyTo)) }
        if let listUnsubscribe {
            // A URL in angle brackets: printable ASCII only (RFC 2369).
            guard listUnsubscribe.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" })
            else {
                throw MailError(
                    .invalidHeader, "The mail's unsubscribe URL must be printable ASCII without spaces or angle brackets.",
                    field: "list_unsubscribe")
            }
        }
        for (field, value) in fields
        where value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw MailError(
                .invalidHeader,
                "The mail's \(field) contains a line break or NUL character; refusing to build the message "
                    + "(header injection).", field: field)
        }
        _ = try Self.address(from, field: "from")
        _ = try Self.address(to, field: "to")
        if let replyTo = replyToAddress { _ = try Self.address(replyTo, field: "reply_to") }
        let id = bareMessageID
        if id.isEmpty
            || id.unicodeScalars.contains(where: {
                $0.value < 0x21 || $0.value > 0x7E || $0 == "<" || $0 == ">"
            })
        {
            throw MailError(
                .invalidHeader,
                "The mail's message ID \"\(id)\" must be non-empty printable ASCII without spaces or angle brackets.",
                field: "message_id")
        }
    }

    static func address(_ mailbox: String, field: String) throws -> String {
        guard !mailbox.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }),
            let address = MailAddress.bare(mailbox)
        else {
            let shown = mailbox.unicodeScalars.map { $0.value < 0x20 ? "?" : String($0) }.joined()
            throw MailError(
                .invalidAddress, "The mail's \(field) \"\(shown)\" is not an e-mail address (local@domain).",
                field: field)
        }
        return address
    }
}

/// Header field encoding (RFC 5322 folding, RFC 2047 encoded-words, RFC 5322 dates).
enum MailHeader {
    /// Lines are kept to 76 characters where the content allows (RFC 5322 recommends 78).
    static let lineLimit = 76
    /// UTF-8 bytes per `=?UTF-8?B?…?=` word: 45 bytes → 60 base64 characters → a 72-character word.
    static let bytesPerWord = 45

    /// `Subject: value`, folded at spaces when long; encoded-words when the value is not plain
    /// printable ASCII (or looks like an encoded-word itself, or cannot be folded).
    static func unstructured(name: String, value: String) -> String {
        let prefix = name + ": "
        if needsEncoding(value) || value.split(separator: " ").contains(where: { $0.utf8.count > 900 }) {
            return prefix + encodedWords(value, firstLineRoom: lineLimit - prefix.utf8.count)
                .joined(separator: "\r\n ")
        }
        return fold(prefix + value)
    }

    /// A mailbox for `From`/`To`/`Reply-To`: the display name as encoded-words when not ASCII,
    /// quoted when it holds RFC 5322 specials, then `<address>`. Assumes `validate()` passed.
    static func mailbox(_ mailbox: String) -> String {
        guard let (name, address) = MailAddress.split(mailbox) else { return mailbox }
        guard let name, !name.isEmpty else { return address }
        let display: String
        if needsEncoding(name) {
            display = encodedWords(name, firstLineRoom: lineLimit - 10).joined(separator: "\r\n ")
        } else if name.unicodeScalars.contains(where: { "()<>[]:;@\\,.\"".unicodeScalars.contains($0) }) {
            display = "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                + "\""
        } else {
            display = name
        }
        return "\(display) <\(address)>"
    }

    /// Not printable ASCII (tab allowed), or containing `=?` which a reader would try to decode.
    static func needsEncoding(_ value: String) -> Bool {
        value.unicodeScalars.contains { !($0.value >= 0x20 && $0.value < 0x7F) && $0 != "\t" } || value.contains("=?")
    }

    /// RFC 2047 `B` encoded-words of at most `bytesPerWord` UTF-8 bytes, never splitting a character
    /// (nor a grapheme cluster unless it alone is too long). The first word fits `firstLineRoom`.
    static func encodedWords(_ value: String, firstLineRoom: Int) -> [String] {
        // The first word may be shorter so that `Subject: =?…?=` stays within the line limit.
        let firstBytes = max(6, min(bytesPerWord, ((firstLineRoom - 12) / 4) * 3))
        var words: [String] = []
        var chunk: [UInt8] = []
        func limit() -> Int { words.isEmpty ? firstBytes : bytesPerWord }
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk = []
        }
        for character in value {
            let bytes = Array(String(character).utf8)
            if bytes.count <= limit() {
                if chunk.count + bytes.count > limit() { flush() }
                chunk += bytes
            } else {
                for scalar in character.unicodeScalars {
                    let scalarBytes = Array(String(scalar).utf8)
                    if chunk.count + scalarBytes.count > limit() { flush() }
                    chunk += scalarBytes
                }
            }
        }
        flush()
        return words.isEmpty ? ["=?UTF-8?B??="] : words
    }

    /// Folds an ASCII header line at spaces so each line stays within the limit where possible.
    static func fold(_ line: String) -> String {
        guard line.utf8.count > lineLimit else { return line }
        var result: [String] = []
        var current = ""
        for (index, word) in line.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if index == 0 {
                current = String(word)
            } else if current.utf8.count + 1 + word.utf8.count > lineLimit && !word.isEmpty
                && !current.trimmingCharacters(in: .whitespaces).isEmpty
                && !current.hasSuffix(":")
            {
                result.append(current)
                current = " " + word
            } else {
                current += " " + word
            }
        }
        result.append(current)
        return result.joined(separator: "\r\n")
    }

    /// RFC 5322 date in UTC: `Tue, 24 Nov 2026 10:00:00 +0000`.
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { let n = n ?? 0; return n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}
