import Foundation
import GRDB
@testable import SoukDatabase
import Testing

@Suite("Query planner statistics")
struct PlannerStatisticsTests {
    static func addDoneJobs(_ count: Int, to database: AppDatabase) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO jobs (id, kind, state, max_attempts, run_at, created_at, updated_at)
                    SELECT 'job_' || hex(randomblob(12)), 'noop', 'done', 1, '2026-12-07', '2026-12-07', '2026-12-07' FROM n
                    """, arguments: [count])
        }
    }

    static func measuredJobs(_ database: AppDatabase) async throws -> Int? {
        try await database.writer.read { db in
            guard try db.tableExists("sqlite_stat1") else { return nil }
            // As `isStale` reads it: the largest row count any of the table's indexes was given.
            return try String.fetchAll(db, sql: "SELECT stat FROM sqlite_stat1 WHERE tbl = 'jobs'")
                .compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }.max()
        }
    }

    @Test("Measured once there is something to measure, then again only when a table has doubled")
    func measuredWhenStale() async throws {
        let database = try TestStore().database
        let statistics = PlannerStatistics(database: database)
        #expect(try await statistics.refreshIfStale() == false, "an empty store: SQLite's guesses serve")
        try await Self.addDoneJobs(9_000, to: database)
        #expect(try await statistics.refreshIfStale() == false, "still under 10,000 rows in all")
        #expect(try await Self.measuredJobs(database) == nil)

        try await Self.addDoneJobs(2_000, to: database)
        #expect(try await statistics.refreshIfStale())
        // Sampled (`analysis_limit`): the count is an estimate, within a factor of two.
        let first = try #require(try await Self.measuredJobs(database))
        #expect((5_500...22_000).contains(first), "\(first)")
        #expect(try await statistics.refreshIfStale() == false, "measured just now")

        // Up to twice what was measured, nothing; past it, measured again.
        try await Self.addDoneJobs(max(0, 2 * first - 11_000 - 500), to: database)
        #expect(try await statistics.refreshIfStale() == false, "not yet twice the \(first) measured")
        try await Self.addDoneJobs(1_000, to: database)
        #expect(try await statistics.refreshIfStale())
        let second = try #require(try await Self.measuredJobs(database))
        #expect(second > first && (11_500...46_000).contains(second), "\(first) then \(second)")
    }
}
