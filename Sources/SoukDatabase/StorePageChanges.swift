import Foundation
import GRDB
import Synchronization

/// Tells when the public store pages may have changed: a generation that moves with every
/// committed write to what those pages show (products, their pictures, files and reviews,
/// sellers), so a cache of rendered pages knows when an entry is stale.
///
/// Writes made by this process are seen at their commit (a transaction observer on the writer).
/// Writes by another process (a `souk` CLI command, an operator's sqlite3) to products and
/// sellers reach the change feed `search_changes` through its triggers. Its last entry is read
/// again only when the WAL file has changed since the last reading (every commit, by any process,
/// appends to it: a `stat` per request instead of a database read and two thread hops), and at
/// least once a second whatever the file says.
public final class StorePageChanges: TransactionObserver, Sendable {
    static let tables: Set<String> = ["products", "product_images", "product_files", "reviews", "users"]
    /// Commits by this process that touched `tables`.
    private let local = CommitCount()

    /// The WAL file beside the database.
    private let walPath: String
    /// The feed's last entry as last read.
    private let feedReading = TrustedReading<Int64>()
    /// How long a reading is trusted while the WAL file looks unchanged: a commit that lands in
    /// the same clock tick as a reading, into a WAL just restarted at the same size, would not
    /// change its stamp.
    static let longestTrust = Duration.seconds(1)

    init(databasePath: String) {
        walPath = databasePath + "-wal"
    }

    /// What of a seller the pages show (a buyer's time zone or password does not count).
    static let sellerColumns: Set<String> = ["name", "slug", "disabled", "seller_status", "role"]

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .update(let table, let columns) where table == "users": !columns.isDisjoint(with: Self.sellerColumns)
        // A sale: reaches the pages through the change feed when sales are settled
        // (`AppDatabase.settleSales`), not at its own commit.
        case .update(let table, let columns) where table == "products": columns != ["sales_count"]
        case .insert(let table) where table == "users": false
        default: Self.tables.contains(eventKind.tableName)
        }
    }

    public func databaseDidChange(with event: DatabaseEvent) { local.changed() }
    public func databaseDidCommit(_ db: Database) { local.committed() }
    public func databaseDidRollback(_ db: Database) { local.rolledBack() }

    /// What moves whenever a write that the pages (or the search index) show may have landed:
    /// this process's commits to those tables and the WAL file's stamp (any process's commits).
    /// Nil when there is no WAL file to look at.
    struct Snapshot: Equatable, Sendable {
        let local: Int
        let wal: FileStamp
    }

    func snapshot() -> Snapshot? {
        let local = local.value
        return FileStamp(path: walPath).map { Snapshot(local: local, wal: $0) }
    }

    /// The current generation ("local.feed"); equal strings mean nothing the pages show changed.
    func generation(_ readFeed: @Sendable () async throws -> Int64) async rethrows -> String {
        let (snapshot, feed) = try await feedReading.value(in: self, read: readFeed)
        return "\(snapshot?.local ?? local.value).\(feed)"
    }
}

/// A value read from the database, used again while nothing can have changed it: this process
/// committed nothing to the watched tables and the WAL file (which every commit, by any process,
/// appends to) looks the same, for at most `StorePageChanges.longestTrust`. A `stat` per use
/// instead of a database read and two thread hops.
final class TrustedReading<Value: Sendable>: Sendable {
    private let last = Mutex<(snapshot: StorePageChanges.Snapshot, value: Value, at: ContinuousClock.Instant)?>(nil)

    /// The value, read again by `read` unless the last reading can be trusted; with the snapshot
    /// taken before that read (nil when there is no WAL file to look at: then always read).
    func value(in changes: StorePageChanges, read: () async throws -> Value) async rethrows
        -> (snapshot: StorePageChanges.Snapshot?, value: Value)
    {
        let now = ContinuousClock.now
        // Taken before the read: a commit after it changes the snapshot, so the next use reads again.
        let snapshot = changes.snapshot()
        if let snapshot, let last = last.withLock({ $0 }), last.snapshot == snapshot,
            now - last.at < StorePageChanges.longestTrust
        {
            return (snapshot, last.value)
        }
        let value = try await read()
        if let snapshot { last.withLock { $0 = (snapshot, value, now) } }
        return (snapshot, value)
    }

    /// Forgets the last reading: the next use reads.
    func forget() { last.withLock { $0 = nil } }
}

/// What `stat` says of a file that changes when it is written: inode, size, modification time.
struct FileStamp: Equatable, Sendable {
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
    }
}

extension AppDatabase {
    /// The store pages' generation (see `StorePageChanges`). Asynchronous on purpose: a blocking
    /// read here, on every request, would hold the server's few cooperative threads while they
    /// wait for pool readers that themselves need those threads (a deadlock under load).
    public func storePagesGeneration() async throws -> String {
        try await storePageChanges.generation {
            try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM search_changes") ?? 0 }
        }
    }
}
