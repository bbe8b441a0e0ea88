/// JSON written by hand for the few values on hot paths (a search answer's snippets, facets and
/// cursor), where a `JSONEncoder` per value cost a tenth of a search over HTTP. Strings are
/// escaped exactly as `JSONEncoder` escapes them with `.withoutEscapingSlashes` (a test holds
/// them to it): quote, backslash and control characters; everything else as UTF-8.
public enum JSONText {
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[start..<index])
                start = index + 1
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: Array("u00".utf8))
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                }
            }
            out.append(contentsOf: bytes[start...])
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `{"key":value,…}` with integer values, keys in Unicode order (`<`).
    public static func appendObject(_ counts: [String: Int], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, (key, count)) in counts.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: Array(String(count).utf8))
        }
        out.append(UInt8(ascii: "}"))
    }
}
