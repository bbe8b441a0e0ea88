import Foundation
import Testing

@testable import SoukMail

@Suite("Rendering RFC 5322 messages")
struct RenderingTests {
    static let date = Date(timeIntervalSince1970: 1_795_514_400)  // Tue, 24 Nov 2026 10:00:00 UTC

    func message(
        from: String = "Souk <store@example.com>", to: String = "buyer@example.com", replyTo: String? = nil,
        subject: String = "Your receipt", text: String = "Thank you.", messageID: String = "receipt-ord_1@souk"
    ) -> MailMessage {
        MailMessage(
            from: from, to: to, replyTo: replyTo, subject: subject, text: text, messageID: messageID, date: Self.date)
    }

    @Test("Headers in order, CRLF everywhere, a blank line before the body")
    func headers() throws {
        let text = try message(replyTo: "Help <help@example.com>").rendered()
        let expected = [
            "From: Souk <store@example.com>",
            "To: buyer@example.com",
            "Reply-To: Help <help@example.com>",
            "Subject: Your receipt",
            "Date: Tue, 24 Nov 2026 10:00:00 +0000",
            "Message-ID: <receipt-ord_1@souk>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Thank you.",
            "",
        ].joined(separator: "\r\n")
        #expect(text == expected)
        #expect(text.hasSuffix("\r\n"))
        // No bare LF or CR anywhere.
        let bytes = Array(text.utf8)
        for (i, byte) in bytes.enumerated() {
            if byte == 0x0A { #expect(i > 0 && bytes[i - 1] == 0x0D) }
            if byte == 0x0D { #expect(i + 1 < bytes.count && bytes[i + 1] == 0x0A) }
        }
    }

    @Test("With HTML: multipart/alternative, the text part first, both quoted-printable, a boundary no part can hold")
    func alternative() throws {
        var mail = message(text: "Total: $39.00", messageID: "receipt-ord_2@souk")
        mail.html = "<p class=\"x\">Total: <b>$39.00</b> – merci</p>"
        let text = try mail.rendered()
        let boundary = try #require(text.firstMatch(of: /boundary="([^"]+)"/)?.1)
        #expect(boundary.hasPrefix("=_souk_"), "`=` never appears unescaped in quoted-printable")
        #expect(text.contains("Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n--\(boundary)\r\n"))
        let parts = text.components(separatedBy: "--\(boundary)")
        #expect(parts.count == 4 && parts[3] == "--\r\n")
        #expect(parts[1].hasPrefix("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nTotal: $39.00"))
        #expect(parts[2].hasPrefix("\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p class=3D\"x\">"))
        #expect(parts[2].contains("=E2=80=93 merci"))
        #expect(try mail.rendered() == text, "the same message renders the same bytes")
    }

    @Test("No Reply-To header when it is nil or blank; angle brackets around the ID are not doubled")
    func optionalHeaders() throws {
        for replyTo in [nil, "", "  "] as [String?] {
            let parsed = ParsedMail(try message(replyTo: replyTo, messageID: "<m1@souk>").rendered())
            #expect(parsed.header("Reply-To") == nil)
            #expect(parsed.header("Message-ID") == "<m1@souk>")
        }
    }

    @Test("Dates are RFC 5322 in UTC with two-digit days")
    func dates() {
        #expect(MailHeader.date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MailHeader.date(Self.date) == "Tue, 24 Nov 2026 10:00:00 +0000")
        #expect(MailHeader.date(Date(timeIntervalSince1970: 951_868_799)) == "Tue, 29 Feb 2000 23:59:59 +0000")
    }

    @Test("A non-ASCII subject becomes UTF-8 encoded-words that decode back, lines within 76")
    func encodedSubject() throws {
        let subject = "Votre reçu — Café Ünïcode 🎉 " + String(repeating: "ß", count: 60)
        let text = try message(subject: subject).rendered()
        let parsed = ParsedMail(text)
        #expect(parsed.header("Subject")!.hasPrefix("=?UTF-8?B?"))
        #expect(parsed.decoded("Subject") == subject)
        let fromSubject = parsed.rawHeaderLines.drop { !$0.hasPrefix("Subject:") }
        let subjectLines = fromSubject.prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        #expect(subjectLines.count > 1)
        for line in subjectLines { #expect(line.utf8.count <= 76) }
        for line in parsed.rawHeaderLines { #expect(line.allSatisfy { $0.isASCII }) }
    }

    @Test("An encoded-word never splits a character")
    func wordBoundaries() {
        let value = String(repeating: "€", count: 40) + "👩‍👩‍👧‍👦"
        for word in MailHeader.encodedWords(value, firstLineRoom: 67) {
            let b64 = String(word.dropFirst(10).dropLast(2))
            let data = Data(base64Encoded: b64)!
            #expect(String(data: data, encoding: .utf8) != nil)
            #expect(word.utf8.count <= 75)
        }
    }

    @Test("An ASCII subject stays readable; a long one is folded at spaces; '=?' is encoded")
    func asciiSubject() throws {
        let long = (1...30).map { "word\($0)" }.joined(separator: " ")
        let parsed = ParsedMail(try message(subject: long).rendered())
        #expect(parsed.header("Subject") == long)
        for line in parsed.rawHeaderLines { #expect(line.utf8.count <= 76) }
        let tricky = ParsedMail(try message(subject: "Price =?UTF-8?B?Zm9v?= ok").rendered())
        #expect(tricky.header("Subject")!.hasPrefix("=?UTF-8?B?"))
        #expect(tricky.decoded("Subject") == "Price =?UTF-8?B?Zm9v?= ok")
    }

    @Test("Display names: non-ASCII encoded, specials quoted, bare addresses kept")
    func displayNames() throws {
        let parsed = ParsedMail(
            try message(from: "Café Souk <store@example.com>", to: "Doe, Jane <jane@example.com>", replyTo: "help@example.com")
                .rendered())
        #expect(parsed.header("From")!.hasPrefix("=?UTF-8?B?"))
        #expect(parsed.decoded("From") == "Café Souk <store@example.com>")
        #expect(parsed.header("To") == "\"Doe, Jane\" <jane@example.com>")
        #expect(parsed.header("Reply-To") == "help@example.com")
        let quoted = ParsedMail(try message(from: "\"Souk \\\"Shop\\\"\" <s@example.com>").rendered())
        #expect(quoted.header("From") == "\"Souk \\\"Shop\\\"\" <s@example.com>")
    }

    @Test(
        "Header injection is refused with a clear error naming the field",
        arguments: [
            ("from", "Souk <store@example.com>\r\nBcc: victim@example.com"),
            ("to", "buyer@example.com\nBcc: victim@example.com"),
            ("reply_to", "help@example.com\rX: y"),
            ("subject", "Hello\r\nBcc: victim@example.com"),
            ("subject", "Hello\nthere"),
            ("message_id", "m1@souk\r\nX-Evil: 1"),
            ("subject", "nul\0byte"),
        ])
    func headerInjection(field: String, value: String) throws {
        var m = message()
        switch field {
        case "from": m.from = value
        case "to": m.to = value
        case "reply_to": m.replyTo = value
        case "subject": m.subject = value
        default: m.messageID = value
        }
        let error = #expect(throws: MailError.self) { try m.rendered() }
        #expect(error?.kind == .invalidHeader)
        #expect(error?.field == field)
        #expect(error?.description.contains("header injection") == true)
        #expect(error?.isPermanent == true)
    }

    @Test("Unusable addresses and message IDs are refused")
    func badValues() throws {
        #expect(throws: MailError.self) { try message(to: "not an address").rendered() }
        #expect(throws: MailError.self) { try message(to: "").rendered() }
        #expect(throws: MailError.self) { try message(from: "Souk <>").rendered() }
        #expect(throws: MailError.self) { try message(replyTo: "nobody").rendered() }
        #expect(throws: MailError.self) { try message(messageID: "").rendered() }
        #expect(throws: MailError.self) { try message(messageID: "has space@souk").rendered() }
        let error = #expect(throws: MailError.self) { try message(to: "buyer at example").rendered() }
        #expect(error?.kind == .invalidAddress && error?.field == "to")
        #expect(error?.description.contains("buyer at example") == true)
    }

    @Test("The text may contain anything: it is the body, not a header")
    func bodyIsFree() throws {
        let parsed = ParsedMail(try message(text: "Line one\r\nBcc: x@example.com\n\nLast").rendered())
        #expect(parsed.header("Bcc") == nil)
        #expect(parsed.body == "Line one\r\nBcc: x@example.com\r\n\r\nLast\r\n")
    }
}

@Suite("Quoted-printable bodies")
struct QuotedPrintableTests {
    @Test("The byte-by-byte encoder says what the piece-by-piece one said, on thousands of made-up texts")
    func sameAsByPieces() {
        let pieces = ["a", "word", " ", "\t", "=", ".", "From ", "F", "\n", "\r\n", "\r", "é", "€", "🎉", "日本",
                      String(repeating: "x", count: 70), String(repeating: "é", count: 30), "=3D", "~", "\u{1}"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0...40, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let fast = QuotedPrintable.encode(text), reference = Self.encodeByPieces(text)
            #expect(fast == reference, "\(text.debugDescription)")
        }
    }

    func lines(_ encoded: String) -> [String] {
        #expect(encoded.hasSuffix("\r\n"))
        return encoded.components(separatedBy: "\r\n").dropLast()
    }

    @Test("Plain ASCII passes through; '=' is escaped")
    func plain() {
        #expect(QuotedPrintable.encode("Hello, world!") == "Hello, world!\r\n")
        #expect(QuotedPrintable.encode("a=b") == "a=3Db\r\n")
        #expect(QuotedPrintable.encode("") == "\r\n")
    }

    @Test("UTF-8 bytes are escaped individually")
    func utf8() {
        #expect(QuotedPrintable.encode("Café") == "Caf=C3=A9\r\n")
        #expect(QuotedPrintable.encode("€") == "=E2=82=AC\r\n")
        let text = "Grüße aus Köln — 🎉 ünïcödé"
        #expect(String(decoding: QuotedPrintable.decode(QuotedPrintable.encode(text)), as: UTF8.self) == text + "\r\n")
    }

    @Test("Trailing spaces and tabs are escaped; inner ones are not")
    func trailingWhitespace() {
        #expect(QuotedPrintable.encode("end \nmid dle\t\nx") == "end=20\r\nmid dle=09\r\nx\r\n")
    }

    @Test("Line endings become CRLF; a trailing newline does not add a blank line")
    func lineEndings() {
        #expect(QuotedPrintable.encode("a\nb\r\nc\rd\n") == "a\r\nb\r\nc\r\nd\r\n")
        #expect(QuotedPrintable.encode("a\n\nb") == "a\r\n\r\nb\r\n")
    }

    @Test("A leading dot and 'From ' are escaped")
    func dotAndFrom() {
        #expect(QuotedPrintable.encode(".\n.hidden\nFrom here\nFrom") == "=2E\r\n=2Ehidden\r\n=46rom here\r\nFrom\r\n")
    }

    @Test("Long lines get soft breaks within 76 characters, never inside an escape", arguments: [1, 75, 76, 77, 200, 1000])
    func softBreaks(length: Int) {
        for filler in ["a", "é", "=", " ", "ab é=", "x."] {
            var text = String(repeating: filler, count: length)
            text = String(text.prefix(length))
            let encoded = QuotedPrintable.encode(text)
            for line in lines(encoded) {
                #expect(line.utf8.count <= 76, "\(filler) × \(length): \(line)")
                // A soft break is one '=' at the end, not a cut escape like "=C".
                if line.hasSuffix("=") {
                    #expect(line.range(of: #"=[0-9A-F]?=$"#, options: .regularExpression) == nil || line.hasSuffix("=3D="))
                }
                #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
            }
            #expect(String(decoding: QuotedPrintable.decode(encoded), as: UTF8.self) == text + "\r\n")
        }
    }

    @Test("A soft break never splits a UTF-8 character's escapes")
    func wholeCharacters() {
        let text = "a" + String(repeating: "é", count: 40) + String(repeating: "🎉", count: 20)
        for line in lines(QuotedPrintable.encode(text)) {
            let content = line.hasSuffix("=") ? String(line.dropLast()) : line
            #expect(String(validating: QuotedPrintable.decode(content), as: UTF8.self) != nil, "\(line)")
        }
    }

    @Test("A 76-character line needs no soft break; 77 does")
    func exactLimit() {
        let line76 = String(repeating: "a", count: 76)
        #expect(QuotedPrintable.encode(line76) == line76 + "\r\n")
        let encoded = QuotedPrintable.encode(line76 + "b")
        #expect(encoded == String(repeating: "a", count: 75) + "=\r\nab\r\n")
    }

    @Test("Decoding is lenient with malformed escapes")
    func lenientDecode() {
        #expect(QuotedPrintable.decode("a=zz=4") == Array("a=zz=4".utf8))
        #expect(QuotedPrintable.decode("soft=\nbreak=3d") == Array("softbreak=".utf8))
    }
}

@Suite("Addresses")
struct AddressTests {
    @Test(
        "The bare address for the envelope",
        arguments: [
            ("Souk <store@example.com>", "store@example.com"),
            ("store@example.com", "store@example.com"),
            ("  store@example.com  ", "store@example.com"),
            ("<store@example.com>", "store@example.com"),
            ("\"Doe, Jane\" <jane@example.com>", "jane@example.com"),
            ("Café <café@exämple.com>", "café@exämple.com"),
            ("A <b> <c@example.com>", "c@example.com"),
            ("Name < spaced@example.com >", "spaced@example.com"),
        ])
    func bare(mailbox: String, address: String) {
        #expect(MailAddress.bare(mailbox) == address)
    }

    @Test("No address, no answer", arguments: ["", "Souk", "Souk <>", "a b@example.com", "@example.com", "a@", "Souk <store@example.com", "a@b, c@d", "a@b\r\n"])
    func notAnAddress(mailbox: String) {
        #expect(MailAddress.bare(mailbox) == nil)
    }

    @Test("Display names are split off and unquoted")
    func split() {
        #expect(MailAddress.split("\"Doe, \\\"J\\\"\" <j@x.io>")?.name == "Doe, \"J\"")
        #expect(MailAddress.split("j@x.io")?.name == nil)
        #expect(MailAddress.split("<j@x.io>")?.name == nil)
    }

    @Test("The envelope uses angle brackets around the bare address")
    func envelope() throws {
        let m = MailMessage(
            from: "Souk <store@example.com>", to: "Buyer <buyer@example.com>", subject: "s", text: "t", messageID: "m@souk",
            date: Date())
        #expect(try m.envelopeFrom() == "<store@example.com>")
        #expect(try m.envelopeTo() == "<buyer@example.com>")
    }
}

/// The encoder as first written (an array per byte and per character, strings per line), kept to
/// hold the byte-by-byte one to the same output.
extension QuotedPrintableTests {
    static func encodeByPieces(_ text: String) -> String {
        var normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if normalized.hasSuffix("\n") { normalized.removeLast() }
        if normalized.isEmpty { return "\r\n" }
        var output = ""
        output.reserveCapacity(normalized.utf8.count + normalized.utf8.count / 8)
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            output += encodeLineByPieces(Array(line.utf8))
            output += "\r\n"
        }
        return output
    }

    static let hex = Array("0123456789ABCDEF".utf8)

    /// One line (no line break inside). A UTF-8 character's escapes are never split by a soft
    /// break, so each encoded line decodes to whole characters.
    static func encodeLineByPieces(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var column = 0
        let startsWithFrom = bytes.starts(with: Array("From ".utf8))
        var index = 0
        while index < bytes.count {
            // A unit: one byte, plus the continuation bytes of its UTF-8 character.
            var end = index + 1
            if bytes[index] >= 0xC0 {
                while end < bytes.count, bytes[end] & 0xC0 == 0x80, end - index < 4 { end += 1 }
            }
            let isLast = end == bytes.count
            func piece(atColumn column: Int) -> [UInt8] {
                var piece: [UInt8] = []
                for position in index..<end {
                    let byte = bytes[position]
                    let mustEscape: Bool
                    switch byte {
                    case 0x20, 0x09: mustEscape = isLast
                    case UInt8(ascii: "="): mustEscape = true
                    case UInt8(ascii: "."): mustEscape = column == 0
                    case UInt8(ascii: "F"): mustEscape = position == 0 && startsWithFrom
                    case 0x21...0x7E: mustEscape = false
                    default: mustEscape = true
                    }
                    piece += mustEscape ? [UInt8(ascii: "="), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0x0F)]] : [byte]
                }
                return piece
            }
            var encoded = piece(atColumn: column)
            // A line holds at most 76 characters; a soft break's `=` takes one of them, so content
            // before it stops at 75. The line's final piece may use the 76th column.
            if column > 0 && column + encoded.count > (isLast ? 76 : 75) {
                out += [UInt8(ascii: "="), 0x0D, 0x0A]
                column = 0
                encoded = piece(atColumn: 0)
            }
            out += encoded
            column += encoded.count
            index = end
        }
        return String(decoding: out, as: UTF8.self)
    }

}
