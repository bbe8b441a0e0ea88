import Foundation

/// Dates as people read them, in one time zone: "Dec 6, 2026", "Dec 6, 2026, 14:05 UTC",
/// "December 6, 2026 at 14:05 CET". English month names on every machine (no locale data
/// needed); pages turn them into the reader's own language and zone in the browser.
public struct HumanDate: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

    public init(timeZone: TimeZone = .gmt) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The zone a browser reported (`Europe/Berlin`), or nil for a name that is not an IANA zone.
    public static func zone(named name: String?) -> TimeZone? {
        guard let name, !name.isEmpty, name.count <= 64,
            name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "/_+-".unicodeScalars.contains($0) }),
            TimeZone.knownTimeZoneIdentifiers.contains(name)
        else { return nil }
        return TimeZone(identifier: name)
    }

    static let shortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let longMonths = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December",
    ]

    /// "Dec 6, 2026"
    public func day(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return "\(Self.shortMonths[(parts.month ?? 1) - 1]) \(parts.day ?? 1), \(parts.year ?? 1970)"
    }

    /// "Dec 6, 2026, 14:05 UTC"
    public func dayAndTime(_ date: Date) -> String {
        "\(day(date)), \(clock(date)) \(zoneName(date))"
    }

    /// "December 6, 2026 at 14:05 UTC", for e-mails.
    public func long(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return "\(Self.longMonths[(parts.month ?? 1) - 1]) \(parts.day ?? 1), \(parts.year ?? 1970) at \(clock(date)) \(zoneName(date))"
    }

    /// "14:05"
    func clock(_ date: Date) -> String {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let hour = parts.hour ?? 0, minute = parts.minute ?? 0
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    /// "UTC", "CET", or "GMT+5:30" where the zone has no common abbreviation.
    func zoneName(_ date: Date) -> String {
        if timeZone.secondsFromGMT(for: date) == 0 && (timeZone.identifier == "GMT" || timeZone.identifier == "UTC") {
            return "UTC"
        }
        return timeZone.abbreviation(for: date) ?? timeZone.identifier
    }
}
