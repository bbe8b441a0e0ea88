import Logging
import ServiceLifecycle
import SoukDatabase
import Synchronization

/// Beside the server (a Service): the database's checkpoints, off the writer (`WALCheckpoints`
/// says why), every `interval` while this process writes, and once more when the server stops.
final class CheckpointService: Service, Sendable {
    private let checkpoints: WALCheckpoints
    private let interval: Duration
    private let logger: Logger
    /// Whether the operator was told the WAL is held (told again only after it was let go).
    private let warned = Atomic<Bool>(false)

    init(database: AppDatabase, interval: Duration = .milliseconds(100), logger: Logger) {
        self.checkpoints = WALCheckpoints(database: database)
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        do {
            try await checkpoints.start()
        } catch {
            logger.error(
                "checkpoints stay on the writer: the checkpointing connection could not be opened",
                metadata: ["error": "\(error)"])
            return
        }
        await repeatUntilShutdown(every: interval) { await checkpoint() }
        do {
            try await checkpoints.stop()
        } catch {
            logger.error(
                "the writer did not get its automatic checkpoints back; the WAL is checkpointed when the store closes",
                metadata: ["error": "\(error)"])
        }
    }

    private func checkpoint() async {
        do {
            guard let (pages, copied) = try await checkpoints.checkpointIfWritten() else { return }
            let held = pages - copied > 100_000
            if held, !warned.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "the database's WAL holds \(pages - copied) pages not yet copied back: a long read (an export, a sqlite3 shell left open) holds them, and the file grows until it ends",
                    metadata: ["wal": "\(checkpoints.walPath)"])
            } else if !held {
                warned.store(false, ordering: .relaxed)
            }
        } catch {
            logger.debug("checkpoint postponed to the next tick", metadata: ["error": "\(error)"])
        }
    }
}
