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
        let bytes = Array(text.utf8)
        // The lines, whatever their breaks; a break at the very end ends the last line.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0, index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A || bytes[index] == 0x0D {
                lines.append(bytes[start..<index])
                if bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A { index += 1 }
                start = index + 1
            }
            index += 1
        }
        lines.append(bytes[start...])
        if lines.count > 1 && lines.last!.isEmpty { lines.removeLast() }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8 + 2 * lines.count)
        for line in lines {
            encodeLine(line, into: &out)
            out.append(0x0D)
            out.append(0x0A)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let hex = Array("0123456789ABCDEF".utf8)

    /// One line (no line break inside), appended to `out` (a mail is built byte by byte, with no
    /// array per character). A UTF-8 character's escapes are never split by a soft break, so each
    /// encoded line decodes to whole characters.
    static func encodeLine(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        let first = bytes.startIndex
        let startsWithFrom = bytes.starts(with: "From ".utf8)
        var column = 0
        var index = first
        while index < bytes.endIndex {
            // A unit: one byte, plus the continuation bytes of its UTF-8 character.
            var end = index + 1
            if bytes[index] >= 0xC0 {
                while end < bytes.endIndex, bytes[end] & 0xC0 == 0x80, end - index < 4 { end += 1 }
            }
            let isLast = end == bytes.endIndex
            func escapes(_ position: Int, atColumn column: Int) -> Bool {
                switch bytes[position] {
                case 0x20, 0x09: isLast
                case UInt8(ascii: "="): true
                case UInt8(ascii: "."): column == 0
                case UInt8(ascii: "F"): position == first && startsWithFrom
                case 0x21...0x7E: false
                default: true
                }
            }
            func width(atColumn column: Int) -> Int {
                (index..<end).reduce(0) { $0 + (escapes($1, atColumn: column) ? 3 : 1) }
            }
            var pieceColumn = column
            var pieceWidth = width(atColumn: column)
            // A line holds at most 76 characters; a soft break's `=` takes one of them, so content
            // before it stops at 75. The line's final piece may use the 76th column.
            if column > 0 && column + pieceWidth > (isLast ? 76 : 75) {
                out.append(contentsOf: "=\r\n".utf8)
                pieceColumn = 0
                pieceWidth = width(atColumn: 0)
            }
            for position in index..<end {
                let byte = bytes[position]
                if escapes(position, atColumn: pieceColumn) {
                    out.append(UInt8(ascii: "="))
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                } else {
                    out.append(byte)
                }
            }
            column = pieceColumn + pieceWidth
            index = end
        }
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
