import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("A user's credentials end together")
struct CredentialsTests {
    private struct Held {
        let database: AppDatabase
        let user: User
        let other: User
    }

    /// A user holding two sessions, a token, a used and an unused sign-in link; another user holding the same.
    private func holding() async throws -> Held {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path)
        var users: [User] = []
        for name in ["ann", "bob"] {
            let user = try await database.insertUser(email: "\(name)@example.com", name: name, passwordHash: "x", role: .buyer)
            for n in 1...2 {
                _ = try await database.insertSession(
                    userID: user.id, tokenHash: "\(name)-session-\(n)", lifetime: 3600, ip: nil, userAgent: nil)
            }
            _ = try await database.insertToken(userID: user.id, name: "ci", tokenHash: "\(name)-token", scopes: [.read])
            try await database.insertMagicLink(tokenHash: "\(name)-used", userID: user.id, redirect: "/library", lifetime: 3600)
            _ = try await database.consumeMagicLink(tokenHash: "\(name)-used")
            try await database.insertMagicLink(tokenHash: "\(name)-unused", userID: user.id, redirect: "/library", lifetime: 3600)
            users.append(user)
        }
        return Held(database: database, user: users[0], other: users[1])
    }

    private func expectEnded(_ held: Held) async throws {
        let database = held.database
        #expect(try await database.userForSession(tokenHash: "ann-session-1") == nil)
        #expect(try await database.userForSession(tokenHash: "ann-session-2") == nil)
        #expect(try await database.userForToken(tokenHash: "ann-token") == nil)
        #expect(try await database.consumeMagicLink(tokenHash: "ann-unused") == nil)
        #expect(try await database.isRevokedMagicLink(tokenHash: "ann-unused"))
        #expect(try await !database.isRevokedMagicLink(tokenHash: "ann-used"))  // used, not voided
        // The other user keeps everything.
        #expect(try await database.userForSession(tokenHash: "bob-session-1")?.id == held.other.id)
        #expect(try await database.userForToken(tokenHash: "bob-token")?.user.id == held.other.id)
        #expect(try await !database.isRevokedMagicLink(tokenHash: "bob-unused"))
    }

    @Test("A new password ends sessions, tokens and unused sign-in links")
    func passwordReset() async throws {
        let held = try await holding()
        _ = try await held.database.setPasswordHash(email: "ann@example.com", "new hash")
        try await expectEnded(held)
    }

    @Test("Disabling ends them too, and enabling again brings none back")
    func disable() async throws {
        let held = try await holding()
        _ = try await held.database.setDisabled(email: "ann@example.com", true)
        _ = try await held.database.setDisabled(email: "ann@example.com", false)
        try await expectEnded(held)
    }

    @Test("Sign out everywhere ends them")
    func everywhere() async throws {
        let held = try await holding()
        try await held.database.endAllCredentials(userID: held.user.id)
        try await expectEnded(held)
    }

    @Test("A password reset link works once, within its hour, and ends every credential; signing out everywhere voids it")
    func resetLinks() async throws {
        let clock = JobTestClock()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock)
        let ann = try await database.insertUser(email: "ann@example.com", name: "Ann", passwordHash: "old", role: .buyer)
        _ = try await database.insertSession(userID: ann.id, tokenHash: "ann-session", lifetime: 86_400, ip: nil, userAgent: nil)
        for name in ["first", "second", "late", "voided"] {
            try await database.insertPasswordReset(tokenHash: name, userID: ann.id, lifetime: 3600)
        }
        func hash() async throws -> String? { try await database.signInCredentials(email: "ann@example.com")?.passwordHash }

        clock.advance(3599)
        #expect(try await database.isLivePasswordReset(tokenHash: "first"))
        #expect(try await database.resetPassword(tokenHash: "first", passwordHash: "new")?.id == ann.id)
        #expect(try await hash() == "new")
        #expect(try await database.userForSession(tokenHash: "ann-session") == nil)
        // Used: dead. The other unused links of the account ended with the other credentials.
        #expect(try await database.resetPassword(tokenHash: "first", passwordHash: "again") == nil)
        #expect(try await database.resetPassword(tokenHash: "second", passwordHash: "again") == nil)
        #expect(try await !database.isLivePasswordReset(tokenHash: "second"))
        #expect(try await hash() == "new")

        // A link past its hour, or voided by "sign out everywhere", sets nothing.
        try await database.insertPasswordReset(tokenHash: "expiring", userID: ann.id, lifetime: 3600)
        try await database.insertPasswordReset(tokenHash: "revoked", userID: ann.id, lifetime: 3600)
        try await database.endAllCredentials(userID: ann.id)
        #expect(try await database.resetPassword(tokenHash: "revoked", passwordHash: "x") == nil)
        try await database.insertPasswordReset(tokenHash: "old", userID: ann.id, lifetime: 3600)
        clock.advance(3601)
        #expect(try await !database.isLivePasswordReset(tokenHash: "old"))
        #expect(try await database.resetPassword(tokenHash: "old", passwordHash: "x") == nil)
        // A disabled account's link sets nothing either.
        try await database.insertPasswordReset(tokenHash: "disabled", userID: ann.id, lifetime: 3600)
        _ = try await database.setDisabled(email: "ann@example.com", true)
        #expect(try await database.resetPassword(tokenHash: "disabled", passwordHash: "x") == nil)
        #expect(try await hash() == "new")
    }

    @Test("Sessions record how they were made")
    func origin() async throws {
        let held = try await holding()
        let link = try await held.database.insertSession(
            userID: held.user.id, tokenHash: "ann-link", lifetime: 60, origin: .link, ip: nil, userAgent: nil)
        let stored = try await held.database.writer.read { db in
            try String.fetchOne(db, sql: "SELECT origin FROM sessions WHERE id = ?", arguments: [link])
        }
        #expect(stored == "link")
        let others = try await held.database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT origin FROM sessions WHERE token_hash != 'ann-link'")
        }
        #expect(others == ["password"])
    }

    @Test("A session's holder, kept in memory between requests, still ends on time and with any change, from any process")
    func keptSessions() async throws {
        let clock = JobTestClock()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("souk.db").path
        let database = try AppDatabase(path: path, clock: clock)
        let ann = try await database.insertUser(email: "ann@example.com", name: "Ann", passwordHash: "x", role: .buyer)
        _ = try await database.insertSession(userID: ann.id, tokenHash: "short", lifetime: 0.5, ip: nil, userAgent: nil)
        _ = try await database.insertSession(userID: ann.id, tokenHash: "long", lifetime: 3600, ip: nil, userAgent: nil)
        #expect(try await database.userForSession(tokenHash: "short")?.id == ann.id)
        #expect(try await database.userForSession(tokenHash: "long")?.id == ann.id)
        #expect(try await database.notificationBell(userID: ann.id).unread == 0)

        // Kept, but its expiry is still checked against the clock.
        clock.advance(0.6)
        #expect(try await database.userForSession(tokenHash: "short") == nil)
        #expect(try await database.userForSession(tokenHash: "long")?.id == ann.id)

        // A change by this process is seen at once: a rename, a notice for the bell.
        _ = try await database.setName(userID: ann.id, "Ann Two")
        #expect(try await database.sessionHolder(tokenHash: "long")?.user.name == "Ann Two")
        try await database.notify(
            Notice(userID: ann.id, type: .orderPaid, title: "Paid", body: "Order paid", url: nil, dedupeKey: "n1", email: false))
        #expect(try await database.notificationBell(userID: ann.id).unread == 1)

        // Another process (a `souk` command) signs her out everywhere: seen at once.
        let otherProcess = try AppDatabase(path: path, clock: clock)
        _ = try await otherProcess.setDisabled(email: "ann@example.com", true)
        #expect(try await database.userForSession(tokenHash: "long") == nil)
    }
}
