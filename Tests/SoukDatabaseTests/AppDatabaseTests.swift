import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

private func temporaryDatabasePath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-db-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("souk.db").path
}

@Suite("The SQLite database")
struct AppDatabaseTests {
    @Test("Opens in WAL mode with foreign keys on and synchronous NORMAL")
    func pragmas() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let (journal, foreignKeys, synchronous) = try await database.writer.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                try Int.fetchOne(db, sql: "PRAGMA synchronous")
            )
        }
        #expect(journal == "wal")
        #expect(foreignKeys == 1)
        #expect(synchronous == 1)  // NORMAL
        #expect(try database.appliedMigrations().prefix(2) == ["v1-accounts", "v2-catalog"])
    }

    @Test("Refuses a database migrated by a newer souk")
    func newerSchema() throws {
        let path = try temporaryDatabasePath()
        _ = try AppDatabase(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999-from-the-future')")
        }
        try queue.close()
        #expect {
            _ = try AppDatabase(path: path)
        } throws: { error in
            "\(error)".contains("v999-from-the-future") && "\(error)".contains("newer version of souk")
        }
    }

    @Test("E-mails are unique whatever their case")
    func uniqueEmail() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        _ = try await database.insertUser(email: "a@example.com", name: "A", passwordHash: "x", role: .buyer)
        await #expect(throws: SoukError(.conflict, "An account with this e-mail address already exists.", field: "email")) {
            _ = try await database.insertUser(email: "A@EXAMPLE.com", name: "A", passwordHash: "x", role: .buyer)
        }
    }

    @Test("Sellers start pending; only sellers have a status to change")
    func sellerStatus() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let seller = try await database.insertUser(email: "s@example.com", name: "S", passwordHash: "x", role: .seller)
        #expect(seller.sellerStatus == .pending)
        #expect(try await database.setSellerStatus(email: "s@example.com", .verified).sellerStatus == .verified)
        _ = try await database.insertUser(email: "b@example.com", name: "B", passwordHash: "x", role: .buyer)
        await #expect(throws: SoukError.self) { _ = try await database.setSellerStatus(email: "b@example.com", .verified) }
        await #expect(throws: SoukError.self) { _ = try await database.setSellerStatus(email: "nobody@example.com", .verified) }
    }

    @Test("Disabling a user deletes their sessions in the same transaction")
    func disableEndsSessions() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let user = try await database.insertUser(email: "d@example.com", name: "D", passwordHash: "x", role: .buyer)
        _ = try await database.insertSession(userID: user.id, tokenHash: "h1", lifetime: 3600, ip: nil, userAgent: nil)
        #expect(try await database.userForSession(tokenHash: "h1")?.id == user.id)
        _ = try await database.setDisabled(email: "d@example.com", true)
        #expect(try await database.userForSession(tokenHash: "h1") == nil)
        let remaining = try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions") }
        #expect(remaining == 0)
    }

    @Test("Expired sessions do not authenticate")
    func expiredSession() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let user = try await database.insertUser(email: "e@example.com", name: "E", passwordHash: "x", role: .buyer)
        _ = try await database.insertSession(userID: user.id, tokenHash: "old", lifetime: -1, ip: nil, userAgent: nil)
        #expect(try await database.userForSession(tokenHash: "old") == nil)
    }
}
