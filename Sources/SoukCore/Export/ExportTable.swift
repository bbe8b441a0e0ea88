import Foundation

/// One cell of an exported table. The kind decides how the cell is written: only `text` is
/// guarded against spreadsheet formulas (see `CSVWriter`); numbers stay numbers.
public enum ExportCell: Sendable, Hashable {
    case text(String)
    case integer(Int)
    /// A decimal number already written as text ("19.99", "-5.00"), exact (never a float).
    case decimal(String)
    case bool(Bool)
    /// Written as RFC 3339 UTC.
    case time(Date)
    case null

    /// Text, or null when there is none (likewise `int`, `date`).
    public static func string(_ value: String?) -> ExportCell { value.map(ExportCell.text) ?? .null }
    public static func int(_ value: Int?) -> ExportCell { value.map(ExportCell.integer) ?? .null }
    public static func date(_ value: Date?) -> ExportCell { value.map(ExportCell.time) ?? .null }

    /// An amount in minor units as a decimal in major units (`1999, "USD"` → "19.99").
    public static func major(_ minor: Int, currency: String) -> ExportCell {
        .decimal(Currency.decimalString(minor, currency: currency))
    }
}

/// A named table of rows with the same columns: one export file (`NAME.csv`, `NAME.json`).
public struct ExportTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]
    public var rows: [[ExportCell]]

    /// Every row must have one cell per column.
    public init(name: String, columns: [String], rows: [[ExportCell]]) {
        precondition(rows.allSatisfy { $0.count == columns.count }, "every row of \(name) needs \(columns.count) cells")
        self.name = name
        self.columns = columns
        self.rows = rows
    }

    /// RFC 4180 CSV (see `CSVWriter`).
    public var csv: String { CSVWriter.encode(self) }

    /// A JSON array with one object per row, keys in column order; integers stay integers,
    /// decimals are JSON numbers written exactly as in the CSV, times RFC 3339 strings.
    public var json: String {
        if rows.isEmpty { return "[]\n" }
        let objects = rows.map { row in
            "  {" + zip(columns, row).map { "\(Self.jsonString($0)): \(Self.jsonValue($1))" }.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    static func jsonValue(_ cell: ExportCell) -> String {
        switch cell {
        case .text(let text): jsonString(text)
        case .integer(let value): String(value)
        case .decimal(let text): text
        case .bool(let value): value ? "true" : "false"
        case .time(let date): jsonString(Timestamp.rfc3339(date))
        case .null: "null"
        }
    }

    /// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
