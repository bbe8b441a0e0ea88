import ArgumentParser
import Foundation
import SoukDatabase

/// `souk backup FILE`: a consistent copy of the database, taken while the store serves.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to a file, online and consistent, while the store keeps serving.",
        discussion: """
            The copy is one SQLite file (mode 0600), checked before it takes the name you gave. \
            Restore by stopping souk and putting it back as <data_dir>/souk.db. Product files live in \
            <data_dir>/blobs and product pictures in <data_dir>/images; neither changes once written: \
            copy both with `rsync -a` after the database (a backup only refers to files already there). Keep <data_dir>/secret.key with \
            them: it signs the links souk has sent (guest order pages, downloads), which stop working \
            without it.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Where to write the copy, e.g. /backups/souk-2026-11-26.db.") var file: String
    @Flag(help: "Replace the file if it exists.") var force = false
    @Flag(help: "Print JSON instead of a sentence.") var json = false

    func run() async throws {
        let (_, data, database) = try global.open()
        let report = try await reportingErrors { try database.backup(to: file, replacing: force) }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let size = String(format: "%.1f MB", Double(report.bytes) / 1_048_576)
            print(
                "backed up the database to \(report.path) (\(size): \(report.users) users, \(report.products) products, "
                    + "\(report.orders) orders, \(report.files) product files) in \(String(format: "%.1f", report.seconds)) s")
            print(
                "product files and pictures: copy \(data.file("blobs"))/ and \(data.file("images"))/ with rsync -a; "
                    + "keep \(data.secretKeyPath) with the backup")
        }
    }
}
