import Foundation

/// Mailbox helpers: `Name <local@domain>` or a bare `local@domain`.
public enum MailAddress {
    /// The bare address of a mailbox, for the SMTP envelope: `"Souk <store@x.com>"` → `store@x.com`,
    /// `" buyer@x.com "` → `buyer@x.com`. Nil when there is no single plausible `local@domain`
    /// (no `@`, whitespace, angle brackets or control characters inside, an unclosed `<`).
    public static func bare(_ mailbox: String) -> String? {
        split(mailbox)?.address
    }

    /// The display name and bare address of a mailbox; the name is nil when there is none.
    /// Surrounding double quotes around the name are removed (and `\"`, `\\` unescaped).
    public static func split(_ mailbox: String) -> (name: String?, address: String)? {
        let trimmed = mailbox.trimmingCharacters(in: .whitespaces)
        var name: String?
        var address: Substring
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            address = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
            let display = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            name = display.isEmpty ? nil : unquote(display)
        } else {
            address = Substring(trimmed)
        }
        address = Substring(address.trimmingCharacters(in: .whitespaces))
        guard isPlausible(address) else { return nil }
        return (name, String(address))
    }

    static func isPlausible(_ address: Substring) -> Bool {
        guard let at = address.lastIndex(of: "@"), at != address.startIndex,
            address.index(after: at) != address.endIndex
        else { return false }
        for scalar in address.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F || scalar == "<" || scalar == ">" || scalar == ","
                || scalar == ";" || scalar.properties.isWhitespace
            {
                return false
            }
        }
        return true
    }

    static func unquote(_ name: String) -> String {
        guard name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") else { return name }
        var result = ""
        var escaped = false
        for character in name.dropFirst().dropLast() {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
