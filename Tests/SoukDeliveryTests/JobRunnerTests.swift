import Foundation
import Logging
import ServiceLifecycle
import SoukCore
@testable import SoukDatabase
import Synchronization
import Testing

@testable import SoukDelivery

final class RunnerTestClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// Counts handler runs per job id, from any task.
final class RunLog: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [String: Int] = [:]
    func record(_ id: String) { lock.withLock { runs[id, default: 0] += 1 } }
    var counts: [String: Int] { lock.withLock { runs } }
}

private func databasePath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-runner-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("souk.db").path
}

/// A fresh queue, and a registry whose `count` jobs record their runs in the log.
private func countingQueue() throws -> (JobQueue, RunLog, JobRegistry) {
    let queue = JobQueue(database: try AppDatabase(path: try databasePath()))
    let log = RunLog()
    var registry = JobRegistry.builtIn
    registry.register("count") { job in log.record(job.id) }
    return (queue, log, registry)
}

/// Runs `runner` as a service (as `souk serve` does) while `body` runs, then shuts it down gracefully.
private func whileServing(_ runner: JobRunner, _ body: () async throws -> Void) async throws {
    let group = ServiceGroup(
        configuration: .init(services: [runner], gracefulShutdownSignals: [], logger: Logger(label: "test")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await body()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

@Suite("The job runner")
struct JobRunnerTests {
    @Test("Runs each due job's handler exactly once")
    func runsOnce() async throws {
        let queue = JobQueue(database: try AppDatabase(path: try databasePath(), clock: RunnerTestClock()))
        let log = RunLog()
        var registry = JobRegistry.builtIn
        registry.register("count") { job in log.record(job.id) }
        let ids = try await (0..<10).asyncMap { n in try await queue.enqueue(kind: "count", payload: ["n": n]) }
        try await queue.enqueue(kind: "noop", payload: [String: String]())

        let runner = JobRunner(queue: queue, registry: registry, concurrency: 4)
        var total = JobRunSummary()
        while true {
            let summary = try await runner.runOnce(limit: 4)
            if summary.claimed == 0 { break }
            total.claimed += summary.claimed
            total.succeeded += summary.succeeded
        }
        #expect(total.claimed == 11 && total.succeeded == 11)
        #expect(log.counts == Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }))
        #expect(try await queue.counts()[.done] == 11)
    }

    @Test("A failing handler is retried after its backoff and then succeeds; an unknown kind fails clearly")
    func retriesFailures() async throws {
        let clock = RunnerTestClock()
        let queue = JobQueue(
            database: try AppDatabase(path: try databasePath(), clock: clock), backoff: JobBackoff(random: { 0.5 }))
        let log = RunLog()
        var registry = JobRegistry.builtIn
        registry.register("flaky") { job in
            log.record(job.id)
            if job.attempts < 2 { throw SoukError(.internalError, "the mail server said 421") }
        }
        let flaky = try await queue.enqueue(kind: "flaky", payload: [String: String]())
        let unknown = try await queue.enqueue(kind: "mystery", payload: [String: String](), maxAttempts: 1)
        let runner = JobRunner(queue: queue, registry: registry)

        var summary = try await runner.runOnce(limit: 10)
        #expect(summary.claimed == 2 && summary.retrying == 1 && summary.dead == 1)
        #expect(try await queue.job(id: flaky)?.lastError?.contains("421") == true)
        #expect(try await queue.job(id: unknown)?.lastError == "no handler is registered for job kind 'mystery'")
        #expect(try await runner.runOnce(limit: 10).claimed == 0, "waits for its backoff")

        clock.advance(5)
        summary = try await runner.runOnce(limit: 10)
        #expect(summary.claimed == 1 && summary.succeeded == 1)
        #expect(log.counts == [flaky: 2])
        let job = try #require(try await queue.job(id: flaky))
        #expect(job.state == .done && job.attempts == 2)
    }

    @Test("A job enqueued before a crash runs once after the database is reopened")
    func crashBetweenEnqueueAndRun() async throws {
        let path = try databasePath()
        var id = ""
        do {
            let database = try AppDatabase(path: path)
            // The cause and its job commit together; then the process "dies" before any worker runs.
            id = try await database.writer.write { db in
                try JobQueue(database: database).enqueue(kind: "count", payload: ["order": "ord_1"], in: db)
            }
        }
        let reopened = try AppDatabase(path: path)
        let log = RunLog()
        var registry = JobRegistry.builtIn
        registry.register("count") { job in log.record(job.id) }
        let runner = JobRunner(queue: JobQueue(database: reopened), registry: registry)
        #expect(try await runner.runOnce(limit: 10).succeeded == 1)
        #expect(try await runner.runOnce(limit: 10).claimed == 0)
        #expect(log.counts == [id: 1])
    }

    @Test("As a service it runs queued jobs and stops on graceful shutdown")
    func service() async throws {
        let (queue, log, registry) = try countingQueue()
        let id = try await queue.enqueue(kind: "count", payload: [String: String]())
        var late = ""
        try await whileServing(JobRunner(queue: queue, registry: registry, pollInterval: .milliseconds(20))) {
            // A job enqueued while the runner polls is picked up too.
            late = try await queue.enqueue(kind: "count", payload: ["late": true])
            for _ in 0..<250 where log.counts.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(log.counts == [id: 1, late: 1])
        #expect(try await queue.counts()[.done] == 2)
    }

    @Test("A job this process commits starts at once, not at the next poll")
    func wakesOnArrival() async throws {
        let (queue, log, registry) = try countingQueue()
        // A poll of an hour: only the arrival can explain a start within the minute. (Generous
        // bounds: CPU-bound suites running beside this one can hold the cooperative threads.)
        try await whileServing(JobRunner(queue: queue, registry: registry, pollInterval: .seconds(3600))) {
            try await Task.sleep(for: .milliseconds(200))  // the runner is idle, waiting
            for round in 0..<3 {
                let started = ContinuousClock.now
                let id = try await queue.enqueue(kind: "count", payload: ["round": round])
                while log.counts[id] == nil && ContinuousClock.now - started < .seconds(60) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(log.counts[id] == 1)
                #expect(ContinuousClock.now - started < .seconds(60), "round \(round) waited for the poll")
            }
        }
    }

    @Test("A slow job holds one slot: the others keep flowing past it, up to the concurrency")
    func slowJobHoldsOneSlot() async throws {
        let queue = JobQueue(database: try AppDatabase(path: try databasePath()))
        let log = RunLog()
        let inFlight = Mutex((now: 0, most: 0))
        let release = AsyncStream<Void>.makeStream()
        var registry = JobRegistry.builtIn
        registry.register("slow") { job in
            for await _ in release.stream { break }  // until the test lets it go
            log.record(job.id)
        }
        registry.register("quick") { job in
            inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            try await Task.sleep(for: .milliseconds(20))
            inFlight.withLock { $0.now -= 1 }
            log.record(job.id)
        }
        let slow = try await queue.enqueue(kind: "slow", payload: [String: String]())
        var quick: [String] = []
        for index in 0..<12 { quick.append(try await queue.enqueue(kind: "quick", payload: ["n": index])) }
        let runner = JobRunner(queue: queue, registry: registry, pollInterval: .milliseconds(50), concurrency: 3)
        try await whileServing(runner) {
            let started = ContinuousClock.now
            // (Generous bounds: CPU-bound suites beside this one can hold the cooperative threads;
            // a runner that waited for its whole batch would wait here for ever.)
            while quick.contains(where: { log.counts[$0] == nil }) && ContinuousClock.now - started < .seconds(60) {
                try await Task.sleep(for: .milliseconds(10))
            }
            // Every quick job ran while the slow one still waited, two at a time beside it.
            let runs = quick.map { log.counts[$0] ?? 0 }
            #expect(runs == Array(repeating: 1, count: 12))
            #expect(log.counts[slow] == nil)
            #expect(inFlight.withLock { $0.most } == 2)
            release.continuation.yield()
            while log.counts[slow] == nil && ContinuousClock.now - started < .seconds(120) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(log.counts[slow] == 1)
        }
        #expect(try await queue.counts()[.done] == 13)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
