import Foundation
import GRDB
import Synchronization

/// Tells when the public store pages may have changed: a generation that moves with every
/// committed write to what those pages show (products, their pictures, files and reviews,
/// sellers), so a cache of rendered pages knows when an entry is stale.
///
/// Writes made by this process are seen at their commit (a transaction observer on the writer).
/// Writes by another process (a `souk` CLI command, an operator's sqlite3) to products and
/// sellers reach the change feed `search_changes` through its triggers; its last entry is read on
/// every call (one seek to the end of an integer primary key).
public final class StorePageChanges: TransactionObserver, Sendable {
    static let tables: Set<String> = ["products", "product_images", "product_files", "reviews", "users"]
    /// Commits by this process that touched `tables`.
    private let local = Atomic<Int>(0)
    /// Set between a change and its transaction's end (the writer's queue only).
    private let pending = Atomic<Bool>(false)

    init() {}

    /// What of a seller the pages show (a buyer's time zone or password does not count).
    static let sellerColumns: Set<String> = ["name", "slug", "disabled", "seller_status", "role"]

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .update(let table, let columns) where table == "users": !columns.isDisjoint(with: Self.sellerColumns)
        case .insert(let table) where table == "users": false
        default: Self.tables.contains(eventKind.tableName)
        }
    }

    public func databaseDidChange(with event: DatabaseEvent) {
        pending.store(true, ordering: .relaxed)
    }

    public func databaseDidCommit(_ db: Database) {
        if pending.exchange(false, ordering: .relaxed) { local.add(1, ordering: .releasing) }
    }

    public func databaseDidRollback(_ db: Database) {
        pending.store(false, ordering: .relaxed)
    }

    /// The current generation ("local.feed"); equal strings mean nothing the pages show changed.
    func generation(_ readFeed: () async throws -> Int64) async rethrows -> String {
        let local = local.load(ordering: .acquiring)
        return "\(local).\(try await readFeed())"
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
