import Foundation
import SoukMail

/// Reads a rendered message back: unfolded headers, RFC 2047 `B` words decoded, QP body decoded.
struct ParsedMail {
    var headers: [(name: String, value: String)] = []
    var rawHeaderLines: [String] = []
    var rawBody = ""
    var body = ""

    init(_ text: String) {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts[0]
        rawBody = parts.dropFirst().joined(separator: "\r\n\r\n")
        rawHeaderLines = head.components(separatedBy: "\r\n")
        var unfolded: [String] = []
        for line in rawHeaderLines {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !unfolded.isEmpty {
                unfolded[unfolded.count - 1] += line
            } else {
                unfolded.append(line)
            }
        }
        for line in unfolded {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((String(line[..<colon]), value))
        }
        body = String(decoding: QuotedPrintable.decode(rawBody), as: UTF8.self)
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The header with encoded-words decoded (whitespace between adjacent words dropped).
    func decoded(_ name: String) -> String? {
        guard let value = header(name) else { return nil }
        let pattern = try! NSRegularExpression(pattern: #"=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=(\s+(?==\?))?"#)
        var result = ""
        var last = value.startIndex
        for match in pattern.matches(in: value, range: NSRange(value.startIndex..., in: value)) {
            let whole = Range(match.range, in: value)!
            result += value[last..<whole.lowerBound]
            let b64 = String(value[Range(match.range(at: 1), in: value)!])
            result += String(decoding: Data(base64Encoded: b64) ?? Data(), as: UTF8.self)
            last = whole.upperBound
        }
        result += value[last...]
        return result
    }
}
