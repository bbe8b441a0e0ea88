import GRDB

/// SQLite's query-planner statistics (`sqlite_stat1`, made by `ANALYZE`), kept close to the data.
///
/// Without them SQLite guesses that an equality on any index finds about ten rows. A seller's
/// orders (`EXISTS` over their order items) were then read item by item and sorted: 550 ms for
/// a seller with 100,000 sales, 3.4 ms with statistics; their sales page 1.2 s, 166 ms.
/// Statistics of tables that were nearly empty when measured are as misleading, so they are
/// made again whenever a table has doubled since (and not before there is anything to measure).
/// `analysis_limit` samples each index: 1.3 s for the 1M-product demo catalog, most of it reading.
public struct PlannerStatistics: Sendable {
    private let database: AppDatabase
    /// The tables whose sizes decide when to measure again.
    static let tables = ["products", "orders", "order_items", "reviews", "jobs", "grants", "users"]
    /// Below this many rows in all of them, SQLite's guesses serve as well.
    static let smallestWorthMeasuring = 10_000

    public init(database: AppDatabase) {
        self.database = database
    }

    /// Measures again when the statistics are missing or a table has doubled since they were
    /// made. Runs on a connection of its own (it waits for the write lock like a `souk` command,
    /// for as long as the measuring takes). Returns whether it measured.
    @discardableResult
    public func refreshIfStale() async throws -> Bool {
        var configuration = Configuration()
        configuration.label = "souk.statistics"
        configuration.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: database.path, configuration: configuration)
        return try await queue.writeWithoutTransaction { db in
            guard try Self.isStale(db) else { return false }
            try db.execute(sql: "PRAGMA analysis_limit = 1000; ANALYZE")
            return true
        }
    }

    static func isStale(_ db: Database) throws -> Bool {
        var sizes: [String: Int] = [:]
        for table in tables {
            // The largest rowid: as many rows as were ever added, found in the table's b-tree at once.
            sizes[table] = try Int.fetchOne(db, sql: "SELECT MAX(rowid) FROM \(table)") ?? 0
        }
        guard sizes.values.reduce(0, +) >= smallestWorthMeasuring else { return false }
        guard try db.tableExists("sqlite_stat1") else { return true }
        var measured: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT tbl, stat FROM sqlite_stat1") {
            let rows = (row["stat"] as String?)?.split(separator: " ").first.flatMap { Int($0) } ?? 0
            measured[row["tbl"], default: 0] = max(measured[row["tbl"], default: 0], rows)
        }
        return sizes.contains { table, size in size >= 1_000 && size > 2 * (measured[table] ?? 0) }
    }
}
