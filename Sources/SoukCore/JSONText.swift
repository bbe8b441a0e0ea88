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

    /// Reads `["a","b",…]` written without whitespace or escapes (as the catalog stores a
    /// product's tags), without a `JSONDecoder`: every search hit and every product the index
    /// loads decodes its tags, and a decoder per array cost more than the rest of the row.
    /// Nil for any other text (spaces, an escape, a number): decode it properly then.
    public static func plainStringArray(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), close = UInt8(ascii: "]")
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "["), bytes.last == close,
                !bytes.contains(UInt8(ascii: "\\"))
            else { return nil }
            if bytes.count == 2 { return [] }
            var strings: [String] = []
            var index = 1
            while true {
                guard index < bytes.count, bytes[index] == quote else { return nil }
                let start = index + 1
                guard let end = bytes[start...].firstIndex(of: quote) else { return nil }
                guard !bytes[start..<end].contains(where: { $0 < 0x20 }) else { return nil }
                strings.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                index = end + 1
                guard index < bytes.count else { return nil }
                if bytes[index] == close { return index == bytes.count - 1 ? strings : nil }
                guard bytes[index] == comma else { return nil }
                index += 1
            }
        }
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
