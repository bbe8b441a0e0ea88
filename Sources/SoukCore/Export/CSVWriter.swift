import Foundation

/// Writes an `ExportTable` as CSV that spreadsheets import cleanly: RFC 4180 (a header row;
/// fields holding a comma, quote, CR or LF quoted, quotes doubled; CRLF after every record),
/// UTF-8 text. A text cell that a spreadsheet would run as a formula (starting with `=`, `+`,
/// `-`, `@`, tab or CR) gets a leading `'`, so a product titled `=HYPERLINK(…)` stays text;
/// numbers, decimals and times are never altered (a negative amount stays a number).
public enum CSVWriter {
    public static let lineEnd = "\r\n"
    // "\r\n" is one Character in Swift: a text starting with CRLF starts with it, not with "\r".
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r", "\r\n"]

    public static func encode(_ table: ExportTable) -> String {
        var out = record(table.columns.map { field($0) })
        for row in table.rows { out += record(row.map(cell)) }
        return out
    }

    /// One cell as a CSV field.
    public static func cell(_ cell: ExportCell) -> String {
        switch cell {
        case .text(let text): field(guardFormula(text))
        case .integer(let value): String(value)
        case .decimal(let text): field(text)
        case .bool(let value): value ? "true" : "false"
        case .time(let date): Timestamp.rfc3339(date)
        case .null: ""
        }
    }

    /// `text` with a leading `'` when a spreadsheet would take it for a formula.
    public static func guardFormula(_ text: String) -> String {
        guard let first = text.first, formulaStarts.contains(first) else { return text }
        return "'" + text
    }

    /// `text` quoted when it must be (comma, quote, CR or LF), its quotes doubled.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func record(_ fields: [String]) -> String { fields.joined(separator: ",") + lineEnd }
}
