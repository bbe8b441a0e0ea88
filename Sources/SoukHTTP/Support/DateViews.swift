import Foundation
import SoukCore

/// Dates in pages, for the `time` partial: a `<time>` element whose text reads
/// "Dec 6, 2026, 14:05 UTC" as served and which `local-time.js` rewrites into the reader's own
/// language and time zone ("3 hours ago", "6 déc. 2026"). The same bytes serve every reader,
/// so a page stays cacheable.
enum DateViews {
    private static let utc = HumanDate()

    /// A moment: shown with its time, relative when recent.
    static func moment(_ date: Date) -> [String: String] {
        ["iso": Timestamp.rfc3339(date), "text": utc.dayAndTime(date), "style": "moment"]
    }

    /// A day: shown as a date only (a review, a purchase, an expiry).
    static func day(_ date: Date) -> [String: String] {
        ["iso": Timestamp.rfc3339(date), "text": utc.day(date), "style": "day"]
    }
}
