import Foundation
import Logging
import ServiceLifecycle
import SoukCore
import SoukDatabase

/// What one pass of the runner did.
public struct JobRunSummary: Sendable, Equatable {
    public var claimed = 0
    public var succeeded = 0
    /// Failed and queued again for a later attempt.
    public var retrying = 0
    /// Failed on their last attempt.
    public var dead = 0
    /// Finished after another worker had taken them over; their outcome was not recorded.
    public var leaseLost = 0

    public init() {}
}

/// Runs due jobs: claims them with a lease, renews the lease while the handler works, and
/// records the outcome. A ServiceLifecycle service in `souk serve`; `runOnce` for `souk jobs run`.
///
/// On graceful shutdown it stops claiming and lets the jobs in hand finish. If the process dies
/// instead, their leases expire and another worker takes them again.
public struct JobRunner: Service {
    public let queue: JobQueue
    public let registry: JobRegistry
    /// Written into `lease_owner`: which process holds a job.
    public let owner: String
    /// Seconds a claim lasts without renewal; renewed every third of it.
    public let lease: TimeInterval
    /// How long to wait when no job is due.
    public let pollInterval: Duration
    /// Jobs claimed (and run concurrently) per pass.
    public let concurrency: Int
    /// Whether a job this process commits starts at once (`JobArrivals`), or waits for the poll.
    public let wakesOnCommit: Bool
    public let logger: Logger

    public init(
        queue: JobQueue, registry: JobRegistry = .builtIn, owner: String = JobRunner.defaultOwner(),
        lease: TimeInterval = 60, pollInterval: Duration = .seconds(1), concurrency: Int = 4, wakesOnCommit: Bool = true,
        logger: Logger = Logger(label: "souk.jobs")
    ) {
        self.queue = queue
        self.registry = registry
        self.owner = owner
        self.lease = lease
        self.pollInterval = pollInterval
        self.concurrency = max(1, concurrency)
        self.wakesOnCommit = wakesOnCommit
        self.logger = logger
    }

    /// `host:pid:random`, so an operator can tell which process holds a job.
    public static func defaultOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(RandomText.base32(byteCount: 4))"
    }

    /// Keeps up to `concurrency` jobs running: claims as many as there are free slots whenever one
    /// finishes, this process commits a job (`JobArrivals`), or `pollInterval` passes (jobs due
    /// later, or added by another process). A slow job (a mail server that takes its time) holds
    /// one slot, not a whole batch.
    public func run() async throws {
        logger.info("job runner started", metadata: ["owner": "\(owner)", "kinds": "\(registry.kinds.joined(separator: ","))"])
        let arrivals = queue.database.jobArrivals
        await withTaskGroup(of: Outcome?.self) { group in
            var running = 0
            var waiting = false  // a child waits for an arrival or the poll interval (it returns nil)
            while true {
                let stopping = Task.isShuttingDownGracefully || Task.isCancelled
                if !stopping && running < concurrency {
                    do {
                        for job in try await queue.claim(owner: owner, lease: lease, limit: concurrency - running) {
                            group.addTask { await execute(job) }
                            running += 1
                        }
                    } catch {
                        // The database is busy or unreachable: wait for the next poll rather than spin.
                        logger.error("claiming jobs failed", metadata: ["error": "\(error)"])
                    }
                }
                if stopping && running == 0 { break }
                if !stopping && !waiting {
                    // Only the idle wait is cut short by shutdown; jobs in hand always finish.
                    group.addTask { [wakesOnCommit] in
                        _ = try? await cancelWhenGracefulShutdown {
                            if wakesOnCommit { await arrivals.wait(upTo: pollInterval) } else { try await Task.sleep(for: pollInterval) }
                        }
                        return nil
                    }
                    waiting = true
                }
                guard let finished = await group.next() else { break }
                if finished == nil { waiting = false } else { running -= 1 }
            }
            group.cancelAll()
        }
        logger.info("job runner stopped", metadata: ["owner": "\(owner)"])
    }

    /// Claims up to `limit` due jobs, runs them concurrently and records each outcome.
    public func runOnce(limit: Int) async throws -> JobRunSummary {
        let jobs = try await queue.claim(owner: owner, lease: lease, limit: limit)
        var summary = JobRunSummary()
        summary.claimed = jobs.count
        guard !jobs.isEmpty else { return summary }
        await withTaskGroup(of: Outcome.self) { group in
            for job in jobs { group.addTask { await execute(job) } }
            for await outcome in group {
                switch outcome {
                case .succeeded: summary.succeeded += 1
                case .retrying: summary.retrying += 1
                case .dead: summary.dead += 1
                case .leaseLost: summary.leaseLost += 1
                case .abandoned: break
                }
            }
        }
        return summary
    }

    private enum Outcome { case succeeded, retrying, dead, leaseLost, abandoned }

    private func execute(_ job: Job) async -> Outcome {
        let result: Result<Void, any Error>
        if let handler = registry.handler(for: job.kind) {
            result = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
                group.addTask {
                    do { return .success(try await handler(job)) } catch { return .failure(error) }
                }
                group.addTask {
                    await keepLease(job)
                    return nil
                }
                var result: Result<Void, any Error> = .success(())
                for await finished in group {
                    guard let finished else { continue }  // renewal ended first (lease lost)
                    result = finished
                    group.cancelAll()
                }
                return result
            }
        } else {
            result = .failure(UnknownJobKind(kind: job.kind))
        }
        // Cancelled (the process is stopping hard): record nothing; the lease expires and the job
        // is taken again.
        if Task.isCancelled { return .abandoned }
        do {
            return try await record(job, result)
        } catch {
            logger.error(
                "recording a job's outcome failed; it will run again when its lease expires",
                metadata: metadata(job, ["error": "\(error)"]))
            return .abandoned
        }
    }

    private func record(_ job: Job, _ result: Result<Void, any Error>) async throws -> Outcome {
        switch result {
        case .success:
            guard try await queue.complete(id: job.id, owner: owner) else {
                logger.warning("job finished after its lease was lost; not recorded", metadata: metadata(job))
                return .leaseLost
            }
            logger.debug("job done", metadata: metadata(job))
            return .succeeded
        case .failure(let error):
            let message = (error as? SoukError)?.description ?? String(describing: error)
            switch try await queue.fail(id: job.id, owner: owner, error: message) {
            case .retry(let at):
                logger.warning(
                    "job failed; will retry",
                    metadata: metadata(job, ["error": "\(message)", "retry_at": "\(Timestamp.rfc3339(at))"]))
                return .retrying
            case .dead:
                logger.error("job failed on its last attempt; now dead", metadata: metadata(job, ["error": "\(message)"]))
                return .dead
            case .leaseLost:
                logger.warning(
                    "job failed after its lease was lost; not recorded", metadata: metadata(job, ["error": "\(message)"]))
                return .leaseLost
            }
        }
    }

    /// Renews the lease every third of its length until cancelled or lost.
    private func keepLease(_ job: Job) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(lease / 3)) } catch { return }
            do {
                if try await !queue.renewLease(id: job.id, owner: owner, lease: lease) {
                    logger.warning("job lease lost to another worker", metadata: metadata(job))
                    return
                }
            } catch {
                // Keep trying: the lease still has two thirds of its time.
                logger.warning("renewing a job lease failed", metadata: metadata(job, ["error": "\(error)"]))
            }
        }
    }

    private func metadata(_ job: Job, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "job_id": "\(job.id)", "kind": "\(job.kind)", "attempt": "\(job.attempts)/\(job.maxAttempts)",
        ]
        metadata.merge(extra) { _, new in new }
        return metadata
    }
}
