import ArgumentParser
import Foundation
import Logging
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukMail
import SoukOrders
import SoukRuntime

extension JobState: ExpressibleByArgument {}

/// The operator's view of the job queue, as plain functions the commands and tests share.
enum JobsAdmin {
    static func render(_ jobs: [Job], json: Bool) -> String {
        if json {
            return TableOutput.json(
                jobs.map { job in
                    [
                        "id": .string(job.id), "kind": .string(job.kind), "state": .string(job.state.rawValue),
                        "attempts": .number(Double(job.attempts)), "max_attempts": .number(Double(job.maxAttempts)),
                        "run_at": .string(Timestamp.rfc3339(job.runAt)),
                        "dedupe_key": job.dedupeKey.map(JSONValue.string) ?? .null,
                        "lease_owner": job.leaseOwner.map(JSONValue.string) ?? .null,
                        "last_error": job.lastError.map(JSONValue.string) ?? .null,
                        "created_at": .string(Timestamp.rfc3339(job.createdAt)),
                    ]
                })
        }
        return TableOutput.text(
            headers: ["ID", "KIND", "STATE", "ATTEMPTS", "RUN AT", "LAST ERROR"],
            rows: jobs.map { job in
                [
                    job.id, job.kind, job.state.rawValue, "\(job.attempts)/\(job.maxAttempts)",
                    Timestamp.rfc3339(job.runAt), String((job.lastError ?? "").prefix(80)),
                ]
            })
    }

    static func describe(_ summary: JobRunSummary) -> String {
        "ran \(summary.claimed) job(s): \(summary.succeeded) done, \(summary.retrying) to retry, \(summary.dead) dead"
            + (summary.leaseLost > 0 ? ", \(summary.leaseLost) taken over by another worker" : "")
    }
}

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Inspect and run the background job queue.",
        subcommands: [List.self, Retry.self, Run.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, most recently changed first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this state: queued, running, done or dead.") var state: JobState?
        @Option(help: "At most this many jobs.") var limit = 100
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let (_, _, database) = try global.open()
            let jobs = try await reportingErrors { try await JobQueue(database: database).jobs(state: state, limit: limit) }
            print(JobsAdmin.render(jobs, json: json))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a dead (or waiting) job to run now, with its attempts reset.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job id (job_…).") var id: String

        func run() async throws {
            let (_, _, database) = try global.open()
            let job = try await reportingErrors { try await JobQueue(database: database).retry(id: id) }
            print("queued \(job.id) (\(job.kind)) to run now")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the jobs that are due once, in this process, then exit (safe while `souk serve` runs).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "At most this many jobs.") var limit = 100

        func run() async throws {
            let (runtime, _) = try await global.runtime()
            let runner = runtime.jobRunner(concurrency: limit)
            let summary = try await reportingErrors { try await runner.runOnce(limit: limit) }
            print(JobsAdmin.describe(summary))
        }
    }
}
