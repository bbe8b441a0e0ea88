import Foundation
import GRDB
import SoukCore

/// Owns Souk's SQLite database: opens it with explicit settings, migrates it, and exposes the
/// named writes that keep its invariants (see the `AppDatabase+*.swift` files).
///
/// The server and every CLI command open the same file at once; WAL lets readers run beside the
/// single writer, and the busy timeout makes a second writer wait instead of failing.
public final class AppDatabase: Sendable {
    let writer: DatabasePool
    /// The database file's path (a checkpointer opens its own connection to it).
    let path: String
    public let clock: any WallClock
    public let ids: any IDGenerator
    /// The in-memory search index, when that engine is chosen.
    let memorySearch: MemorySearch?
    /// When the public store pages may have changed (for their cache).
    let storePageChanges: StorePageChanges
    /// Wakes the job runner when this process commits a job.
    public let jobArrivals = JobArrivals()
    /// Whether anything changed since a reading (for readings kept in memory).
    let commits: DatabaseCommits
    /// Session holders and notification bells by session and user: every signed-in page asks
    /// for both, and they change rarely (`UnchangedReadings`).
    let sessionHolders = UnchangedReadings<SessionHolderReading>(capacity: 20_000)
    let bells = UnchangedReadings<NotificationBellReading>(capacity: 20_000)

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    /// Throws `SchemaError.newerThanBinary` if the file was migrated by a newer Souk.
    public init(
        path: String, clock: any WallClock = SystemClock(), ids: any IDGenerator = RandomIDGenerator(),
        searchEngine: SearchEngineKind = .memory
    ) throws {
        self.writer = try DatabasePool(path: path, configuration: Self.configuration())
        self.path = path
        self.storePageChanges = StorePageChanges(databasePath: path)
        self.commits = DatabaseCommits(databasePath: path)
        self.clock = clock
        self.ids = ids
        self.memorySearch = searchEngine == .memory ? MemorySearch() : nil
        try Self.checkNotSuperseded(writer)
        try Migrations.migrator.migrate(writer)
        writer.add(transactionObserver: storePageChanges, extent: .databaseLifetime)
        writer.add(transactionObserver: jobArrivals, extent: .databaseLifetime)
        writer.add(transactionObserver: commits, extent: .databaseLifetime)
    }

    /// The counts triggers keep in `row_counts` (reviews, hidden reviews, jobs by state).
    static func rowCounts(_ db: Database) throws -> [String: Int] {
        Dictionary(try RowCountRecord.fetchAll(db).map { ($0.name, $0.count) }) { first, _ in first }
    }

    /// Now, as far as changes go: take it before a read whose result is kept in
    /// `UnchangedReadings`. Nil when nothing can be kept.
    public func moment() -> DatabaseMoment? { commits.moment() }

    static func configuration() -> Configuration {
        var config = Configuration()
        // A CLI command and the server share the file: wait up to 5 s for the write lock rather
        // than failing with SQLITE_BUSY.
        config.busyMode = .timeout(5)
        // Referential integrity is part of the schema's contract (sessions die with their user).
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // WAL (set by DatabasePool) + NORMAL: a commit is durable once the WAL is synced at
            // checkpoint; a power cut may lose the last transactions but never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    public enum SchemaError: Error, CustomStringConvertible {
        case newerThanBinary(unknown: [String])
        public var description: String {
            switch self {
            case .newerThanBinary(let unknown):
                "The database was migrated by a newer version of souk (unknown migrations: "
                    + unknown.joined(separator: ", ")
                    + "). Run the newer souk binary, or restore a backup made with this version."
            }
        }
    }

    /// Refuse to touch a database migrated by a newer binary: its schema may mean things we don't know.
    private static func checkNotSuperseded(_ writer: DatabasePool) throws {
        try writer.read { db in
            let migrator = Migrations.migrator
            guard try migrator.hasBeenSuperseded(db) else { return }
            let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
            throw SchemaError.newerThanBinary(unknown: unknown)
        }
    }

    /// Applied migrations, oldest first (for `souk migrate` and `/healthz`).
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try Migrations.migrator.appliedIdentifiers(db) }
            .sorted { Migrations.migrator.migrations.firstIndex(of: $0)! < Migrations.migrator.migrations.firstIndex(of: $1)! }
    }

    /// A round trip proving the database answers, returning the number of applied migrations
    /// (for `/healthz`). Async: a health probe must never block a server thread.
    public func ping() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") ?? 0 }
    }
}
