import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

/// A clock the test moves by hand: leases expire and backoffs pass without sleeping.
final class JobTestClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

private func makeQueue(
    clock: JobTestClock = JobTestClock(), random: @escaping @Sendable () -> Double = { 0.5 }
) throws -> JobQueue {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-jobs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock)
    return JobQueue(database: database, backoff: JobBackoff(random: random))
}

private struct Payload: Codable, Equatable { var order: String }

@Suite("The job queue")
struct JobQueueTests {
    @Test("A job enqueued in a transaction that rolls back never exists")
    func outboxRollback() async throws {
        let queue = try makeQueue()
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await queue.database.writer.write { db in
                try queue.enqueue(kind: "email", payload: Payload(order: "ord_1"), in: db)
                throw Boom()
            }
        }
        #expect(try await queue.jobs().isEmpty)

        // Committed with its cause, it is there with its payload.
        let id = try await queue.database.writer.write { db in
            try queue.enqueue(kind: "email", payload: Payload(order: "ord_2"), in: db)
        }
        let job = try #require(try await queue.job(id: id))
        #expect(id.hasPrefix("job_"))
        #expect(job.state == .queued && job.attempts == 0 && job.kind == "email")
        #expect(try job.decodePayload(Payload.self) == Payload(order: "ord_2"))
    }

    @Test("The same dedupe key gives one job, whatever its state")
    func dedupe() async throws {
        let queue = try makeQueue()
        let first = try await queue.enqueue(kind: "fulfil", payload: Payload(order: "o"), dedupeKey: "fulfil:o")
        let second = try await queue.enqueue(kind: "fulfil", payload: Payload(order: "o"), dedupeKey: "fulfil:o")
        #expect(first == second)
        _ = try await queue.claim(owner: "w", lease: 60, limit: 1)
        #expect(try await queue.complete(id: first, owner: "w"))
        #expect(try await queue.enqueue(kind: "fulfil", payload: Payload(order: "o"), dedupeKey: "fulfil:o") == first)
        // Jobs without a key are never merged.
        try await queue.enqueue(kind: "noop", payload: [String: String]())
        try await queue.enqueue(kind: "noop", payload: [String: String]())
        #expect(try await queue.counts() == [.queued: 2, .running: 0, .done: 1, .dead: 0])
    }

    @Test("8 workers claiming 50 jobs at once take each job exactly once")
    func concurrentClaims() async throws {
        let queue = try makeQueue()
        for n in 0..<50 { try await queue.enqueue(kind: "noop", payload: ["n": n]) }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let jobs = try await queue.claim(owner: "worker-\(worker)", lease: 60, limit: 3)
                        if jobs.isEmpty { return mine }
                        #expect(jobs.allSatisfy { $0.leaseOwner == "worker-\(worker)" && $0.attempts == 1 })
                        mine += jobs.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.count == 50)
        #expect(Set(claimed).count == 50, "no job was claimed twice")
        #expect(try await queue.counts()[.running] == 50)
    }

    @Test("A job whose worker died is taken again when its lease expires; the late worker's outcome is refused")
    func leaseExpiry() async throws {
        let clock = JobTestClock()
        let queue = try makeQueue(clock: clock)
        let id = try await queue.enqueue(kind: "noop", payload: [String: String]())
        #expect(try await queue.claim(owner: "a", lease: 30, limit: 10).map(\.id) == [id])
        #expect(try await queue.claim(owner: "b", lease: 30, limit: 10).isEmpty, "the lease holds")

        clock.advance(20)
        #expect(try await queue.renewLease(id: id, owner: "a", lease: 30))
        clock.advance(20)
        #expect(try await queue.claim(owner: "b", lease: 30, limit: 10).isEmpty, "renewed, so still held")

        clock.advance(31)
        let retaken = try await queue.claim(owner: "b", lease: 30, limit: 10)
        #expect(retaken.map(\.id) == [id])
        #expect(retaken.first?.attempts == 2)
        #expect(retaken.first?.lastError?.contains("lease of a expired") == true)

        // "a" wakes up: it can neither complete, fail nor renew the job "b" now holds.
        #expect(try await queue.complete(id: id, owner: "a") == false)
        #expect(try await queue.fail(id: id, owner: "a", error: "late") == .leaseLost)
        #expect(try await queue.renewLease(id: id, owner: "a", lease: 30) == false)
        #expect(try await queue.job(id: id)?.leaseOwner == "b")
        #expect(try await queue.complete(id: id, owner: "b"))
        #expect(try await queue.job(id: id)?.state == .done)
    }

    @Test("Backoff doubles from 5 s, is capped at an hour, and jitters within ±20 %")
    func backoff() {
        let middle = JobBackoff(random: { 0.5 })
        #expect((1...5).map { middle.delay(afterAttempt: $0) } == [5, 10, 20, 40, 80])
        #expect(middle.delay(afterAttempt: 12) == 3600)
        #expect(middle.delay(afterAttempt: 500) == 3600)
        #expect(JobBackoff(random: { 0 }).delay(afterAttempt: 3) == 16)
        #expect(abs(JobBackoff(random: { 0.999_999 }).delay(afterAttempt: 3) - 24) < 0.001)

        let random = JobBackoff()
        for attempt in 1...15 {
            let nominal = min(5 * pow(2, Double(attempt - 1)), 3600)
            let delays = (0..<200).map { _ in random.delay(afterAttempt: attempt) }
            #expect(delays.allSatisfy { $0 >= nominal * 0.8 && $0 <= nominal * 1.2 })
            #expect(Set(delays).count > 1, "jitter spreads retries")
        }
    }

    @Test("A failing job retries after its backoff, goes dead after max_attempts, and retry requeues it")
    func failuresAndDead() async throws {
        let clock = JobTestClock()
        let queue = try makeQueue(clock: clock, random: { 1 })  // +20 %
        let id = try await queue.enqueue(kind: "email", payload: [String: String](), maxAttempts: 3)

        let start = clock.now()
        _ = try await queue.claim(owner: "w", lease: 60, limit: 1)
        #expect(try await queue.fail(id: id, owner: "w", error: "smtp down") == .retry(at: start + 6))
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 1).isEmpty, "not due before its backoff")
        clock.advance(6)
        _ = try await queue.claim(owner: "w", lease: 60, limit: 1)
        #expect(try await queue.fail(id: id, owner: "w", error: "smtp down") == .retry(at: start + 18))
        clock.advance(12)
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 1).first?.attempts == 3)
        #expect(try await queue.fail(id: id, owner: "w", error: "smtp still down") == .dead)

        let dead = try #require(try await queue.jobs(state: .dead).first)
        #expect(dead.id == id && dead.attempts == 3 && dead.lastError == "smtp still down" && dead.finishedAt != nil)
        clock.advance(86_400)
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 1).isEmpty, "dead jobs stay parked")

        let retried = try await queue.retry(id: id)
        #expect(retried.state == .queued && retried.attempts == 0 && retried.runAt == clock.now())
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 1).map(\.id) == [id])
        await #expect(throws: SoukError.self) { try await queue.retry(id: id) }  // running
        #expect(try await queue.complete(id: id, owner: "w"))
        await #expect(throws: SoukError.self) { try await queue.retry(id: id) }  // done
        await #expect(throws: SoukError.notFound("Job job_nope")) { try await queue.retry(id: "job_nope") }
    }

    @Test("A worker that dies during the last attempt leaves a dead job, not an endless one")
    func leaseExpiryOnLastAttempt() async throws {
        let clock = JobTestClock()
        let queue = try makeQueue(clock: clock)
        let id = try await queue.enqueue(kind: "noop", payload: [String: String](), maxAttempts: 1)
        _ = try await queue.claim(owner: "a", lease: 30, limit: 1)
        clock.advance(31)
        #expect(try await queue.claim(owner: "b", lease: 30, limit: 1).isEmpty)
        let job = try #require(try await queue.job(id: id))
        #expect(job.state == .dead && job.lastError?.contains("expired") == true)
    }

    @Test("Jobs scheduled for later are not claimed before their time")
    func scheduled() async throws {
        let clock = JobTestClock()
        let queue = try makeQueue(clock: clock)
        let id = try await queue.enqueue(kind: "order_expiry", payload: [String: String](), runAt: clock.now() + 1800)
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 5).isEmpty)
        clock.advance(1800)
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 5).map(\.id) == [id])
    }
    @Test("A claim takes the oldest due jobs, queued or with an expired lease, reading no more of the backlog than it takes")
    func claimOrderWithABacklog() async throws {
        let clock = JobTestClock()
        let queue = try makeQueue(clock: clock)
        // A job taken at the start whose worker then died: due again once its lease runs out,
        // and older than every job queued after it.
        let stalled = try await queue.enqueue(kind: "noop", payload: ["n": -1])
        #expect(try await queue.claim(owner: "dead", lease: 30, limit: 1).map(\.id) == [stalled])
        var queued: [String] = []
        for n in 0..<2_000 {
            clock.advance(0.001)
            queued.append(try await queue.enqueue(kind: "noop", payload: ["n": n]))
        }
        clock.advance(31)
        let taken = try await queue.claim(owner: "w", lease: 60, limit: 3)
        #expect(taken.map(\.id) == [stalled] + queued.prefix(2))
        #expect(try await queue.claim(owner: "w", lease: 60, limit: 2).map(\.id) == Array(queued[2..<4]))

        // The queued jobs are read in order from an index: a backlog of thousands is not sorted
        // on the database's one writer at each claim (one after every commit that queues a job).
        let plan = try await queue.database.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + JobQueue.dueJobsSQL, arguments: [clock.now(), 3, clock.now(), 3, 3])
        }
        let steps = plan.map { (id: $0["id"] as Int, parent: $0["parent"] as Int, detail: $0["detail"] as String) }
        let queuedScan = try #require(steps.first { $0.detail.contains("COVERING INDEX jobs_state_run_order") }, "\(steps)")
        #expect(!steps.contains { $0.parent == queuedScan.parent && $0.detail.contains("TEMP B-TREE") }, "\(steps)")
    }
}
