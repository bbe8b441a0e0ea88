import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("The admin's account search")
struct UserSearchTests {
    func emails(_ store: TestStore, _ text: String, role: Role? = nil) async throws -> [String] {
        try await store.database.users(emailContains: text, role: role, limit: 100, offset: 0).map(\.email).sorted()
    }

    @Test("Any part of an address, whatever its case, through the trigram index; short text, quotes and wildcards as typed")
    func containsThroughTheIndex() async throws {
        let store = try TestStore()
        for email in ["ada.lovelace@example.com", "Bo.Smith@Example.org", "cy@quote\"d.example", "percent%sign@example.com", "x_y@example.com"] {
            _ = try await store.buyer(email)
        }
        _ = try await store.seller("ada.seller@example.net")
        #expect(try await emails(store, "lovelace") == ["ada.lovelace@example.com"])
        #expect(try await emails(store, "SMITH@example") == ["Bo.Smith@Example.org"])
        #expect(try await emails(store, "ada.") == ["ada.lovelace@example.com", "ada.seller@example.net"])
        #expect(try await emails(store, "ada.", role: .seller) == ["ada.seller@example.net"])
        #expect(try await emails(store, "quote\"d") == ["cy@quote\"d.example"])
        #expect(try await emails(store, "t%s") == ["percent%sign@example.com"])
        #expect(try await emails(store, "x_y") == ["x_y@example.com"])
        #expect(try await emails(store, "_") == ["x_y@example.com"], "two letters or fewer: read without the index")
        #expect(try await emails(store, "nobody").isEmpty)
        #expect(try await emails(store, "AND OR NOT").isEmpty, "the text is a phrase, not a query")
        // A deleted account leaves under an address that reaches no one; the old one is not found.
        let bo = try #require(try await store.database.users(emailContains: "bo.smith", role: nil, limit: 1, offset: 0).first)
        try await store.database.deleteAccount(userID: bo.id)
        #expect(try await emails(store, "smith").isEmpty)
        #expect(try await emails(store, "deleted.invalid") == ["deleted-\(bo.id)@deleted.invalid"])
        // Every account is in the index, whoever wrote it.
        let plan = try await store.database.writer.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT user_id FROM user_emails WHERE user_emails MATCH '\"abc\"'"
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("VIRTUAL TABLE") }, "\(plan)")
        let indexed = try await store.database.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM user_emails WHERE user_emails MATCH '\"exa\"'") ?? 0
        }
        #expect(indexed == 5)
        // VACUUM (or a backup made with VACUUM INTO) may renumber the accounts' rowids: the
        // index names accounts by id, so it still finds the right ones.
        try await store.database.writer.barrierWriteWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM users WHERE email = 'x_y@example.com'")
            try db.execute(sql: "VACUUM")
        }
        #expect(try await emails(store, "percent") == ["percent%sign@example.com"])
        #expect(try await emails(store, "x_y").isEmpty)
    }

    @Test("Text thousands of addresses hold is found by reading the newest accounts; rare text among them through the index")
    func commonText() async throws {
        let store = try TestStore()
        try await store.database.writer.write { db in
            for n in 0..<2_100 {
                try db.execute(
                    sql: """
                        INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
                        VALUES (?, ?, 'Bulk', 'x', 'buyer', ?, ?)
                        """,
                    arguments: ["usr_bulk\(n)", "bulk\(n)@example.org", Date(timeIntervalSince1970: Double(n)), Date()])
            }
        }
        let page = try await store.database.users(emailContains: "BULK", role: nil, limit: 3, offset: 1)
        #expect(page.map(\.email) == ["bulk2098@example.org", "bulk2097@example.org", "bulk2096@example.org"])
        let rare = try await store.database.users(emailContains: "bulk207", role: nil, limit: 100, offset: 0)
        #expect(rare.map(\.email) == (0..<10).reversed().map { "bulk207\($0)@example.org" } + ["bulk207@example.org"])
    }
}
