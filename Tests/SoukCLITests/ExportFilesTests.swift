import Foundation
import SoukCore
import Testing

@testable import SoukCLI

@Suite("souk export: files")
struct ExportFilesTests {
    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("souk-export-\(UUID().uuidString)/nested")
    }

    let tables = [
        ExportTable(name: "products", columns: ["id", "title"], rows: [[.text("prod_1"), .text("=1+1")]]),
        ExportTable(name: "orders", columns: ["id"], rows: []),
    ]

    @Test("Writes NAME.csv and NAME.json per table into a folder it creates, and says how many rows")
    func writes() throws {
        let directory = folder()
        let written = try ExportFiles.write(tables, to: directory, replacing: false)
        #expect(written.map(\.rows) == [1, 0])
        let csv = try String(contentsOf: directory.appendingPathComponent("products.csv"), encoding: .utf8)
        #expect(csv == "id,title\r\nprod_1,'=1+1\r\n")
        let json = try String(contentsOf: directory.appendingPathComponent("orders.json"), encoding: .utf8)
        #expect(json == "[]\n")
        let summary = ExportFiles.summary(written, directory: directory.path, seller: nil)
        #expect(summary.contains("4 files") && summary.contains("products 1 row,") && summary.contains("orders 0 rows"))
    }

    @Test("Refuses to replace an earlier export without --force, naming the files; with it, replaces them")
    func refusesToOverwrite() throws {
        let directory = folder()
        _ = try ExportFiles.write(tables, to: directory, replacing: false)
        let changed = [ExportTable(name: "products", columns: ["id"], rows: [[.text("prod_2")]])]
        let error = #expect(throws: SoukError.self) { try ExportFiles.write(changed, to: directory, replacing: false) }
        #expect(error?.code == .conflict)
        #expect(error?.detail.contains("products.csv") == true && error?.detail.contains("--force") == true)
        let kept = try String(contentsOf: directory.appendingPathComponent("products.csv"), encoding: .utf8)
        #expect(kept.contains("prod_1"), "a refused export changed a file")
        _ = try ExportFiles.write(changed, to: directory, replacing: true)
        let replaced = try String(contentsOf: directory.appendingPathComponent("products.csv"), encoding: .utf8)
        #expect(replaced == "id\r\nprod_2\r\n")
    }
}
