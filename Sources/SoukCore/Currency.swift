import Foundation

/// ISO 4217 amounts as decimal text and back: minor units (what Souk stores) ↔ major units
/// ("19.99", what people type and what PayPal's API takes).
public enum Currency {
    /// Currencies without minor units (ISO 4217 exponent 0); every other one is taken to have two.
    public static let zeroDecimal: Set<String> = ["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"]

    public static func decimals(_ currency: String) -> Int { zeroDecimal.contains(currency.uppercased()) ? 0 : 2 }

    /// Symbols written before the amount; other currencies are written "19.00 CHF".
    public static let symbols: [String: String] = ["USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"]

    /// An amount as people read it, in pages, errors, e-mails and CLI tables: `101999, "USD"` →
    /// "$1,019.99"; `-500, "EUR"` → "-€5.00"; `1900, "CHF"` → "19.00 CHF". (`--json` and the API keep
    /// minor units.)
    public static func display(_ minor: Int, currency: String) -> String {
        let code = currency.uppercased()
        let decimal = decimalString(abs(minor), currency: code)
        let parts = decimal.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole.removeLast(3)
        }
        let number = whole + grouped + (parts.count == 2 ? "." + parts[1] : "")
        let sign = minor < 0 ? "-" : ""
        if let symbol = symbols[code] { return sign + symbol + number }
        return "\(sign)\(number) \(code)"
    }

    /// `1900, "USD"` → "19.00"; `500, "JPY"` → "500".
    public static func decimalString(_ minor: Int, currency: String) -> String {
        let places = decimals(currency)
        guard places > 0 else { return String(minor) }
        let scale = Int(pow(10, Double(places)))
        let sign = minor < 0 ? "-" : ""
        let fraction = String(abs(minor) % scale)
        return "\(sign)\(abs(minor) / scale).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
    }

    /// "19", "19.9", "1019.99" → minor units. Nil for anything else, including more decimals than
    /// the currency has.
    public static func minorUnits(_ text: String, currency: String) -> Int? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let places = decimals(currency)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), parts[0].count <= 12
        else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= places, parts.count == 1 || places > 0, !(parts.count == 2 && fraction.isEmpty) else {
            return nil
        }
        let whole = Int(parts[0].isEmpty ? "0" : String(parts[0])) ?? 0
        let padded = fraction + String(repeating: "0", count: places - fraction.count)
        return whole * Int(pow(10, Double(places))) + (Int(padded.isEmpty ? "0" : padded) ?? 0)
    }
}
