/// Quoted-printable (RFC 2045 §6.7) for text bodies.
public enum QuotedPrintable {
    /// Encodes text as UTF-8 quoted-printable with CRLF line endings (and a final CRLF).
    ///
    /// Line breaks (`\n`, `\r\n`, `\r`) become hard CRLF breaks; lines longer than 76 characters
    /// get soft breaks (`=` at the end) without splitting an `=XX` escape; `=`, control and
    /// non-ASCII bytes are escaped, and so are a space or tab ending a line. A `.` or the `F` of
    /// `From ` at the start of a line is escaped too, so SMTP dot handling and mbox readers
    /// cannot alter the text.
    public static func encode(_ text: String) -> String {
        var normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if normalized.hasSuffix("\n") { normalized.removeLast() }
        if normalized.isEmpty { return "\r\n" }
        var output = ""
        output.reserveCapacity(normalized.utf8.count + normalized.utf8.count / 8)
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            output += encodeLine(Array(line.utf8))
            output += "\r\n"
        }
        return output
    }

    static let hex = Array("0123456789ABCDEF".utf8)

    /// One line (no line break inside). A UTF-8 character's escapes are never split by a soft
    /// break, so each encoded line decodes to whole characters.
    static func encodeLine(_ bytes: [UInt8]) -> String {
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
                    piece += mustEscape ? [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]] : [byte]
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

    /// Decodes quoted-printable text (soft breaks removed, `=XX` unescaped) to bytes; lenient with
    /// malformed escapes, which are kept as they are.
    public static func decode(_ encoded: String) -> [UInt8] {
        let bytes = Array(encoded.utf8)
        var out: [UInt8] = []
        var i = 0
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "=") {
                if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A {
                    i += 3
                    continue
                }
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A {
                    i += 2
                    continue
                }
                if i + 2 < bytes.count, let high = value(bytes[i + 1]), let low = value(bytes[i + 2]) {
                    out.append(high << 4 | low)
                    i += 3
                    continue
                }
            }
            out.append(byte)
            i += 1
        }
        return out
    }
}
