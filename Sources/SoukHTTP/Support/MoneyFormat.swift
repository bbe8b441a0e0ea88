import Foundation
import SoukCore

/// How amounts are written on pages ("$19.00", "Free", "Pay what you want (from $5.00)") and read
/// back from forms, where sellers and buyers type major units ("19.99").
enum MoneyFormat {
    /// Currencies without minor units (ISO 4217 exponent 0); every other one is taken to have two.
    static let zeroDecimal: Set<String> = ["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"]
    static let symbols: [String: String] = ["USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"]

    static func decimals(_ currency: String) -> Int { zeroDecimal.contains(currency.uppercased()) ? 0 : 2 }

    /// `1900, "USD"` → "$19.00"; currencies without a symbol here → "19.00 CHF".
    static func amount(_ minor: Int, currency: String) -> String {
        let code = currency.uppercased()
        let number = major(minor, currency: code)
        if let symbol = symbols[code] { return minor < 0 ? "-\(symbol)\(number.dropFirst())" : "\(symbol)\(number)" }
        return "\(number) \(code)"
    }

    /// `1900, "USD"` → "19.00" (for form fields).
    static func major(_ minor: Int, currency: String) -> String {
        let places = decimals(currency)
        guard places > 0 else { return String(minor) }
        let scale = Int(pow(10, Double(places)))
        let sign = minor < 0 ? "-" : ""
        let fraction = String(abs(minor) % scale)
        return "\(sign)\(abs(minor) / scale).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
    }

    /// What a product costs, in words.
    static func price(_ price: Price) -> String {
        if let minimum = price.minimum {
            return minimum == 0
                ? "Pay what you want"
                : "Pay what you want (from \(amount(minimum, currency: price.currency)))"
        }
        return price.amount == 0 ? "Free" : amount(price.amount, currency: price.currency)
    }

    /// Reads a major-unit amount typed by a person ("19", "19.9", "$1,019.99") as minor units.
    /// Nil for anything else, including more decimals than the currency has.
    static func minorUnits(_ raw: String, currency: String) -> Int? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        text.removeAll { $0 == "," || $0 == " " }
        if let symbol = symbols[currency.uppercased()], text.hasPrefix(symbol) { text.removeFirst(symbol.count) }
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

    /// `1536` → "1.5 KB" (decimal units, as file managers show them).
    static func size(_ bytes: Int64) -> String {
        if bytes < 1000 { return bytes == 1 ? "1 byte" : "\(bytes) bytes" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 999.95 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
    }
}
