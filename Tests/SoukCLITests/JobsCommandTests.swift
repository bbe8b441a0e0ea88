import Foundation
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukRuntime
import Testing

@testable import SoukCLI

@Suite("souk jobs")
struct JobsCommandTests {
    /// A data folder and a config file pointing at it, as an operator would have.
    func makeStore() throws -> (config: String, data: DataDirectory) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("souk-jobs-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = DataDirectory(root.appendingPathComponent("data").path)
        _ = try data.prepare()
        let config = root.appendingPathComponent("souk.toml").path
        try "[storage]\ndata_dir = \"\(data.path)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        return (config, data)
    }

    @Test("jobs run runs the due jobs once; jobs retry requeues a dead one")
    func runAndRetry() async throws {
        let (config, data) = try makeStore()
        let queue = JobQueue(database: try data.openDatabase())
        let noop = try await queue.enqueue(kind: "noop", payload: [String: String]())
        let unknown = try await queue.enqueue(kind: "no_such_kind", payload: [String: String](), maxAttempts: 1)

        let run = try JobsCommand.Run.parse(["--config", config])
        try await run.run()
        #expect(try await queue.job(id: noop)?.state == .done)
        let dead = try #require(try await queue.job(id: unknown))
        #expect(dead.state == .dead)
        #expect(dead.lastError == "no handler is registered for job kind 'no_such_kind'")

        let retry = try JobsCommand.Retry.parse(["--config", config, unknown])
        try await retry.run()
        let requeued = try #require(try await queue.job(id: unknown))
        #expect(requeued.state == .queued && requeued.attempts == 0)

        let list = try JobsCommand.List.parse(["--config", config, "--state", "queued", "--json"])
        try await list.run()
        #expect(throws: (any Error).self) { try JobsCommand.List.parse(["--state", "sleeping"]) }
    }

    @Test("jobs list shows each job's state, attempts and last error, as a table or JSON")
    func render() async throws {
        let (_, data) = try makeStore()
        let queue = JobQueue(database: try data.openDatabase())
        let id = try await queue.enqueue(kind: "email", payload: ["to": "a@example.com"], dedupeKey: "receipt:1")
        _ = try await queue.claim(owner: "w", lease: 60, limit: 1)
        try await queue.fail(id: id, owner: "w", error: "connection refused")
        let jobs = try await queue.jobs()

        let table = JobsAdmin.render(jobs, json: false)
        #expect(table.hasPrefix("ID"))
        #expect(table.contains(id) && table.contains("queued") && table.contains("1/10") && table.contains("connection refused"))
        let json = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(JobsAdmin.render(jobs, json: true).utf8))
        #expect(json.first?["id"] == .string(id))
        #expect(json.first?["dedupe_key"] == .string("receipt:1"))
        #expect(json.first?["last_error"] == .string("connection refused"))
        #expect(
            await SoukRuntime(settings: Settings(), database: queue.database, secretKey: Array(repeating: 7, count: 32)).jobs.kinds
                == ["auto_refund", "confirm_payment", "email", "file_update_notice", "fulfil", "mismatch_refund", "noop", "order_expiry", "seller_webhook", "test_webhook",
                ])
    }
}
