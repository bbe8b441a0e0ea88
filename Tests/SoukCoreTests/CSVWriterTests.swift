import Foundation
import SoukCore
import Testing

/// CSV a spreadsheet imports as it was meant: RFC 4180 quoting, CRLF records, formulas disarmed.
@Suite("CSV export encoding")
struct CSVWriterTests {
    func table(_ cells: [ExportCell], columns: [String]? = nil) -> ExportTable {
        ExportTable(name: "t", columns: columns ?? cells.indices.map { "c\($0)" }, rows: [cells])
    }

    @Test(
        "Fields with a comma, quote, CR or LF are quoted, quotes doubled; others are left as they are",
        arguments: [
            ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("two\nlines", "\"two\nlines\""),
            ("cr\rhere", "\"cr\rhere\""), ("crlf\r\nhere", "\"crlf\r\nhere\""), ("", ""), ("naïve ☕", "naïve ☕"),
        ])
    func quoting(input: String, expected: String) {
        #expect(CSVWriter.cell(.text(input)) == expected)
    }

    @Test(
        "Text a spreadsheet would run as a formula gets a leading apostrophe",
        arguments: [
            ("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""), ("+1", "'+1"),
            ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\rcmd", "\"'\rcmd\""),
            ("\r\ncmd", "\"'\r\ncmd\""), ("a=b", "a=b"), ("Title - part 2", "Title - part 2"),
        ])
    func formulaGuard(input: String, expected: String) {
        #expect(CSVWriter.cell(.text(input)) == expected)
    }

    @Test("Numbers, decimals, booleans and times are never altered: a negative amount stays a number")
    func numbersAreNotGuarded() {
        #expect(CSVWriter.cell(.integer(-500)) == "-500")
        #expect(CSVWriter.cell(.decimal("-5.00")) == "-5.00")
        #expect(CSVWriter.cell(ExportCell.major(-1999, currency: "USD")) == "-19.99")
        #expect(CSVWriter.cell(ExportCell.major(500, currency: "JPY")) == "500")
        #expect(CSVWriter.cell(.bool(true)) == "true")
        #expect(CSVWriter.cell(.time(Date(timeIntervalSince1970: 0))) == "1970-01-01T00:00:00Z")
        #expect(CSVWriter.cell(.null) == "")
    }

    @Test("A header row, then one record per row, every record ending in CRLF")
    func recordsEndInCRLF() {
        let table = ExportTable(
            name: "orders", columns: ["id", "note", "total_minor"],
            rows: [[.text("ord_1"), .text("line one\nline two"), .integer(1999)], [.text("ord_2"), .null, .integer(0)]])
        #expect(table.csv == "id,note,total_minor\r\nord_1,\"line one\nline two\",1999\r\nord_2,,0\r\n")
        let empty = ExportTable(name: "none", columns: ["a", "b"], rows: [])
        #expect(empty.csv == "a,b\r\n")
    }

    @Test("JSON has the same fields, integers as integers, text escaped, nulls as null")
    func json() throws {
        let table = ExportTable(
            name: "t", columns: ["id", "title", "total_minor", "total", "test", "paid_at"],
            rows: [[.text("o\"1"), .text("=x\n\u{1}"), .integer(1999), .decimal("19.99"), .bool(false), .null]])
        let parsed = try JSONSerialization.jsonObject(with: Data(table.json.utf8)) as? [[String: Any]]
        let row = try #require(parsed?.first)
        #expect(row["id"] as? String == "o\"1")
        #expect(row["title"] as? String == "=x\n\u{1}", "JSON is data, not a spreadsheet: no apostrophe")
        #expect(row["total_minor"] as? Int == 1999)
        #expect(row["test"] as? Bool == false)
        #expect(row["paid_at"] is NSNull)
        #expect(table.json.contains("\"total_minor\": 1999,"))
        #expect(ExportTable(name: "e", columns: ["a"], rows: []).json == "[]\n")
    }
}
