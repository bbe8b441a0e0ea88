import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("Counts kept by triggers")
struct RowCountsTests {
    @Test("Jobs by state and reviews (all, hidden) stay equal to counting the rows, through every change")
    func countsFollowTheRows() async throws {
        let store = try TestStore()
        let database = store.database
        let queue = JobQueue(database: database, backoff: JobBackoff(random: { 0.5 }))

        func countedJobs() async throws -> [JobState: Int] {
            try await database.writer.read { db in
                var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
                for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                    counts[JobState(rawValue: row["state"])!] = row["n"]
                }
                return counts
            }
        }
        for n in 0..<6 { try await queue.enqueue(kind: "noop", payload: ["n": n]) }
        #expect(try await queue.counts() == [.queued: 6, .running: 0, .done: 0, .dead: 0])
        let taken = try await queue.claim(owner: "w", lease: 60, limit: 4)
        #expect(try await queue.complete(id: taken[0].id, owner: "w"))
        _ = try await queue.fail(id: taken[1].id, owner: "w", error: "boom")
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'dead' WHERE id = ?", arguments: [taken[2].id])
            try db.execute(sql: "DELETE FROM jobs WHERE id = ?", arguments: [taken[3].id])
        }
        let kept = try await queue.counts()
        #expect(kept == (try await countedJobs()))
        #expect(kept[.done] == 1 && kept[.dead] == 1)

        let seller = try await store.seller("ada@example.com")
        let product = try await store.product("Moth Atlas", by: seller)
        let now = database.clock.now()
        var added: [User] = []
        for n in 0..<4 {
            added.append(try await store.buyer("r\(n)@example.com"))
        }
        let readers = added
        try await database.writer.write { db in
            for (n, reader) in readers.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO reviews (id, product_id, user_id, rating, body, body_html, hidden_at, created_at, updated_at)
                        VALUES (?, ?, ?, 4, 'Good.', '<p>Good.</p>', ?, ?, ?)
                        """, arguments: ["rev_\(n)", product.id, reader.id, n == 0 ? now : nil, now, now])
            }
            try db.execute(sql: "UPDATE reviews SET hidden_at = ? WHERE id IN ('rev_1', 'rev_2')", arguments: [now])
            try db.execute(sql: "UPDATE reviews SET hidden_at = NULL WHERE id = 'rev_0'")
            try db.execute(sql: "UPDATE reviews SET hidden_at = ? WHERE id = 'rev_1'", arguments: [now + 1])  // hidden again: no change
            try db.execute(sql: "DELETE FROM reviews WHERE id = 'rev_2'")
        }
        let counted = try await database.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reviews")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reviews WHERE hidden_at IS NOT NULL")!)
        }
        let reviews = try await database.reviewCounts()
        #expect(reviews.total == counted.0 && reviews.hidden == counted.1 && reviews == (3, 1))
        // A user's deletion takes their reviews with it (a cascade): still counted right.
        try await database.writer.write { try $0.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [readers[1].id]) }
        let afterCascade = try await database.reviewCounts()
        #expect(afterCascade == (2, 0))
    }

    @Test("Every review, a page at a time from a review shown, in the order of the whole list, read along an index")
    func everyReviewByPages() async throws {
        let store = try TestStore()
        let database = store.database
        let seller = try await store.seller("ada@example.com")
        let reader = try await store.buyer("r@example.com")
        let start = database.clock.now()
        try await database.writer.write { db in
            for n in 0..<120 {
                let product = "prod_\(n)"
                try db.execute(
                    sql: """
                        INSERT INTO products (id, seller_id, title, slug, category, kind, price, currency, status,
                            created_at, updated_at)
                        VALUES (?, ?, ?, ?, 'Books', 'download', 500, 'USD', 'published', ?, ?)
                        """, arguments: [product, seller.id, "Title \(n)", "title-\(n)", start, start])
                // Pairs share a second, so the id breaks the tie.
                try db.execute(
                    sql: """
                        INSERT INTO reviews (id, product_id, user_id, rating, body, body_html, created_at, updated_at)
                        VALUES (?, ?, ?, 5, 'Fine.', '<p>Fine.</p>', ?, ?)
                        """, arguments: ["rev_\(1000 + n)", product, reader.id, start + Double(n / 2), start])
            }
        }
        let whole = try await database.allReviews(limit: 500).map(\.id)
        #expect(whole.count == 120 && whole.first == "rev_1119" && whole.last == "rev_1000")
        // Paged back from a review shown (ties in time broken by id), then forward again.
        var paged: [String] = []
        var position: AppDatabase.ListPosition?
        repeat {
            let (page, from) = try await database.reviewsPage(from: position, limit: 50)
            #expect(from == position)
            paged += page.map(\.id)
            position = page.count == 50 ? .olderThan(id: page.last!.id) : nil
        } while position != nil
        #expect(paged == whole)
        let newer = try await database.reviewsPage(from: .newerThan(id: whole[75]), limit: 50)
        #expect(newer.reviews.map(\.id) == Array(whole[25..<75]))
        let newest = try await database.reviewsPage(from: .newerThan(id: whole[10]), limit: 50)
        #expect(newest.reviews.map(\.id) == Array(whole[0..<10]))
        // A review that is gone (or a mistyped id) gives the newest, and says so.
        let gone = try await database.reviewsPage(from: .olderThan(id: "rev_gone"), limit: 5)
        #expect(gone.reviews.map(\.id) == Array(whole[0..<5]) && gone.from == nil)
        let plan = try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT r.* FROM reviews r WHERE (r.created_at, r.id) < (?, ?)
                    ORDER BY r.created_at DESC, r.id DESC LIMIT 50
                    """, arguments: [Date(), "rev_1050"]
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("reviews_created") } && !plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }
}

@Suite("Unread notifications, counted by triggers")
struct UnreadCountsTests {
    @Test("The bell's count stays equal to counting the unread rows: new notices, one read, all read, an account deleted")
    func bellMatchesTheRows() async throws {
        let store = try TestStore()
        let database = store.database
        let ada = try await store.buyer("ada@example.com")
        let bo = try await store.buyer("bo@example.com")
        func check(_ note: String) async throws {
            for user in [ada, bo] {
                let counted = try await database.writer.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL", arguments: [user.id])
                }
                #expect(try await database.unreadNotificationCount(userID: user.id) == counted, "\(note)")
            }
        }
        try await check("none yet")
        for n in 0..<7 {
            for user in [ada, bo] where n < 4 || user.id == ada.id {
                try await database.notify(
                    Notice(userID: user.id, type: .orderPaid, title: "Sale \(n)", body: "", url: nil, dedupeKey: "k\(n)\(user.id)"))
            }
        }
        // The same notice again is not a new one.
        try await database.notify(Notice(userID: ada.id, type: .orderPaid, title: "Sale 0", body: "", url: nil, dedupeKey: "k0\(ada.id)"))
        try await check("seven and four")
        #expect(try await database.unreadNotificationCount(userID: ada.id) == 7)
        let first = try #require(try await database.notifications(userID: ada.id, limit: 1).first)
        _ = try await database.markNotificationRead(id: first.id, userID: ada.id)
        _ = try await database.markNotificationRead(id: first.id, userID: ada.id)
        try await check("one read, twice")
        #expect(try await database.markAllNotificationsRead(userID: ada.id) == 6)
        try await check("all read")
        #expect(try await database.unreadNotificationCount(userID: ada.id) == 0)
        try await database.deleteAccount(userID: bo.id)
        try await check("account deleted")
    }
}

@Suite("A product's stars, counted by triggers")
struct RatingCountsTests {
    @Test("The rating and its distribution stay equal to grouping the visible reviews: new, hidden, shown, withdrawn, re-rated, deleted")
    func starsFollowTheReviews() async throws {
        let store = try TestStore()
        let database = store.database
        let seller = try await store.seller("ada@example.com")
        let product = try await store.product("Moth Atlas", by: seller)
        var made: [User] = []
        for n in 0..<8 { made.append(try await store.buyer("r\(n)@example.com")) }
        let readers = made
        func check(_ note: String) async throws {
            let grouped = try await database.writer.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT rating, COUNT(*) AS n FROM reviews
                        WHERE product_id = ? AND hidden_at IS NULL AND withdrawn_at IS NULL GROUP BY rating
                        """, arguments: [product.id]
                ).reduce(into: [Int: Int]()) { $0[$1["rating"]] = $1["n"] }
            }
            #expect(try await database.ratingSummary(productID: product.id) == ReviewDecision.summary(countsByRating: grouped), "\(note)")
        }
        let now = database.clock.now()
        try await database.writer.write { db in
            for (n, reader) in readers.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO reviews (id, product_id, user_id, rating, body, body_html, hidden_at, created_at, updated_at)
                        VALUES (?, ?, ?, ?, 'Good.', '<p>Good.</p>', ?, ?, ?)
                        """, arguments: ["rev_\(n)", product.id, reader.id, 1 + n % 5, n == 7 ? now : nil, now, now])
            }
        }
        try await check("eight, one hidden")
        #expect(try await database.ratingSummary(productID: product.id).count == 7)
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE reviews SET hidden_at = ? WHERE id = 'rev_0'", arguments: [now])
            try db.execute(sql: "UPDATE reviews SET hidden_at = NULL WHERE id = 'rev_7'")
            try db.execute(sql: "UPDATE reviews SET withdrawn_at = ? WHERE id = 'rev_1'", arguments: [now])
            try db.execute(sql: "UPDATE reviews SET rating = 5 WHERE id IN ('rev_2', 'rev_0')")
            try db.execute(sql: "UPDATE reviews SET body = 'Edited.' WHERE id = 'rev_3'")
            try db.execute(sql: "DELETE FROM reviews WHERE id = 'rev_4'")
        }
        try await check("hidden, shown, withdrawn, re-rated, edited, deleted")
        #expect(try await database.ratingSummary(productID: product.id).count == 5)
        try await database.writer.write { try $0.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [readers[5].id]) }
        try await check("an author's account removed")
    }
}
