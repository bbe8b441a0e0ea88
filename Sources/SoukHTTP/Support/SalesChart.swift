import Foundation
import SoukCore

/// The sales chart as inline SVG, drawn on the server (no JavaScript): one bar per day, week or
/// month for the seller's revenue, the order count above each bar that has one, and a table of
/// the same numbers beside it for screen readers and copying.
enum SalesChart {
    static let width = 720, height = 220, top = 24, bottom = 28, left = 8, right = 8

    static func svg(_ buckets: [SalesStats.Bucket], currency: String, period: SalesStats.Period) -> String {
        let maximum = max(1, buckets.map(\.revenue).max() ?? 0)
        let plotHeight = Double(height - top - bottom)
        let slot = Double(width - left - right) / Double(max(1, buckets.count))
        let barWidth = max(2, slot * 0.7)
        let total = buckets.reduce(0) { $0 + $1.revenue }
        let orders = buckets.reduce(0) { $0 + $1.orders }
        let title = "Revenue per \(period.rawValue): \(Currency.display(total, currency: currency)) from \(orders) order\(orders == 1 ? "" : "s")"
        var parts: [String] = [
            "<svg class=\"sales-chart\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-labelledby=\"chart-title\" xmlns=\"http://www.w3.org/2000/svg\">",
            "<title id=\"chart-title\">\(HTMLText.escape(title))</title>",
            "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" class=\"axis\"/>",
        ]
        for (index, bucket) in buckets.enumerated() {
            let x = Double(left) + slot * Double(index) + (slot - barWidth) / 2
            let barHeight = plotHeight * Double(bucket.revenue) / Double(maximum)
            let y = Double(height - bottom) - barHeight
            let label = "\(label(bucket.start, period)): \(Currency.display(bucket.revenue, currency: currency)), \(bucket.orders) order\(bucket.orders == 1 ? "" : "s")"
            parts.append(
                String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\"><title>%@</title></rect>",
                       x, y, barWidth, max(0, barHeight), HTMLText.escape(label)))
            if bucket.orders > 0 {
                parts.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" class=\"count\">%d</text>", x + barWidth / 2, y - 4, bucket.orders))
            }
        }
        // Dates under the first, middle and last bars.
        for index in Set([0, buckets.count / 2, buckets.count - 1]).sorted() where index < buckets.count {
            let x = Double(left) + slot * Double(index) + slot / 2
            parts.append(String(format: "<text x=\"%.1f\" y=\"%d\" class=\"date\">%@</text>", x, height - 8,
                                HTMLText.escape(label(buckets[index].start, period))))
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// "Dec 6", "week of Dec 1", "Dec 2026".
    static func label(_ date: Date, _ period: SalesStats.Period) -> String {
        let base = Date.FormatStyle(locale: Locale(identifier: "en_US"), timeZone: .gmt)
        switch period {
        case .day: return date.formatted(base.month(.abbreviated).day())
        case .week: return "week of " + date.formatted(base.month(.abbreviated).day())
        case .month: return date.formatted(base.month(.abbreviated).year())
        }
    }
}
