import Foundation
import GRDB
import Synchronization

/// Tells whether anything in the database may have changed since an earlier moment, without
/// reading it: this process's commits that changed a row (a transaction observer on the writer)
/// and the WAL file's stamp (every commit, by any process, appends to it).
///
/// A `stat` cannot see everything: a commit by another process into a WAL just restarted at
/// the same size, in the same clock tick as an earlier look, leaves the stamp as it was. So a
/// reading kept by moment (`UnchangedReadings`) is also trusted for one second at most.
public final class DatabaseCommits: TransactionObserver, Sendable {
    /// Commits by this process that changed a row.
    private let local = CommitCount()
    /// The WAL file beside the database.
    private let walPath: String

    init(databasePath: String) {
        walPath = databasePath + "-wal"
    }

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    public func databaseDidChange(with event: DatabaseEvent) { local.changed() }
    public func databaseDidCommit(_ db: Database) { local.committed() }
    public func databaseDidRollback(_ db: Database) { local.rolledBack() }

    /// How many commits of this process changed a row so far.
    var localCount: Int { local.value }

    /// Now, as far as changes go; nil when there is no WAL file to look at (nothing can be kept).
    func moment() -> DatabaseMoment? {
        let local = local.value
        return FileStamp(path: walPath).map { DatabaseMoment(local: local, wal: $0) }
    }
}

/// The commits of this process that changed what a transaction observer watches: its
/// `databaseDidChange`, `databaseDidCommit` and `databaseDidRollback` call `changed`,
/// `committed` and `rolledBack` (all on the writer's queue).
final class CommitCount: Sendable {
    private let count = Atomic<Int>(0)
    /// Set between a change and its transaction's end.
    private let pending = Atomic<Bool>(false)

    var value: Int { count.load(ordering: .acquiring) }
    func changed() { pending.store(true, ordering: .relaxed) }
    func committed() { if pending.exchange(false, ordering: .relaxed) { count.add(1, ordering: .releasing) } }
    func rolledBack() { pending.store(false, ordering: .relaxed) }
}

/// What moves with every commit (see `DatabaseCommits`): equal moments, nothing changed between
/// them (within the second a reading is trusted).
public struct DatabaseMoment: Equatable, Sendable {
    let local: Int
    let wal: FileStamp
}

/// Values read from the database (a session's holder, a signed-in page), used again for the
/// same key while the database is unchanged since they were read (`DatabaseMoment`, taken before
/// the read) and for at most `longestTrust` of the store's clock (so a clock moved by a test,
/// or time passing, is seen too). At most `capacity` in total cost; when full, it starts again.
public final class UnchangedReadings<Value: Sendable>: Sendable {
    public static var longestTrust: TimeInterval { 1 }

    private struct Reading: Sendable {
        let moment: DatabaseMoment
        let value: Value
        let at: Date
        let cost: Int
    }

    private let state = Mutex<(entries: [String: Reading], cost: Int)>(([:], 0))
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value kept for `key`, if it was read at `moment` less than `longestTrust` before `now`.
    public func value(_ key: String, moment: DatabaseMoment?, now: Date) -> Value? {
        guard let moment else { return nil }
        return state.withLock { state in
            guard let reading = state.entries[key] else { return nil }
            let age = now.timeIntervalSince(reading.at)
            if reading.moment == moment, age >= 0, age < Self.longestTrust { return reading.value }
            state.entries[key] = nil
            state.cost -= reading.cost
            return nil
        }
    }

    /// The value kept for `key`, else what `read` finds (read after `moment` was taken), kept
    /// unless nil.
    public func value(
        _ key: String, moment: DatabaseMoment?, now: Date, orRead read: () async throws -> Value?
    ) async rethrows -> Value? {
        if let kept = value(key, moment: moment, now: now) { return kept }
        guard let found = try await read() else { return nil }
        store(key, found, moment: moment, now: now)
        return found
    }

    /// Keeps `value`, read after `moment` was taken, at `now`.
    public func store(_ key: String, _ value: Value, moment: DatabaseMoment?, now: Date, cost: Int = 1) {
        guard let moment, cost <= capacity else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.cost -= old.cost }
            if state.cost + cost > capacity {
                state.entries.removeAll(keepingCapacity: true)
                state.cost = 0
            }
            state.entries[key] = Reading(moment: moment, value: value, at: now, cost: cost)
            state.cost += cost
        }
    }
}
