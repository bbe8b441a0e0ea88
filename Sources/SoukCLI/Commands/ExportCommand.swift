import ArgumentParser
import Foundation
import SoukCore
import SoukDatabase

/// `souk export DIR`: the store's data (or one seller's) as CSV and JSON files.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write products, orders, customers, reviews, licenses and payouts as CSV and JSON files.",
        discussion: """
            One NAME.csv and NAME.json per table. CSV is RFC 4180 (UTF-8, CRLF, a header row), text \
            cells a spreadsheet would run as formulas start with '. Money: minor units (…_minor) with \
            the currency, and the amount in major units. orders has one row per order line: summing \
            payout_owed_minor over the rows with counts_in_payouts = true, per seller and currency, \
            gives payouts.csv, which is what `souk payouts` prints.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The folder to write into (created if missing).") var directory: String
    @Option(help: "Only this seller's data: their e-mail address or account id.") var seller: String?
    @Flag(help: "Replace export files already in the folder.") var force = false

    func run() async throws {
        let (_, _, database) = try global.open()
        let written = try await reportingErrors {
            var sellerID: String?
            if let seller { sellerID = try await SellerLookup(database: database).sellerID(seller) }
            let tables = StoreExport.tables(from: try await database.exportSnapshot(sellerID: sellerID))
            return try ExportFiles.write(tables, to: URL(fileURLWithPath: directory), replacing: force)
        }
        print(ExportFiles.summary(written, directory: directory, seller: seller))
    }
}

/// Finds the seller an operator names by e-mail or id.
struct SellerLookup: Sendable {
    let database: AppDatabase

    /// Throws `notFound` (no such account), `validationFailed` (a buyer's account: it sells nothing).
    func sellerID(_ emailOrID: String) async throws -> String {
        let user =
            emailOrID.contains("@")
            ? try await database.user(email: emailOrID.lowercased()) : try await database.user(id: emailOrID)
        guard let user else {
            throw SoukError(
                .notFound,
                "No account with the \(emailOrID.contains("@") ? "e-mail address" : "id") \(emailOrID): "
                    + "`souk seller list` shows the sellers.")
        }
        guard user.role != .buyer else {
            throw SoukError(
                .validationFailed, "\(emailOrID) is a buyer's account and sells nothing: name a seller (`souk seller list`).",
                field: "seller")
        }
        return user.id
    }
}

/// Writes export tables as files: `NAME.csv` and `NAME.json` for each.
enum ExportFiles {
    struct Written: Equatable {
        var table: String
        var rows: Int
        var files: [String]
    }

    /// Creates `directory` if missing. Throws `conflict` naming the files when any is already
    /// there and `replacing` is false (nothing is written then).
    static func write(_ tables: [ExportTable], to directory: URL, replacing: Bool) throws -> [Written] {
        let manager = FileManager.default
        let names = tables.flatMap { ["\($0.name).csv", "\($0.name).json"] }
        if !replacing {
            let existing = names.filter { manager.fileExists(atPath: directory.appendingPathComponent($0).path) }
            guard existing.isEmpty else {
                throw SoukError(
                    .conflict,
                    "\(directory.path) already holds an export (\(existing.joined(separator: ", "))): "
                        + "choose another folder, or pass --force to replace those files.")
            }
        }
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            return try tables.map { table in
                try Data(table.csv.utf8).write(to: directory.appendingPathComponent("\(table.name).csv"), options: .atomic)
                try Data(table.json.utf8).write(to: directory.appendingPathComponent("\(table.name).json"), options: .atomic)
                return Written(table: table.name, rows: table.rows.count, files: ["\(table.name).csv", "\(table.name).json"])
            }
        } catch {
            throw SoukError(
                .internalError, "Could not write the export into \(directory.path): \(error.localizedDescription)")
        }
    }

    static func summary(_ written: [Written], directory: String, seller: String?) -> String {
        let counts = written.map { "\($0.table) \($0.rows) row\($0.rows == 1 ? "" : "s")" }.joined(separator: ", ")
        return "exported \(seller.map { "the seller \($0)'s data" } ?? "the store") to \(directory): "
            + "\(written.count * 2) files (CSV and JSON): \(counts)"
    }
}
