import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("Online backup")
struct BackupTests {
    func folder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("A backup taken during writes is one consistent snapshot, private, checked and complete")
    func duringWrites() async throws {
        let directory = try folder()
        let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path)
        for index in 0..<20 {
            _ = try await database.insertUser(email: "before\(index)@example.com", name: "B", passwordHash: "x", role: .buyer)
        }
        // Writes in flight for the whole backup.
        let writing = Task {
            var index = 0
            while !Task.isCancelled {
                _ = try await database.insertUser(email: "during\(index)@example.com", name: "D", passwordHash: "x", role: .buyer)
                index += 1
            }
            return index
        }
        try await Task.sleep(for: .milliseconds(50))
        let target = directory.appendingPathComponent("copies/souk-copy.db")
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let report = try database.backup(to: target.path)
        writing.cancel()
        let written = try await writing.value

        #expect(written > 0)
        #expect(report.users >= 20 && report.users <= 20 + written)
        #expect(report.bytes > 0 && report.path == target.path)
        let mode = try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path) == ["souk-copy.db"])

        // The copy opens as a store database of its own, with what the report says.
        let copy = try DatabaseQueue(path: target.path)
        try copy.inDatabase { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "delete")
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") == report.users)
            // Users are added in order: a snapshot holds a prefix of them, with no gap.
            let during = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE email LIKE 'during%'") ?? 0
            #expect(during == report.users - 20)
            if during > 0 {
                #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE email = ?", arguments: ["during\(during - 1)@example.com"]) == 1)
            }
        }
        try copy.close()
        _ = try AppDatabase(path: target.path)
    }

    @Test("Refuses to replace a file unless asked, and refuses the live database itself")
    func refusals() async throws {
        let directory = try folder()
        let live = directory.appendingPathComponent("souk.db").path
        let database = try AppDatabase(path: live)
        let target = directory.appendingPathComponent("copy.db").path
        try "precious".write(toFile: target, atomically: true, encoding: .utf8)
        #expect(throws: AppDatabase.BackupError.self) { try database.backup(to: target) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious")
        _ = try database.backup(to: target, replacing: true)
        #expect(try DatabaseQueue(path: target).inDatabase { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM users") } == 0)
        #expect(throws: AppDatabase.BackupError.self) { try database.backup(to: live, replacing: true) }
        // Through a relative path or a symlink it is still the live file.
        let link = directory.appendingPathComponent("alias.db").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: live)
        #expect(throws: AppDatabase.BackupError.self) { try database.backup(to: link, replacing: true) }
        // Nor a hard link to it, nor its WAL.
        let hardLink = directory.appendingPathComponent("hard.db").path
        try FileManager.default.linkItem(atPath: live, toPath: hardLink)
        #expect(throws: AppDatabase.BackupError.self) { try database.backup(to: hardLink, replacing: true) }
        #expect(throws: AppDatabase.BackupError.self) { try database.backup(to: live + "-wal", replacing: true) }
        #expect(try await database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM users") } == 0)
        // Nothing partial is left beside the targets.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("partial") } == [])
    }

    @Test("An unwritable destination is a clear error and leaves nothing behind")
    func unwritable() async throws {
        let directory = try folder()
        let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path)
        let error = #expect(throws: AppDatabase.BackupError.self) {
            try database.backup(to: directory.appendingPathComponent("missing/folder/copy.db").path)
        }
        #expect(error?.description.contains("Cannot write the backup") == true)
    }
}
