import Foundation
import GRDB
import SoukCore

/// Where a job stands. `queued` → `running` → `done`; a failure goes back to `queued` (later) or,
/// after `max_attempts`, to `dead`, where it waits for an operator's `souk jobs retry`.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, done, dead
}

/// One unit of background work, as a handler sees it.
public struct Job: Sendable, Equatable {
    public var id: String
    public var kind: String
    /// JSON text; see `decodePayload`.
    public var payload: String
    public var dedupeKey: String?
    public var state: JobState
    /// Attempts started so far, including the running one.
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public func decodePayload<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(payload.utf8))
    }
}

extension JobRecord {
    var job: Job {
        Job(
            id: id, kind: kind, payload: payload, dedupeKey: dedupeKey, state: JobState(rawValue: state) ?? .dead,
            attempts: attempts, maxAttempts: maxAttempts, runAt: runAt, leaseOwner: leaseOwner,
            leaseExpiresAt: leaseExpiresAt, lastError: lastError, createdAt: createdAt, updatedAt: updatedAt,
            finishedAt: finishedAt)
    }
}

/// How long a failed job waits before its next attempt: `base × 2^(attempt-1)`, capped, then
/// spread by ±`jitter` so jobs that failed together (a mail server down) do not retry together.
public struct JobBackoff: Sendable {
    public var base: TimeInterval
    public var cap: TimeInterval
    /// Fraction of the delay, e.g. 0.2 for ±20 %.
    public var jitter: Double
    /// A number in [0, 1); injectable so tests can pin the jitter.
    public var random: @Sendable () -> Double

    public init(
        base: TimeInterval = 5, cap: TimeInterval = 3600, jitter: Double = 0.2,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.random = random
    }

    /// The delay after the `attempt`-th attempt (1-based) failed.
    public func delay(afterAttempt attempt: Int) -> TimeInterval {
        let exponent = Double(min(max(attempt - 1, 0), 62))
        let nominal = min(base * pow(2, exponent), cap)
        return nominal * (1 + jitter * (2 * random() - 1))
    }
}

/// What became of a failed attempt.
public enum JobFailureOutcome: Sendable, Equatable {
    /// Queued again, to run at this time.
    case retry(at: Date)
    /// `max_attempts` reached: parked as `dead`.
    case dead
    /// The caller no longer holds the lease (it expired and another worker took the job):
    /// nothing was recorded.
    case leaseLost
}

/// The durable job queue over the `jobs` table.
///
/// Every time comes from the database's injectable clock, so tests move time instead of sleeping.
/// All state changes are single write transactions; SQLite serialises writers, which is what
/// makes `claim` atomic across threads and processes (the server and a `souk jobs run`).
public struct JobQueue: Sendable {
    public static let defaultMaxAttempts = 10

    public let database: AppDatabase
    public let backoff: JobBackoff
    /// Kinds that wait differently between attempts (webhook deliveries back off to hours).
    public let backoffByKind: [String: JobBackoff]

    public init(database: AppDatabase, backoff: JobBackoff = JobBackoff(), backoffByKind: [String: JobBackoff] = [:]) {
        self.database = database
        self.backoff = backoff
        self.backoffByKind = backoffByKind
    }

    // MARK: Enqueueing

    /// Adds a job inside the caller's write transaction: call it from the write that makes the
    /// change the job is about (the outbox rule), so the job commits or rolls back with it.
    /// With a `dedupeKey` already present (in any state), adds nothing and returns that job's id.
    @discardableResult
    func enqueue(
        kind: String, payload: some Encodable, dedupeKey: String? = nil, runAt: Date? = nil,
        maxAttempts: Int = JobQueue.defaultMaxAttempts, in db: Database
    ) throws -> String {
        try Self.enqueue(
            kind: kind, payloadJSON: try Self.encode(payload), dedupeKey: dedupeKey, runAt: runAt,
            maxAttempts: maxAttempts, clock: database.clock, ids: database.ids, in: db)
    }

    /// Adds a job in a transaction of its own (for work not caused by a database change).
    @discardableResult
    public func enqueue(
        kind: String, payload: some Encodable, dedupeKey: String? = nil, runAt: Date? = nil,
        maxAttempts: Int = JobQueue.defaultMaxAttempts
    ) async throws -> String {
        let json = try Self.encode(payload)
        let (clock, ids) = (database.clock, database.ids)
        return try await database.writer.write { db in
            try Self.enqueue(
                kind: kind, payloadJSON: json, dedupeKey: dedupeKey, runAt: runAt, maxAttempts: maxAttempts,
                clock: clock, ids: ids, in: db)
        }
    }

    /// Adds a job a decision asked for, inside the caller's write transaction.
    @discardableResult
    func enqueue(_ request: JobRequest, in db: Database) throws -> String {
        try Self.enqueue(
            kind: request.kind, payloadJSON: request.payloadJSON, dedupeKey: request.dedupeKey, runAt: request.runAt,
            maxAttempts: request.maxAttempts ?? JobQueue.defaultMaxAttempts, clock: database.clock, ids: database.ids, in: db)
    }

    private static func encode(_ payload: some Encodable) throws -> String { try JobRequest.encode(payload) }

    private struct Instant: WallClock {
        let date: Date
        func now() -> Date { date }
    }

    /// Adds a job in the caller's transaction, where only the time and id source are at hand.
    static func enqueue(_ request: JobRequest, now: Date, ids: any IDGenerator, in db: Database) throws {
        _ = try enqueue(
            kind: request.kind, payloadJSON: request.payloadJSON, dedupeKey: request.dedupeKey, runAt: request.runAt,
            maxAttempts: request.maxAttempts ?? JobQueue.defaultMaxAttempts, clock: Instant(date: now), ids: ids, in: db)
    }

    private static func enqueue(
        kind: String, payloadJSON: String, dedupeKey: String?, runAt: Date?, maxAttempts: Int,
        clock: any WallClock, ids: any IDGenerator, in db: Database
    ) throws -> String {
        if let dedupeKey,
            let existing = try String.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM jobs WHERE dedupe_key = ?"), arguments: [dedupeKey])
        {
            return existing
        }
        let now = clock.now()
        let record = JobRecord(
            id: ids.make(.job), kind: kind, payload: payloadJSON, dedupeKey: dedupeKey,
            state: JobState.queued.rawValue, attempts: 0, maxAttempts: max(1, maxAttempts), runAt: runAt ?? now,
            leaseOwner: nil, leaseExpiresAt: nil, lastError: nil, createdAt: now, updatedAt: now, finishedAt: nil)
        try record.insert(db)
        return record.id
    }

    // MARK: Working

    /// Atomically takes up to `limit` jobs for `owner`: queued jobs that are due, and running jobs
    /// whose lease has expired (their worker died or stalled). Each is marked running with a lease
    /// of `lease` seconds and its attempt counted. An expired job that had used its last attempt
    /// is parked as `dead` instead. Oldest due first.
    public func claim(owner: String, lease: TimeInterval, limit: Int) async throws -> [Job] {
        let clock = database.clock
        return try await database.writer.write { db in
            let now = clock.now()
            // Cached statements (one per number of jobs taken): the runner claims after every commit.
            try db.executeCached(
                """
                UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
                    last_error = 'the lease of ' || lease_owner || ' expired during the last attempt',
                    finished_at = ?, updated_at = ?
                WHERE state = 'running' AND lease_expires_at <= ? AND attempts >= max_attempts
                """, [now, now, now])
            let ids = try String.fetchAll(
                db.cachedStatement(sql: Self.dueJobsSQL), arguments: [now, max(0, limit), now, max(0, limit), max(0, limit)])
            guard !ids.isEmpty else { return [] }
            let marks = databaseQuestionMarks(count: ids.count)
            try db.executeCached(
                """
                UPDATE jobs SET
                    last_error = CASE WHEN state = 'running'
                        THEN 'the lease of ' || lease_owner || ' expired' ELSE last_error END,
                    state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                    updated_at = ?
                WHERE id IN (\(marks))
                """,
                StatementArguments([owner, now.addingTimeInterval(lease), now] as [any DatabaseValueConvertible])
                    + StatementArguments(ids))
            let records = try JobRecord.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM jobs WHERE id IN (\(marks)) ORDER BY run_at, created_at, id"),
                arguments: StatementArguments(ids))
            return records.map(\.job)
        }
    }

    /// The ids of the `limit` oldest due jobs: queued and due, or running with an expired lease
    /// (arguments: now, limit, now, limit, limit). Each kind is read apart, in order from its
    /// index and only as far as `limit`: one `OR` found every due job and sorted them all, and
    /// during a burst of payments thousands are due.
    static let dueJobsSQL = """
        SELECT id FROM (
            SELECT * FROM (
                SELECT id, run_at, created_at FROM jobs WHERE state = 'queued' AND run_at <= ?
                ORDER BY run_at, created_at, id LIMIT ?)
            UNION ALL
            SELECT * FROM (
                SELECT id, run_at, created_at FROM jobs WHERE state = 'running' AND lease_expires_at <= ?
                ORDER BY run_at, created_at, id LIMIT ?))
        ORDER BY run_at, created_at, id LIMIT ?
        """

    /// Extends `owner`'s lease on a running job to `lease` seconds from now. Returns false if the
    /// lease was lost (taken by another worker, or the job was retried by an operator).
    @discardableResult
    public func renewLease(id: String, owner: String, lease: TimeInterval) async throws -> Bool {
        let clock = database.clock
        return try await database.writer.write { db in
            let now = clock.now()
            try db.executeCached(
                """
                UPDATE jobs SET lease_expires_at = ?, updated_at = ?
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, [now.addingTimeInterval(lease), now, id, owner])
            return db.changesCount > 0
        }
    }

    /// Marks the job done. Refused (returns false, changes nothing) if `owner` no longer holds the
    /// lease: the worker that took over owns the outcome.
    @discardableResult
    public func complete(id: String, owner: String) async throws -> Bool {
        let clock = database.clock
        return try await database.writer.write { db in
            let now = clock.now()
            // Compiled each time, not cached: the crash test (Tests/e2e/test_jobs_crash.py) stops
            // the server at this statement's compilation, between a job's work and its end.
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL,
                        finished_at = ?, updated_at = ?
                    WHERE id = ? AND state = 'running' AND lease_owner = ?
                    """, arguments: [now, now, id, owner])
            return db.changesCount > 0
        }
    }

    /// Records a failed attempt: the job is queued again after the backoff delay, or parked as
    /// `dead` once it has used `max_attempts`. Refused (`.leaseLost`) if `owner` no longer holds
    /// the lease.
    @discardableResult
    public func fail(id: String, owner: String, error: String) async throws -> JobFailureOutcome {
        let (clock, backoff, backoffByKind) = (database.clock, backoff, backoffByKind)
        return try await database.writer.write { db in
            let now = clock.now()
            guard
                var record = try JobRecord.filter(
                    JobRecord.Columns.id == id && JobRecord.Columns.state == JobState.running.rawValue
                        && JobRecord.Columns.leaseOwner == owner
                ).fetchOne(db)
            else { return .leaseLost }
            let outcome: JobFailureOutcome
            if record.attempts >= record.maxAttempts {
                record.state = JobState.dead.rawValue
                record.finishedAt = now
                outcome = .dead
            } else {
                record.state = JobState.queued.rawValue
                let delay = (backoffByKind[record.kind] ?? backoff).delay(afterAttempt: record.attempts)
                record.runAt = now.addingTimeInterval(delay)
                outcome = .retry(at: record.runAt)
            }
            record.leaseOwner = nil
            record.leaseExpiresAt = nil
            record.lastError = String(error.prefix(4000))
            record.updatedAt = now
            try record.update(db)
            return outcome
        }
    }

    // MARK: Operating

    /// The job holding `dedupeKey`, in whatever state.
    public func job(dedupeKey: String) async throws -> Job? {
        try await database.writer.read { db in
            try JobRecord.filter(JobRecord.Columns.dedupeKey == dedupeKey).fetchOne(db)?.job
        }
    }

    public func job(id: String) async throws -> Job? {
        try await database.writer.read { db in try JobRecord.fetchOne(db, key: id)?.job }
    }

    /// Jobs, most recently changed first, optionally only one state; `offset` pages through them.
    public func jobs(state: JobState? = nil, limit: Int = 100, offset: Int = 0) async throws -> [Job] {
        try await database.writer.read { db in
            var request = JobRecord.order(JobRecord.Columns.updatedAt.desc, JobRecord.Columns.id)
            if let state { request = request.filter(JobRecord.Columns.state == state.rawValue) }
            return try request.limit(max(0, limit), offset: max(0, offset)).fetchAll(db).map(\.job)
        }
    }

    /// Puts a dead (or waiting) job back in the queue to run now, with its attempts reset.
    /// Throws `notFound` for an unknown id, and `conflict` for a job that is running or done.
    public func retry(id: String) async throws -> Job {
        let clock = database.clock
        return try await database.writer.write { db in
            let now = clock.now()
            guard var record = try JobRecord.fetchOne(db, key: id) else { throw SoukError.notFound("Job \(id)") }
            switch JobState(rawValue: record.state) {
            case .running:
                throw SoukError(
                    .conflict, "Job \(id) is running; wait for it to finish or for its lease to expire.")
            case .done:
                throw SoukError(.conflict, "Job \(id) is already done; it will not run again.")
            case .queued, .dead, nil:
                record.state = JobState.queued.rawValue
                record.attempts = 0
                record.runAt = now
                record.leaseOwner = nil
                record.leaseExpiresAt = nil
                record.finishedAt = nil
                record.updatedAt = now
                try record.update(db)
                return record.job
            }
        }
    }

    /// How many jobs are in each state (every state present, zero included).
    public func counts() async throws -> [JobState: Int] {
        try await database.writer.read { db in
            // Kept by triggers (`row_counts`): the table keeps every finished job.
            let counts = try AppDatabase.rowCounts(db)
            return Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, counts["jobs_\($0.rawValue)"] ?? 0) })
        }
    }
}
