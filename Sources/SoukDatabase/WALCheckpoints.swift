import GRDB
import Synchronization

/// Checkpoints (the WAL's pages copied back into the database file, then both synced) taken on a
/// connection of their own while the server runs, instead of inside whichever write transaction
/// pushed the WAL past SQLite's 1,000 pages. During a burst of payments the writer then only
/// appends to the WAL: without the checkpoints on it, 1,000 paid-order webhooks were accepted at
/// 2,060–2,362/s against 1,773–1,797/s (`Benchmarks/launch.py webhooks`, the same hour).
///
/// A passive checkpoint copies what it can without waiting for readers or blocking the writer,
/// and once everything is copied the writer starts the WAL again from its beginning, so the file
/// stays small. Other processes (`souk` commands) keep SQLite's automatic checkpoints on their
/// own connections, and the writer gets them back when this stops.
public final class WALCheckpoints: Sendable {
    private let database: AppDatabase
    private let connection = Mutex<DatabaseQueue?>(nil)
    /// This process's commit count at the last checkpoint: an idle store does not checkpoint.
    private let checkpointedAt = Atomic<Int>(-1)

    /// SQLite's own default, given back to the writer on `stop`.
    static let automaticPages = 1_000

    public init(database: AppDatabase) {
        self.database = database
    }

    /// The WAL file, for messages about it.
    public var walPath: String { database.path + "-wal" }

    /// Opens the checkpointing connection and turns the writer's automatic checkpoints off.
    public func start() async throws {
        var configuration = Configuration()
        configuration.label = "souk.checkpoints"
        // A `souk` command's own checkpoint may hold the lock for a moment: the next tick retries.
        configuration.busyMode = .immediateError
        let queue = try DatabaseQueue(path: database.path, configuration: configuration)
        connection.withLock { $0 = queue }
        try await database.writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
    }

    /// A passive checkpoint if this process committed anything since the last one: the pages in
    /// the WAL and how many of them are copied back, or nil when there was nothing to do.
    /// Throws when another connection's checkpoint holds the lock (the next call retries).
    @discardableResult
    public func checkpointIfWritten() async throws -> (walPages: Int, copiedPages: Int)? {
        let commits = database.commits.localCount
        guard checkpointedAt.load(ordering: .relaxed) != commits, let queue = connection.withLock({ $0 }) else { return nil }
        let (pages, copied) = try await queue.writeWithoutTransaction { try $0.checkpoint(.passive) }
        checkpointedAt.store(commits, ordering: .relaxed)
        return (pages, copied)
    }

    /// Gives the writer its automatic checkpoints back and closes the checkpointing connection.
    public func stop() async throws {
        defer { connection.withLock { $0 = nil } }
        _ = try? await checkpointIfWritten()
        try await database.writer.writeWithoutTransaction {
            try $0.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.automaticPages)")
        }
    }
}
