import Foundation
import SoukCore

/// How amounts are written on pages ("$19.00", "Free", "Pay what you want (from $5.00)") and read
/// back from forms, where sellers and buyers type major units ("19.99").
enum MoneyFormat {
    /// `1900, "USD"` → "$19.00"; currencies without a symbol → "19.00 CHF" (`Currency.display`).
    static func amount(_ minor: Int, currency: String) -> String { Currency.display(minor, currency: currency) }

    /// `1900, "USD"` → "19.00" (for form fields).
    static func major(_ minor: Int, currency: String) -> String { Currency.decimalString(minor, currency: currency) }

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
        if let symbol = Currency.symbols[currency.uppercased()], text.hasPrefix(symbol) { text.removeFirst(symbol.count) }
        return Currency.minorUnits(text, currency: currency)
    }

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
