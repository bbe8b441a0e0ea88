import Foundation

/// URL-safe base64 without padding (RFC 4648 §5), for tokens and cursors that travel in URLs,
/// cookies and form fields.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Written out rather than built from `base64EncodedString` and three replacements: a CSRF
    /// token is encoded on every page request, and the Foundation path was 5 % of a cached page.
    public static func encode(_ data: Data) -> String {
        let bytes = [UInt8](data)
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            // 3 bytes give 4 characters; 2 give 3 and 1 gives 2 (no padding).
            for position in 0...count {
                output.append(alphabet[Int((group >> (18 - 6 * UInt32(position))) & 63)])
            }
            index += count
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
